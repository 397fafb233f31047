import { setTimeout as sleep } from 'node:timers/promises';
import { until } from '../core/until.js';
import type { DrillCluster, ListedMember, PostgresView } from './lab.js';
import { longestRefusal, lostWrites, startWriter, type Write } from './writer.js';

export interface QuorumLossOptions {
  /** How long etcd stays without quorum. */
  forMs: number;
  /**
   * How long after quorum is lost the leader may still acknowledge writes: until Patroni notices it cannot
   * renew its key and demotes it (about loop_wait + retry_timeout).
   */
  demoteWithinMs: number;
  table: string;
  progress?: (message: string) => void;
}

export interface QuorumLossResult {
  /** The etcd members stopped (every one but the leader's host's). */
  stopped: string[];
  leader: string;
  /** The leader once quorum is back. */
  leaderAfter: string | undefined;
  /** Writes acknowledged while etcd had no quorum, after the leader had time to notice. */
  acknowledgedWithoutQuorum: number;
  /** The longest time writes through the VIP were refused. */
  outageSeconds: number;
  acknowledged: number;
  /** Acknowledged writes the cluster no longer holds (unknown: no leader to read them). */
  lost: number[] | undefined;
  members: PostgresView[];
}

/**
 * etcd loses quorum: every etcd member but the one on the leader's host is stopped for `forMs`, then started
 * again, with a writer through the VIP. Without Patroni's failsafe mode the leader must stop taking writes once it
 * cannot renew its key; with it, it may go on while it reaches every member. Either way no acknowledged write may
 * be lost when quorum returns, and every member must stream again.
 */
export async function quorumLossDrill(
  cluster: DrillCluster,
  options: QuorumLossOptions,
): Promise<QuorumLossResult> {
  const say = options.progress ?? (() => undefined);
  const members = cluster.inventory.groups.postgres_cluster ?? [];
  const etcd = cluster.inventory.groups.etcd_cluster ?? [];
  const leaderOf = (m: ListedMember[]) => m.find((x) => x.Role === 'Leader')?.Member;
  const leader = leaderOf(await cluster.members(members[0] ?? 'pg1'));
  if (!leader) throw new Error('the cluster has no leader: nothing to drill');
  const stopped = etcd.filter((h) => h !== leader);
  if (stopped.length < etcd.length / 2)
    throw new Error('too few etcd members to lose quorum without the leader');

  await cluster.writesTable(options.table);
  const started = Date.now();
  const writer = startWriter(
    () => cluster.connect(5000, 'app', { connectMs: 2_000, queryMs: 5_000 }),
    options.table,
  );
  let writes: Write[] = [];
  let lostAt = 0;
  let backAt = 0;
  try {
    await until(
      'writes acknowledged before quorum is lost',
      async () => writer.writes,
      (w) => w.filter((x) => x.ok).length >= 20,
    );
    say(`stopping etcd on ${stopped.join(', ')}: no quorum for ${options.forMs / 1000} s`);
    lostAt = Date.now() - started;
    await Promise.all(stopped.map((h) => cluster.onHost(h, 'sudo systemctl stop etcd')));
    try {
      await sleep(options.forMs);
    } finally {
      backAt = Date.now() - started;
      await Promise.all(stopped.map((h) => cluster.onHost(h, 'sudo systemctl start etcd')));
    }
    say('quorum is back; waiting for a leader and every replica streaming');
    await until(
      'writes acknowledged again',
      async () => writer.writes.filter((w) => w.ok && w.answered > backAt).length,
      (n) => n >= 20,
      180_000,
    );
    await until(
      'every replica streaming',
      () => Promise.all(members.map((h) => cluster.postgresView(h))),
      (v) =>
        v.filter((m) => m.role === 'replica' && m.receiver === 'streaming').length === members.length - 1,
      180_000,
    );
  } finally {
    writes = await writer.stop();
  }
  const present = await cluster.presentIds(options.table).catch(() => undefined);
  return {
    stopped,
    leader,
    leaderAfter: leaderOf(await cluster.members(leader).catch(() => [])),
    acknowledgedWithoutQuorum: writes.filter(
      (w) => w.ok && w.sent > lostAt + options.demoteWithinMs && w.answered < backAt,
    ).length,
    outageSeconds: longestRefusal(writes).seconds,
    acknowledged: writes.filter((w) => w.ok).length,
    lost: present ? lostWrites(writes, present) : undefined,
    members: await Promise.all(members.map((h) => cluster.postgresView(h))),
  };
}
