import { until } from '../core/until.js';
import type { DrillCluster } from '../drill/lab.js';
import { longestRefusal, lostWrites, startWriter } from '../drill/writer.js';
import { labStart, labStop } from '../lab/index.js';

const running = (s: string): boolean => s === 'running' || s === 'streaming';

export interface DrillResult {
  /** Longest time between two acknowledged writes through the VIP. */
  refusedSeconds: number;
  /** Acknowledged writes missing afterwards. */
  lost: number;
  acknowledged: number;
  from: string;
  to: string;
}

/** Every member running and one leader; returns the leader. */
async function settled(cluster: DrillCluster, hosts: readonly string[], via: string): Promise<string> {
  const members = await until(
    'one leader and every member running',
    () => cluster.members(via),
    (m) =>
      m.length === hosts.length && m.every((x) => running(x.State)) && m.some((x) => x.Role === 'Leader'),
    300_000,
  );
  return members.find((m) => m.Role === 'Leader')?.Member as string;
}

/**
 * Writes through the VIP while `fault` runs, until a member other than `leader` has acknowledged 20 writes;
 * then counts what was refused and what was lost.
 */
async function underWrites(
  cluster: DrillCluster,
  table: string,
  leader: string,
  address: (host: string) => string,
  fault: () => Promise<void>,
): Promise<{ refusedSeconds: number; lost: number; acknowledged: number; to: string }> {
  await cluster.writesTable(table);
  const writer = startWriter(() => cluster.connect(5000, 'app', { connectMs: 2_000, queryMs: 5_000 }), table);
  try {
    // What the writer saw so far, small enough to print when a wait times out.
    const seen = async () => ({
      acknowledged: writer.writes.filter((x) => x.ok).length,
      byAnother: writer.writes.filter((x) => x.ok && x.server !== address(leader)).length,
      lastError: writer.writes.filter((x) => !x.ok).at(-1)?.error,
    });
    await until('writes on the leader', seen, (w) => w.acknowledged >= 20);
    await fault();
    await until('writes acknowledged by a new leader', seen, (w) => w.byAnother >= 20, 180_000);
  } finally {
    await writer.stop();
  }
  const writes = writer.writes;
  const present = await cluster.presentIds(table);
  const last = writes.filter((w) => w.ok).at(-1)?.server ?? '';
  return {
    refusedSeconds: longestRefusal(writes).seconds,
    lost: lostWrites(writes, present).length,
    acknowledged: writes.filter((w) => w.ok).length,
    to: last,
  };
}

/** A planned switchover with patronictl, writes running. */
export async function switchoverDrill(
  cluster: DrillCluster,
  hosts: readonly string[],
  address: (host: string) => string,
): Promise<DrillResult> {
  const leader = await settled(cluster, hosts, hosts[0] as string);
  const r = await underWrites(cluster, 'bench_switchover', leader, address, async () => {
    await cluster.onHost(
      leader,
      `sudo patronictl -c /etc/patroni/config.yml switchover --leader ${leader} --force`,
    );
  });
  await settled(cluster, hosts, leader);
  return { ...r, from: leader, to: hostOf(hosts, address, r.to) };
}

/** The leader host's power is cut (`lab stop --hard`); then it is booted again and must rejoin. */
export async function failoverDrill(
  cluster: DrillCluster,
  hosts: readonly string[],
  address: (host: string) => string,
): Promise<DrillResult & { rejoinSeconds: number }> {
  const leader = await settled(cluster, hosts, hosts[0] as string);
  const other = hosts.find((h) => h !== leader) as string;
  const r = await underWrites(cluster, 'bench_failover', leader, address, async () => {
    await labStop(leader, { hard: true });
  });
  const started = Date.now();
  await labStart(leader);
  await until(
    `${leader} to rejoin as a running replica`,
    () => cluster.members(other),
    (m) => {
      const tl = m.find((x) => x.Role === 'Leader')?.TL;
      const old = m.find((x) => x.Member === leader);
      return old !== undefined && old.Role !== 'Leader' && running(old.State) && old.TL === tl;
    },
    300_000,
  );
  return {
    ...r,
    from: leader,
    to: hostOf(hosts, address, r.to),
    rejoinSeconds: (Date.now() - started) / 1000,
  };
}

const hostOf = (hosts: readonly string[], address: (h: string) => string, addr: string): string =>
  hosts.find((h) => address(h) === addr) ?? addr;
