import { sh } from '../core/command.js';
import { UsageError } from '../core/errors.js';
import { request } from '../facts/fact.js';
import { type Backup, type StanzaInfo, stanzaFact } from '../facts/pgbackrest.js';
import type { Session } from './session.js';

export type BackupType = 'full' | 'diff' | 'incr';

/** The host that holds the pgBackRest repository (the pgbackrest group's first host). */
export function repositoryHost(session: Session): string {
  const host = session.group('pgbackrest')[0];
  if (!host) {
    throw new UsageError(
      `${session.inventory.file} has no pgbackrest group: the cluster has no backup repository`,
      {
        hint: 'add a host to a `pgbackrest` group (it holds the repository) and run `pgprov apply`',
      },
    );
  }
  return host.name;
}

/** The stanza's backups and archived WAL, as the repository host reports them. */
export async function listBackups(
  session: Session,
): Promise<{ host: string; info: Extract<StanzaInfo, { answered: true }> }> {
  const host = repositoryHost(session);
  const args = { stanza: session.clusterName };
  const read = await session.read(host, [request(stanzaFact, args)]);
  if (!read.reachable) throw new UsageError(`cannot reach the repository host ${host}: ${read.why}`);
  const info = read.facts.get(stanzaFact, args);
  if (!info.answered) {
    throw new UsageError(`cannot list the backups on ${host}: ${info.why}`, {
      hint: 'has `pgprov apply` created the stanza? (`pgprov status` shows what runs)',
    });
  }
  return { host, info };
}

/**
 * Takes a backup now, on the repository host, as the scheduled ones do (pgBackRest finds the leader, or a standby
 * with backup-standby). It takes the lock the timers' backups take first (pgbackrest_backup_lock), so a backup
 * already running makes it wait, saying so, where pgBackRest alone would fail on its own lock.
 */
export async function takeBackup(
  session: Session,
  type: BackupType,
  progress: (message: string) => void,
): Promise<Backup> {
  const host = repositoryHost(session);
  const before = new Set((await listBackups(session)).info.backups.map((b) => b.label));
  const lock = String(session.vars(host).pgbackrest_backup_lock);
  if (await backupRunning(session, host, lock)) {
    progress(
      `a backup of stanza ${session.clusterName} is already running on ${host} (a scheduled one?): waiting for it to finish`,
    );
  }
  progress(`${type} backup of stanza ${session.clusterName} on ${host}...`);
  const started = Date.now();
  const ticker = setInterval(
    () => progress(`  still running (${Math.round((Date.now() - started) / 1000)} s)`),
    15_000,
  );
  try {
    await session.run(
      host,
      sh`runuser -u postgres -- flock ${lock} pgbackrest ${`--stanza=${session.clusterName}`} ${`--type=${type}`} --log-level-console=warn backup`,
      `pgbackrest ${type} backup`,
      { timeoutMs: 24 * 3_600_000 },
    );
  } finally {
    clearInterval(ticker);
  }
  const made = (await listBackups(session)).info.backups.filter((b) => !before.has(b.label)).at(-1);
  if (!made) throw new Error('internal: pgbackrest reported success but lists no new backup');
  return made;
}

/** Whether another backup holds the backup lock now (flock's exit 1); only to say why the backup waits. */
async function backupRunning(session: Session, host: string, lock: string): Promise<boolean> {
  const transport = await session.transport(host);
  const probe = await transport.exec(sh`runuser -u postgres -- flock --nonblock ${lock} true`);
  return probe.code === 1;
}
