#!/usr/bin/python3
# Managed by pgprov (roles/patroni): changes here are replaced on the next apply.
#
# Starts Patroni with one fix its Debian 12 release (3.0.2) lacks: the leader never takes a leader key another
# member holds.
#
# Patroni 3.0.2's etcd3 client renews the leader key from its cached view of the cluster. When that view says "I
# lead" but the member's etcd lease is gone (its host was cut off for longer than the ttl), it writes the key
# unconditionally with a new lease. After a partition heals, that cache is still the one from before the cut:
# the old leader overwrites the key of the leader the others elected meanwhile, promotes itself, and the new
# leader demotes: every write the new leader acknowledged is gone (seen on pgprov's lab in synchronous mode, 3 of
# 10 leader partitions). Patroni fixed it upstream in 3.0.3 (pull request 2689). Here the key is written only
# when it still names this member (an older lease of its own) or no longer exists; otherwise renewing fails,
# which Patroni handles as it handles any lost leader key: it does not promote, or it demotes, and follows the
# leader etcd names once its view is reloaded.
#
# Any other Patroni version runs unchanged (the guard says so in Patroni's log).
import logging
import sys
import time

logger = logging.getLogger('pgprov.guard')

GUARDED = ((3, 0, 0), (3, 0, 3))  # releases whose etcd3 client writes the leader key without comparing it


def _version(text):
    try:
        return tuple(int(p) for p in text.split('.')[:3])
    except ValueError:
        return None


def _guarded_update_leader(self):
    from patroni.dcs import Leader
    from patroni.dcs.etcd3 import Etcd3Error, base64_encode

    retry = self._retry.copy()

    def _retry(*args, **kwargs):
        kwargs['retry'] = retry
        return retry(*args, **kwargs)

    self._run_and_handle_exceptions(self._do_refresh_lease, True, retry=_retry)
    if not self._lease:
        return False

    cluster = self.cluster
    leader = cluster.leader if cluster and isinstance(cluster.leader, Leader) else None
    if leader and leader.session == self._lease:
        return True  # the key carries this lease: the keepalive above renewed it

    retry.deadline = retry.stoptime - time.time()
    if retry.deadline < 1:
        raise Etcd3Error('update_leader timeout')

    key = base64_encode(self.leader_path)
    still_mine = {'key': key, 'target': 'VALUE', 'result': 'EQUAL', 'value': base64_encode(self._name)}
    gone = {'key': key, 'target': 'CREATE', 'result': 'EQUAL', 'create_revision': '0'}
    for compare in (still_mine, gone):
        put = {'request_put': {'key': key, 'value': base64_encode(self._name), 'lease': self._lease}}
        if self._run_and_handle_exceptions(self._client.txn, compare, put, retry=_retry):
            return True

    logger.warning('pgprov guard: the leader key names another member now; %s does not take it', self._name)
    # The cached view that said "I lead" is stale: have the watcher read the cluster again.
    self._client._restart_watcher()
    return False


def _say(message):
    # Before Patroni sets up its logging: straight to the journal.
    print('pgprov guard: ' + message, file=sys.stderr, flush=True)


def install():
    """Replaces Etcd3._update_leader on the releases that need it. Returns whether it did."""
    from patroni.version import __version__ as version

    release = _version(version)
    if release is None or not GUARDED[0] <= release < GUARDED[1]:
        _say('Patroni %s compares the leader key itself: running it unchanged' % version)
        return False
    from patroni.dcs import catch_return_false_exception
    from patroni.dcs.etcd3 import Etcd3

    Etcd3._update_leader = catch_return_false_exception(_guarded_update_leader)
    _say('Patroni %s: the leader key is taken only while it names this member, or is gone' % version)
    return True


if __name__ == '__main__':
    from patroni.__main__ import main

    install()
    sys.argv[0] = 'patroni'
    sys.exit(main())
