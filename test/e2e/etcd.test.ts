import { beforeAll, describe, expect, it } from 'vitest';
import { labHeal, labPartition } from '../../src/lab/index.js';
import { waitFor } from '../support/cluster.js';
import { apply, changedTasks, freshLab, onHost, totalChanged } from '../support/lab.js';

/** These tests are about the engine and etcd: they run the certificates and etcd phases only. */
const applyEtcd = (options: Parameters<typeof apply>[0] = {}) =>
  apply({ tags: ['certificates', 'etcd'], ...options });

const ETCDCTL =
  'ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/etcd/pki/ca.crt --cert=/etc/etcd/pki/$(hostname).crt --key=/etc/etcd/pki/$(hostname).key';

async function clusterHealth(host = 'pg1'): Promise<{ endpoint: string; health: boolean }[]> {
  return JSON.parse(await onHost(host, `${ETCDCTL} endpoint health --cluster -w json`)) as {
    endpoint: string;
    health: boolean;
  }[];
}

describe('etcd on the lab, from bare hosts', () => {
  beforeAll(async () => {
    await freshLab(3);
  });

  it('apply --tags etcd builds a 3-member TLS cluster with client-certificate auth', async () => {
    const run = await apply({ tags: ['etcd'] });
    expect(run.failed).toBe(false);
    expect(Object.keys(run.recap)).toEqual(['pg1', 'pg2', 'pg3']);
    // --tags etcd runs no task from the certificates phase.
    expect(run.events.some((e) => e.type === 'phase-start' && e.phase === 'certificates')).toBe(false);
    // etcd was started after its configuration was written: the restart handler coalesces into that start.
    expect(changedTasks(run).filter((t) => t.endsWith('restart etcd'))).toEqual([]);
    expect(run.events).toContainEqual(
      expect.objectContaining({
        type: 'task-result',
        host: 'pg1',
        task: 'restart etcd',
        status: 'ok',
        handler: true,
      }),
    );
    const health = await clusterHealth();
    expect(health.map((h) => [h.endpoint, h.health]).sort()).toEqual([
      ['https://10.231.0.11:2379', true],
      ['https://10.231.0.12:2379', true],
      ['https://10.231.0.13:2379', true],
    ]);
    // Without a client certificate the cluster refuses to talk.
    await expect(
      onHost(
        'pg2',
        'ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/etcd/pki/ca.crt endpoint health',
      ),
    ).rejects.toThrow();
    // One cluster ID across members, and Debian's default single-node data was never created.
    const ids = await Promise.all(
      ['pg1', 'pg2', 'pg3'].map((h) => onHost(h, `${ETCDCTL} endpoint status -w json`)),
    );
    expect(
      new Set(
        ids.map(
          (j) =>
            (JSON.parse(j) as { Status: { header: { cluster_id: number } } }[])[0]?.Status.header.cluster_id,
        ),
      ).size,
    ).toBe(1);
    expect(await onHost('pg1', 'test -e /var/lib/etcd/default && echo yes || echo no')).toBe('no\n');
  });

  it('a second apply reports 0 changed on every host', async () => {
    const run = await applyEtcd();
    expect(run.failed).toBe(false);
    const again = await applyEtcd();
    expect(changedTasks(again)).toEqual([]);
    for (const r of Object.values(again.recap)) expect(r.changed).toBe(0);
  });

  it('--check reports exactly the change a variable makes, and changes nothing', async () => {
    const before = await onHost(
      'pg1',
      'sha256sum /etc/default/etcd; systemctl show -p ActiveEnterTimestampMonotonic etcd',
    );
    const check = await applyEtcd({ check: true, diff: true, extraVars: { etcd_election_timeout_ms: 1500 } });
    expect(check.failed).toBe(false);
    expect(changedTasks(check).sort()).toEqual(
      ['pg1', 'pg2', 'pg3'].flatMap((h) => [`${h}: etcd configuration`, `${h}: restart etcd`]).sort(),
    );
    const diff = check.events.find((e) => e.type === 'task-result' && e.diff)?.type === 'task-result';
    expect(diff).toBe(true);
    const diffText = check.events.flatMap((e) =>
      e.type === 'task-result' && e.diff ? [e.diff.text] : [],
    )[0];
    expect(diffText).toContain('-ETCD_ELECTION_TIMEOUT="1000"');
    expect(diffText).toContain('+ETCD_ELECTION_TIMEOUT="1500"');
    expect(
      await onHost(
        'pg1',
        'sha256sum /etc/default/etcd; systemctl show -p ActiveEnterTimestampMonotonic etcd',
      ),
    ).toBe(before);

    const real = await applyEtcd({ extraVars: { etcd_election_timeout_ms: 1500 } });
    expect(changedTasks(real).sort()).toEqual(changedTasks(check).sort());
    expect(await onHost('pg2', 'grep ELECTION /etc/default/etcd')).toBe('ETCD_ELECTION_TIMEOUT="1500"\n');
    // The restart handler rolls (throttle: 1): no two members were down at once. Lab hosts share this
    // machine's kernel, so their monotonic clocks compare.
    const downtimes = await Promise.all(
      ['pg1', 'pg2', 'pg3'].map(async (h) => {
        const out = await onHost(
          h,
          'systemctl show -p ActiveExitTimestampMonotonic -p ActiveEnterTimestampMonotonic etcd',
        );
        const get = (k: string) => Number(new RegExp(`${k}=(\\d+)`).exec(out)?.[1]);
        return [get('ActiveExitTimestampMonotonic'), get('ActiveEnterTimestampMonotonic')] as const;
      }),
    );
    const sorted = [...downtimes].sort((a, b) => a[0] - b[0]);
    for (let k = 1; k < sorted.length; k++) {
      expect(sorted[k]?.[0]).toBeGreaterThan(sorted[k - 1]?.[1] as number);
    }
    expect((await clusterHealth('pg3')).every((h) => h.health)).toBe(true);
    expect(totalChanged(await applyEtcd({ extraVars: { etcd_election_timeout_ms: 1500 } }))).toBe(0);
  });

  it('a stopping leader hands the leadership to a member that answers, not to one just cut off', async () => {
    const hosts = ['pg1', 'pg2', 'pg3'];
    const leads = async (h: string) => {
      const [s] = JSON.parse(await onHost(h, `${ETCDCTL} endpoint status -w json`)) as {
        Status: { header: { member_id: number }; leader: number };
      }[];
      return s?.Status.leader === s?.Status.header.member_id;
    };
    const flags = await Promise.all(hosts.map(leads));
    const leader = hosts[flags.indexOf(true)]!;
    const [cut, heir] = hosts.filter((h) => h !== leader) as [string, string];
    const since = (await onHost(leader, 'date +%s')).trim();
    // etcd itself hands over to the peer connected longest: the one cut off a moment ago, which hung its stop
    // (and left the cluster leaderless) until systemd killed it.
    await labPartition(cut);
    try {
      await onHost(leader, 'sudo systemctl restart etcd');
      const said = await onHost(
        leader,
        `sudo journalctl -u etcd -o cat --no-pager --since @${since} | grep '^pgprov:' || true`,
      );
      expect(said).toContain(`pgprov: handed the etcd leadership to ${heir} before stopping`);
      // A member that answers leads afterwards. The heir itself may not: while the old leader's etcd stops
      // (sometimes until TimeoutStopSec, with a peer cut off) the heir is alone, steps down (check-quorum), and the
      // two elect again once the old one is back (seen in CI: 4 runs of 9 slow, 1 with the old leader elected).
      await waitFor(
        'a member that answers to lead',
        async () => (await leads(heir)) || (await leads(leader)),
        (ok) => ok,
        30_000,
      );
    } finally {
      await labHeal(cut);
    }
    await waitFor(
      'every etcd member healthy again',
      () => clusterHealth(heir),
      (h) => h.length === 3 && h.every((x) => x.health),
      60_000,
    );
  });
});
