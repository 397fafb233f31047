import { assess } from '../cluster/health.js';
import { sh } from '../core/command.js';
import { portOpen } from '../core/port.js';
import { IncompleteError, UsageError } from '../core/errors.js';
import { until } from '../core/until.js';
import { recordPromotion } from '../standby/promotion.js';
import { unregisterStandby } from '../standby/repository.js';
import { loadUpstream } from '../standby/upstream.js';
import type { Confirm, Session } from './session.js';
import { MEMBERS_ONLY, readCluster } from './status.js';
import { PATRONI_CONFIG } from './switchover.js';

export interface PromoteResult {
  cluster: string;
  leader: string;
  timeline?: number;
  /** The record left in the primary's state folder, which its `status` reports. */
  record?: string;
}

/**
 * Turns a standby cluster into an independent, writable one: its standby leader stops following the primary and
 * is promoted (Patroni, once `standby_cluster` is gone from the DCS), its replicas follow it on the new timeline.
 * Says first what it will do, how far behind the primary the standby is, and whether the primary still answers
 * (then both clusters would take writes), and asks for confirmation. Ends when writes through this cluster's
 * virtual IP are taken.
 */
export async function promote(
  session: Session,
  options: { inventoryFile: string; confirm: Confirm; progress: (message: string) => void },
): Promise<PromoteResult> {
  const { progress } = options;
  const before = assess(await readCluster(session), MEMBERS_ONLY, options.inventoryFile);
  const cluster = session.clusterName;
  if (!before.standby) {
    throw new UsageError(
      before.leader
        ? `${cluster} is not a standby cluster: its leader ${before.leader} already takes writes`
        : `${cluster} has no standby leader to promote: ${before.problems.map((p) => p.message).join('; ') || 'no leader'}`,
      { hint: `\`pgprov status ${options.inventoryFile}\` shows the cluster; nothing was changed` },
    );
  }
  const leader = before.leader as string;
  const upstream = await loadUpstream(session.inventory);
  const from = before.standby.upstream ?? `${upstream?.host ?? '?'}:${upstream?.port ?? '?'}`;
  const answers = await reachable(from);
  const vip = session.setting('cluster_vip');
  const behind =
    before.standby.receiver === 'streaming'
      ? `${before.standby.behindBytes ?? 0} bytes behind the primary's last word, heard ${(before.standby.silentSeconds ?? 0).toFixed(1)} s ago`
      : `NOT receiving from it (${before.standby.receiver}): writes the primary made since it last received are not here`;
  await options.confirm(
    [
      `Promote the standby cluster ${cluster}:`,
      `  - its leader ${leader} stops following ${from} (${behind}) and takes writes, on a new timeline;`,
      `  - its other members follow ${leader}; writes go through ${typeof vip === 'string' ? `its virtual IP ${vip}` : 'its balancers'}.`,
      answers
        ? `  - WARNING: the primary (${upstream?.clusterName ?? from}) still answers on ${from} (from this machine). It is not touched: if its clients go on writing there, the two clusters diverge. Stop them first.`
        : `  - the primary (${upstream?.clusterName ?? from}) does not answer on ${from}; it is not touched.`,
      '  This cannot be undone by pgprov: to follow the primary again, this cluster is rebuilt from it.',
    ],
    cluster,
  );
  const members = session.group('postgres_cluster').map((h) => h.name);
  await session.lock(members);
  progress(`removing standby_cluster from ${cluster}'s settings in etcd (patronictl on ${leader})`);
  await session.run(
    leader,
    sh`patronictl -c ${PATRONI_CONFIG} edit-config --force --quiet --apply -`,
    'patronictl edit-config: remove standby_cluster',
    { stdin: '{"standby_cluster": null}\n' },
  );
  let after: Awaited<ReturnType<typeof waitForPrimary>>;
  try {
    after = await waitForPrimary(session, leader, options.inventoryFile, progress);
  } catch (error) {
    throw new IncompleteError(
      `standby_cluster was removed from ${cluster}'s settings, but the promotion did not complete: ${(error as Error).message}`,
      {
        hint: `\`pgprov status ${options.inventoryFile}\` shows where it stands; \`sudo journalctl -u patroni\` on ${leader} says why`,
      },
    );
  }
  const record = upstream?.inventory
    ? await recordPromotion(upstream.inventory.stateDir, {
        cluster,
        inventory: session.inventory.file,
        at: new Date().toISOString(),
        ...(typeof vip === 'string' ? { vip } : {}),
      })
    : undefined;
  // It reads no more WAL from the primary's repository: the primary's next apply withdraws its access.
  if (upstream?.inventory) await unregisterStandby(upstream.inventory.stateDir, cluster);
  return {
    cluster,
    leader: after.leader as string,
    ...(after.timeline !== undefined ? { timeline: after.timeline } : {}),
    ...(record ? { record } : {}),
  };
}

/** Until the standby leader runs as the primary and a transaction through the virtual IP gets a transaction id. */
async function waitForPrimary(
  session: Session,
  leader: string,
  inventoryFile: string,
  progress: (message: string) => void,
) {
  progress(`waiting for ${leader} to lead as a primary`);
  const ttl = Number(session.setting('patroni_ttl') ?? 30);
  const after = await until(
    `${leader} to run as the primary`,
    async () => assess(await readCluster(session, 'members'), MEMBERS_ONLY, inventoryFile),
    (a) => a.leader !== undefined && !a.standby && a.members.some((m) => m.role === 'leader'),
    Math.max(120, ttl * 4) * 1000,
  );
  progress('waiting for a writable transaction through the virtual IP');
  const port = Number(session.setting('haproxy_primary_port') ?? 5000);
  await until(
    'a writable transaction through the virtual IP',
    async () => {
      const client = await session.client(port, 'app', { connectMs: 3_000, queryMs: 5_000 });
      try {
        // A transaction id is only ever assigned by a server that takes writes.
        await client.query('SELECT pg_current_xact_id()');
        return true;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    (ok) => ok,
    60_000,
  );
  return after;
}

/** Whether a TCP connection to `host:port` opens within 3 s (the primary's replication port). */
function reachable(address: string): Promise<boolean> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i);
  const port = Number(address.slice(i + 1));
  if (!host || !Number.isInteger(port)) return Promise.resolve(false);
  return portOpen(host, port, 3_000);
}
