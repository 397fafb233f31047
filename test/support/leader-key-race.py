# Replays, against a lab host's real etcd and its installed Patroni, what an old leader does when a partition
# heals: its cached view of the cluster still says it leads, its etcd lease is gone, and another member holds the
# leader key. Run as postgres on a PostgreSQL host: python3 leader-key-race.py guarded|unguarded
# Prints one JSON object. Uses its own keys (namespace /pgprov-guard-test/), never the cluster's.
import base64
import importlib.machinery
import json
import os
import sys

import yaml
from patroni.dcs.etcd3 import Etcd3, base64_encode
from patroni.version import __version__

mode = sys.argv[1]
if mode == 'guarded':
    loader = importlib.machinery.SourceFileLoader('guard', '/usr/local/sbin/pgprov-patroni-guarded')
    loader.load_module().install()

with open('/etc/patroni/config.yml') as f:
    etcd3 = yaml.safe_load(f)['etcd3']


def member(name):
    config = dict(etcd3, scope='race-' + mode, namespace='/pgprov-guard-test/', name=name)
    return Etcd3(dict(config, ttl=20, loop_wait=5, retry_timeout=5))


old, new = member('old'), member('new')
leader_key = old.leader_path


def holder():
    kvs = old._client.call_rpc('/kv/range', {'key': base64_encode(leader_key)}).get('kvs', [])  # linearizable
    return {'name': base64.b64decode(kvs[0]['value']).decode(), 'lease': kvs[0].get('lease')} if kvs else None


out = {'patroni': __version__}
try:
    # "old" leads, and caches that view of the cluster.
    assert old.attempt_to_acquire_leader(), 'old could not take the free leader key'
    assert old.get_cluster().leader.name == 'old'
    # Cut off longer than the ttl: its lease ends (and with it the key); "new" is elected meanwhile.
    old._client.call_rpc('/lease/revoke', {'ID': old._lease})
    assert new.attempt_to_acquire_leader(), 'new could not take the freed leader key'
    # The partition heals: old renews the key from its stale view.
    out['stale_renewal'] = bool(old._update_leader())
    out['holder_after_stale_renewal'] = holder()

    # Its own key, with a lease it has since replaced (what a ttl change does): renewing must still work.
    old._client.deleterange(leader_key)
    assert old.attempt_to_acquire_leader(), 'old could not take the leader key back once it was free'
    old.get_cluster()
    old._lease = old._client.lease_grant(20)
    out['own_key_new_lease'] = bool(old._update_leader())
    out['own_key_lease_now'] = (holder() or {}).get('lease') == old._lease
finally:
    old._client.deleteprefix(old.client_path(''))
    print(json.dumps(out), flush=True)
    os._exit(0)  # the watcher threads would keep the process alive
