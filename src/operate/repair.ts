import { sh } from '../core/command.js';
import { SafetyError, UsageError } from '../core/errors.js';
import { until } from '../core/until.js';
import { startPatroni, waitStreaming } from './member.js';
import type { Session } from './session.js';
import { readAssessment } from './status.js';

/** The guard `apply` installs with the patroni role (templates/patroni/preflight.sh.hbs). */
const PREFLIGHT = '/usr/local/sbin/pgprov-patroni-preflight';

export interface Trap {
  host: string;
  /** What the guard found, in its words. */
  found: string;
  kind: 'foreign-data' | 'stale-dcs';
}

export interface RepairPlan {
  traps: Trap[];
  leader?: string;
  /** What --force does, line by line. */
  actions: string[];
}

/**
 * Finds the two classic traps after a rebuild with the same guard `apply` runs before Patroni starts: a data
 * directory of another cluster ("system ID mismatch") while a leader runs, and a stale cluster record in etcd
 * that no member leads. Read-only.
 */
export async function findTraps(session: Session): Promise<RepairPlan> {
  const a = await readAssessment(session);
  const traps: Trap[] = [];
  for (const h of session.group('postgres_cluster')) {
    const r = await (await session.transport(h.name)).exec(sh`${PREFLIGHT} check`);
    if (r.code === 0) continue;
    if (r.code === 127) {
      throw new UsageError(
        `${h.name} has no ${PREFLIGHT}: the patroni phase of \`pgprov apply\` installs it`,
      );
    }
    const found = (r.stdout.trim() || r.stderr.trim()).split('\n').at(-1) ?? `exit ${r.code}`;
    if (!found.startsWith('system ID mismatch')) {
      throw new UsageError(`cannot check ${h.name}: ${session.masker.mask(found)}`);
    }
    traps.push({ host: h.name, found, kind: a.leader ? 'foreign-data' : 'stale-dcs' });
  }
  const data = String(session.setting('postgresql_data_dir'));
  const prefix = `/${String(session.setting('patroni_namespace'))}/${session.clusterName}/`.replace(
    /\/+/g,
    '/',
  );
  const actions = traps.some((t) => t.kind === 'stale-dcs')
    ? [
        `DELETE the cluster's keys in etcd (under ${prefix}): no member leads the cluster they describe;`,
        `then start Patroni on every member: the cluster starts again from the data directories on the hosts.`,
      ]
    : traps.map(
        (t) =>
          `${t.host}: MOVE its data directory aside to ${data}.foreign-<system id>-<time> (not deleted), then Patroni clones the leader ${a.leader ?? '?'} into a fresh one.`,
      );
  return { traps, ...(a.leader ? { leader: a.leader } : {}), actions };
}

/** Applies the plan: the guard's own fix on each host, then Patroni started and the result waited for. */
export async function repair(
  session: Session,
  plan: RepairPlan,
  progress: (message: string) => void,
): Promise<void> {
  const members = session.group('postgres_cluster').map((h) => h.name);
  await session.lock(members);
  if (plan.traps.some((t) => t.kind === 'stale-dcs')) {
    const first = plan.traps[0] as Trap;
    progress(`deleting the stale cluster record in etcd (from ${first.host})`);
    await session.run(first.host, sh`${PREFLIGHT} fix false true`, 'delete the stale cluster record in etcd');
    for (const m of members) {
      progress(`starting Patroni on ${m}`);
      await startPatroni(session, m);
    }
    const led = await until(
      'a leader',
      async () => await readAssessment(session),
      (a) => a.leader !== undefined,
      300_000,
    );
    progress(`${led.leader ?? '?'} leads`);
    for (const m of members.filter((x) => x !== led.leader))
      await waitStreaming(session, m, 30 * 60_000, progress);
    return;
  }
  for (const t of plan.traps) {
    progress(`${t.host}: moving the other cluster's data directory aside`);
    const r = await session.run(
      t.host,
      sh`${PREFLIGHT} fix true false`,
      'move the foreign data directory aside',
    );
    progress(`  ${r.stdout.trim().split('\n').at(-1) ?? ''}`);
    await startPatroni(session, t.host);
    await waitStreaming(session, t.host, 30 * 60_000, progress);
  }
}

/** The refusal without --force: the plan, and how to go ahead. */
export function refuseWithoutForce(inventoryFile: string): SafetyError {
  return new SafetyError('repair changes data (see above) and needs --force: nothing was changed', {
    hint: `run it again with --force to do what it says: pgprov repair ${inventoryFile} --force`,
  });
}
