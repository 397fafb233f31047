import { setTimeout as sleep } from 'node:timers/promises';
import { until } from '../core/until.js';
import type { DrillCluster, ListedMember, PostgresView } from './lab.js';
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
  /** The member cut off streams from the leader again (within rejoinTimeoutMs of the heal). */
  rejoined: boolean;
  /** The longest time writes through the VIP were refused. */
  outageSeconds: number;
  /**
   * Where a leader's outage went (s after the cut): the new leader's Patroni promoted it, HAProxy (on the host
   * the drill reads from) marked it up on the primary port (both from their journals), and the first write was
   * acknowledged after the outage. Undefined when the leader stayed or a journal did not say.
   */
  promotedAfterSeconds: number | undefined;
  routedAfterSeconds: number | undefined;
  writesBackAfterSeconds: number | undefined;
  /** The balancer holding the virtual IP at the cut, and (when that was the host cut off) when another took it. */
  vipHolder: string | undefined;
  vipMovedAfterSeconds: number | undefined;
  /** The host whose etcd member led the raft group at the cut (undefined: none answered). */
  etcdLeader: string | undefined;
  /** Bytes of WAL the leader wrote per acknowledged write before the cut (an upper bound), to size `lost` in WAL. */
  walPerWrite: number | undefined;
  /** Writes acknowledged, and those of them the cluster no longer holds (unknown: no leader to read them). */
  acknowledged: number;
  lost: number[] | undefined;
  /** Each member's timeline and its WAL receiver's status (PostgreSQL's view), after the drill. */
  members: PostgresView[];
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
  let rejoined = false;
  let cutAt = Date.now();
  let walPerWrite: number | undefined;
  let vipHolder: string | undefined;
  let etcdLeader: string | undefined;
  try {
    await until(
      'writes acknowledged before the cut',
      async () => writer.writes,
      (w) => w.filter((x) => x.ok).length >= 20,
    );
    // WAL the leader writes per acknowledged write (everything else it writes meanwhile included: an upper bound).
    const mark = async () => ({
      lsn: await cluster.onHost(leader, `sudo -u postgres psql -XAtc "SELECT pg_current_wal_lsn()"`),
      acked: writer.writes.filter((x) => x.ok).length,
    });
    const first = await mark();
    await sleep(3_000);
    const second = await mark();
    walPerWrite = await cluster
      .onHost(
        leader,
        `sudo -u postgres psql -XAtc "SELECT pg_wal_lsn_diff('${second.lsn.trim()}', '${first.lsn.trim()}')"`,
      )
      .then((bytes) => Math.ceil(Number(bytes) / Math.max(1, second.acked - first.acked)))
      .catch(() => undefined);
    vipHolder = await holderOf(cluster);
    etcdLeader = await cluster.etcdLeader();
    say(`cutting ${target}${target === leader ? ' (the leader)' : ''} off for ${options.forMs / 1000} s`);
    cutAt = Date.now();
    await network.cut(target);
    try {
      await sleep(options.forMs);
    } finally {
      await network.heal(target);
    }
    const healedAt = new Date().toISOString();
    say(`${target} is back; waiting for it to stream from the leader`);
    // A member that never streams again is a result (the benchmark counts it), not an error of the drill.
    // Streaming is read on the leader: a connection of the target's that replied since the heal. The target's
    // own WAL receiver can say "streaming" on a connection the leader ended during the cut (wal_sender_timeout)
    // until it notices, even after data queued before the cut arrived (the lab's hosts share this clock).
    const replied =
      `SELECT state FROM pg_stat_replication WHERE application_name = '${target}' ` +
      `AND reply_time > '${healedAt}'`;
    rejoined = await until(
      `${target} streaming again`,
      async () => {
        const now = leaderOf(await cluster.members(witness).catch(() => []));
        if (!now || now === target) return '';
        return cluster.onHost(now, `sudo -u postgres psql -XAtc "${replied}"`).catch(() => '');
      },
      (s) => s.trim() === 'streaming',
      options.rejoinTimeoutMs ?? 180_000,
    ).then(
      () => true,
      () => false,
    );
    await sleep(2_000);
  } finally {
    writes = await writer.stop();
  }

  const newLeader = leaderOf(await cluster.members(witness).catch(() => []));
  const outage = longestRefusal(writes);
  const moved = newLeader !== undefined && newLeader !== leader;
  // Without a writable leader (the Debian 12 failure) nothing can be read back: what was lost is unknown.
  const present = await cluster.presentIds(options.table).catch(() => undefined);
  return {
    cut: target,
    leader,
    newLeader,
    rejoined,
    outageSeconds: outage.seconds,
    walPerWrite,
    promotedAfterSeconds: moved
      ? await journalAfter(cluster, newLeader, '-u patroni', 'promoted self to leader', cutAt)
      : undefined,
    routedAfterSeconds: moved
      ? await journalAfter(cluster, witness, '-t haproxy', `postgres_primary/${newLeader} is UP`, cutAt)
      : undefined,
    writesBackAfterSeconds: moved ? (writer.startedAt + outage.to - cutAt) / 1000 : undefined,
    vipHolder,
    vipMovedAfterSeconds: vipHolder === target ? await vipMoved(cluster, target, cutAt) : undefined,
    etcdLeader,
    acknowledged: writes.filter((w) => w.ok).length,
    lost: present ? lostWrites(writes, present) : undefined,
    members: await Promise.all(hosts.map((h) => cluster.postgresView(h))),
  };
}

/** The balancer that holds the virtual IP now (undefined: none answers holding it). */
async function holderOf(cluster: DrillCluster): Promise<string | undefined> {
  const vip = cluster.inventory.hosts[0]?.vars.cluster_vip;
  if (typeof vip !== 'string') return undefined;
  for (const host of cluster.inventory.groups.balancers ?? []) {
    const out = await cluster
      .onHost(host, `ip -o -4 addr show | grep -cF ' ${vip}/' || true`)
      .catch(() => '0');
    if (Number(out.trim()) > 0) return host;
  }
  return undefined;
}

/** Seconds from the cut until another balancer's keepalived took the virtual IP (its journal). */
async function vipMoved(cluster: DrillCluster, cut: string, since: number): Promise<number | undefined> {
  const times = await Promise.all(
    (cluster.inventory.groups.balancers ?? [])
      .filter((h) => h !== cut)
      .map((h) => journalAfter(cluster, h, '-u keepalived', 'Entering MASTER STATE', since)),
  );
  const found = times.filter((t): t is number => t !== undefined);
  return found.length ? Math.min(...found) : undefined;
}

/** Seconds from `since` (epoch ms) to the first line of a host's journal (`-u unit` or `-t tag`) holding `text`. */
async function journalAfter(
  cluster: DrillCluster,
  host: string,
  selector: string,
  text: string,
  since: number,
): Promise<number | undefined> {
  const out = await cluster
    .onHost(
      host,
      `sudo journalctl ${selector} -o short-unix --no-pager --since @${Math.floor(since / 1000)} | grep -m1 -F '${text}'`,
    )
    .catch(() => '');
  const at = Number.parseFloat(out.trim().split(/\s+/)[0] ?? '');
  return Number.isFinite(at) ? Math.round((at * 1000 - since) / 100) / 10 : undefined;
}
