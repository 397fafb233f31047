import { expect } from 'vitest';
import type { DrillCluster } from '../../src/drill/lab.js';
import { waitFor } from './cluster.js';

/** The operators' etcdctl environment the etcd role installs. */
const ETCDCTL_ENV = '. /etc/profile.d/pgprov-etcdctl.sh';

/**
 * The worst case for a partition of the PostgreSQL leader's host: etcd's leader there too. Moves etcd's
 * leadership onto that host by hand, then waits for pgprov-etcd-leader-apart to hand it away again, and checks
 * that the service said so in its journal. Returns the host that leads etcd afterwards.
 */
export async function etcdLeaderMovedOffPostgresLeader(cluster: DrillCluster): Promise<string> {
  const hosts = cluster.inventory.groups.postgres_cluster ?? [];
  const leader = (await cluster.members(hosts[0] ?? 'pg1')).find((m) => m.Role === 'Leader')?.Member;
  if (!leader) throw new Error('the cluster has no leader');
  const since = (await cluster.onHost(leader, 'date +%s')).trim();
  const etcdLeader = await cluster.etcdLeader();
  if (etcdLeader !== leader) {
    // move-leader is served by the current etcd leader; member ids are hex in `member list`.
    const move = [
      `sudo sh -s <<'SH'`,
      ETCDCTL_ENV,
      `id=$(etcdctl member list -w simple | awk -F', ' '$3 == "${leader}" { print $1 }')`,
      'etcdctl move-leader "$id"',
      'SH',
    ].join('\n');
    await cluster.onHost(etcdLeader ?? leader, move);
  }
  const said = await waitFor(
    `pgprov-etcd-leader-apart on ${leader} to hand etcd's leadership away`,
    () =>
      cluster.onHost(
        leader,
        `sudo journalctl -u pgprov-etcd-leader-apart -o cat --no-pager --since @${since} | grep '^pgprov:' || true`,
      ),
    (out) => out.includes(`away from ${leader}: PostgreSQL's leader runs here`),
    30_000,
  );
  expect(said).toMatch(/^pgprov: handed the etcd leadership to pg\d+ away from/m);
  const now = await cluster.etcdLeader();
  expect(now).toBeDefined();
  expect(now).not.toBe(leader);
  return now as string;
}
