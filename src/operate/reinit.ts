import { SafetyError, UsageError } from '../core/errors.js';
import { emptyDataDir, fillsFrom, startPatroni, stopPatroni, waitStreaming } from './member.js';
import type { Confirm, Session } from './session.js';
import { readAssessment } from './status.js';

/**
 * Rebuilds a replica from the leader, whatever state it is in (crashed, diverged, its data lost): stop Patroni
 * there, delete the data directory, start Patroni, which clones the leader into the empty directory, and wait
 * until it streams on the leader's timeline. Never the leader, and only while a leader runs.
 */
export async function reinit(
  session: Session,
  options: { host: string; confirm: Confirm; progress: (message: string) => void },
): Promise<{ leader: string; timeline?: number }> {
  const { host, progress } = options;
  session.host(host);
  if (!session.group('postgres_cluster').some((h) => h.name === host)) {
    throw new UsageError(`${host} is not in postgres_cluster: it has no PostgreSQL to rebuild`);
  }
  const a = await readAssessment(session);
  if (!a.leader) {
    throw new SafetyError('no leader runs: there is nothing to clone from. Nothing was changed.', {
      hint: '`pgprov status` shows why; a replica is rebuilt from a running leader only',
    });
  }
  if (a.leader === host) {
    throw new SafetyError(`${host} is the leader: reinit rebuilds replicas only. Nothing was changed.`, {
      hint: `to rebuild ${host}, first hand the leader role over: pgprov switchover <inventory>`,
    });
  }
  if (a.problems.some((p) => p.subject === host && p.message.startsWith('unreachable'))) {
    throw new SafetyError(`${host} is unreachable over SSH. Nothing was changed.`);
  }
  const data = String(session.vars(host).postgresql_data_dir);
  await options.confirm(
    [
      `reinit ${host}: stop Patroni and PostgreSQL on ${host}, DELETE its data directory ${data},`,
      `then let Patroni ${fillsFrom(session, host, a.leader ?? '?')} (timeline ${a.timeline ?? '?'}).`,
      `Anything in ${data} on ${host} that the leader does not have is lost.`,
    ],
    host,
  );
  await session.lock([host]);
  progress(`stopping Patroni on ${host}`);
  await stopPatroni(session, host);
  progress(`deleting ${data} on ${host}`);
  await emptyDataDir(session, host);
  progress(`starting Patroni on ${host}: it will ${fillsFrom(session, host, a.leader ?? '?')}`);
  await startPatroni(session, host);
  await waitStreaming(session, host, 30 * 60_000, progress);
  return { leader: a.leader, ...(a.timeline !== undefined ? { timeline: a.timeline } : {}) };
}
