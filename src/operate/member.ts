import { sh } from '../core/command.js';
import type { MemberRow } from '../cluster/health.js';
import { until } from '../core/until.js';
import type { Session } from './session.js';
import { readAssessment } from './status.js';

/** Stops Patroni on a member, and with it PostgreSQL (Patroni stops it cleanly on its way out). */
export async function stopPatroni(session: Session, host: string): Promise<void> {
  await session.run(host, sh`systemctl stop patroni`, 'stop Patroni', { timeoutMs: 180_000 });
}

export async function startPatroni(session: Session, host: string): Promise<void> {
  await session.run(host, sh`systemctl start patroni`, 'start Patroni', { timeoutMs: 60_000 });
}

/** How Patroni will fill a member's empty data directory, as a person would say it. */
export function fillsFrom(session: Session, host: string, leader: string): string {
  return session.vars(host).patroni_replica_restore_command
    ? `restore the newest backup of the leader's timeline from the repository into it and catch up from the leader ${leader} (or clone ${leader} if there is none)`
    : `clone the leader ${leader} into it`;
}

/**
 * Deletes a member's data directory and leaves it empty for Patroni to fill (clone the leader, or bootstrap).
 * Refuses to run while PostgreSQL runs on it.
 */
export async function emptyDataDir(session: Session, host: string): Promise<string> {
  const data = String(session.vars(host).postgresql_data_dir);
  await session.run(
    host,
    sh`if [ -f ${`${data}/postmaster.pid`} ] && kill -0 "$(head -n1 ${`${data}/postmaster.pid`})" 2>/dev/null; then echo "PostgreSQL still runs in ${data}" >&2; exit 1; fi; rm -rf -- ${data} && install -d -o postgres -g postgres -m 0700 ${data}`,
    `empty the data directory ${data}`,
  );
  return data;
}

/**
 * Waits until a member runs as a replica of the leader: its WAL receiver streams on the leader's timeline (what
 * PostgreSQL says, not only Patroni).
 */
export async function waitStreaming(
  session: Session,
  host: string,
  timeoutMs: number,
  progress: (message: string) => void,
): Promise<MemberRow> {
  let last = '';
  const row = await until(
    `${host} streaming from the leader`,
    async () => {
      const a = await readAssessment(session);
      const me = a.members.find((m) => m.member === host);
      const said = `${host}: ${me?.state ?? '?'}, WAL receiver ${me?.receiver ?? '?'}`;
      if (said !== last) progress(`  ${said}`);
      last = said;
      return { me, a };
    },
    ({ me, a }) =>
      me !== undefined &&
      a.leader !== undefined &&
      a.leader !== host &&
      me.receiver === 'streaming' &&
      me.timeline === a.timeline,
    timeoutMs,
  );
  return row.me as MemberRow;
}
