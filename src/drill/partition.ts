import { setTimeout as sleep } from 'node:timers/promises';
import { until } from '../core/until.js';
import type { DrillCluster, ListedMember } from './lab.js';
import { longestRefusal, lostWrites, startWriter, type Write } from './writer.js';

/** How the drill cuts a host off and plugs it back (the lab's `labPartition`/`labHeal`, or anything else). */
export interface Network {
  cut(host: string): Promise<void>;
  heal(host: string): Promise<void>;
}

export interface PartitionOptions {
  /** Whom to cut off: the leader (default), or a replica (the synchronous standby if there is one). */
  target?: 'leader' | 'replica';
  /** How long it stays cut off. */
  forMs: number;
  /** The writer's table (made empty first). */
  table: string;
  /** How long the old leader may take to stream again after the heal (default 180 s). */
  rejoinTimeoutMs?: number;
  progress?: (message: string) => void;
}

export interface PartitionResult {
  /** The member that was cut off. */
  cut: string;
  /** The leader before the drill. */
  leader: string;
  /** The leader after the drill (undefined: none was elected). */
  newLeader: string | undefined;
  /** The longest time writes through the VIP were refused, and when it began (s after the cut). */
  outageSeconds: number;
  /** Writes acknowledged, and those of them the cluster no longer holds. */
  acknowledged: number;
  lost: number[];
  /** Each member's timeline and its WAL receiver's status (PostgreSQL's view), after the drill. */
  members: { member: string; role: string; timeline: number | undefined; receiver: string }[];
}

/**
 * The partitions of issue 7, as one drill for the e2e tests and the benchmark: a writer numbers rows through the
 * VIP; the leader's (or a replica's) network is cut for `forMs`, then healed; the drill waits for the member cut
 * off to stream from the leader and reports the outage, the acknowledged writes that are gone, and every member's
 * timeline and WAL receiver as PostgreSQL reports them (not Patroni's "running").
 */
export async function partitionDrill(
  cluster: DrillCluster,
  network: Network,
  options: PartitionOptions,
): Promise<PartitionResult> {
  const say = options.progress ?? (() => undefined);
  const hosts = cluster.inventory.groups.postgres_cluster ?? [];
  const leaderOf = (m: ListedMember[]) => m.find((x) => x.Role === 'Leader')?.Member;
  const before = await cluster.members(hosts[0] ?? 'pg1');
  const leader = leaderOf(before);
  if (!leader) throw new Error('the cluster has no leader: nothing to partition');
  const target =
    options.target === 'replica'
      ? (before.find((x) => x.Role === 'Sync Standby') ?? before.find((x) => x.Role !== 'Leader'))?.Member
      : leader;
  if (!target) throw new Error('the cluster has no replica: nothing to partition');
  const witness = hosts.find((h) => h !== target) ?? target;

  await cluster.writesTable(options.table);
  const writer = startWriter(
    () => cluster.connect(5000, 'app', { connectMs: 2_000, queryMs: 5_000 }),
    options.table,
  );
  let writes: Write[] = [];
  try {
    await until(
      'writes acknowledged before the cut',
      async () => writer.writes,
      (w) => w.filter((x) => x.ok).length >= 20,
    );
    say(`cutting ${target}${target === leader ? ' (the leader)' : ''} off for ${options.forMs / 1000} s`);
    await network.cut(target);
    try {
      await sleep(options.forMs);
    } finally {
      await network.heal(target);
    }
    say(`${target} is back; waiting for it to stream from the leader`);
    await until(
      `${target} streaming again`,
      () =>
        cluster
          .onHost(target, `sudo -u postgres psql -XAtc "SELECT status FROM pg_stat_wal_receiver"`)
          .catch(() => ''),
      (s) => s.trim() === 'streaming',
      options.rejoinTimeoutMs ?? 180_000,
    );
    await sleep(2_000);
  } finally {
    writes = await writer.stop();
  }

  const newLeader = leaderOf(await cluster.members(witness));
  const present = await cluster.presentIds(options.table);
  return {
    cut: target,
    leader,
    newLeader,
    outageSeconds: longestRefusal(writes).seconds,
    acknowledged: writes.filter((w) => w.ok).length,
    lost: lostWrites(writes, present),
    members: await Promise.all(hosts.map((h) => memberView(cluster, h))),
  };
}

/** A member as PostgreSQL sees itself: primary or standby, its timeline, its WAL receiver. */
async function memberView(
  cluster: DrillCluster,
  member: string,
): Promise<PartitionResult['members'][number]> {
  // A leader's timeline is its current WAL file's; a replica's, the one its WAL receiver follows.
  const sql =
    "SELECT CASE WHEN pg_is_in_recovery() THEN 'replica' ELSE 'leader' END, " +
    'CASE WHEN pg_is_in_recovery() THEN (SELECT received_tli FROM pg_stat_wal_receiver) ' +
    "ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END, " +
    "coalesce((SELECT status FROM pg_stat_wal_receiver), '-')";
  const out = await cluster
    .onHost(member, `sudo -u postgres psql -XAtF' ' -c ${JSON.stringify(sql)}`)
    .catch(() => 'down');
  const [role = 'down', timeline, receiver = '-'] = out.trim().split(' ');
  return { member, role, timeline: Number(timeline) || undefined, receiver };
}
