import { type Command, Option } from 'commander';
import type { Backup } from '../facts/pgbackrest.js';
import { type BackupType, listBackups, takeBackup } from '../operate/backup.js';
import type { Output } from './output.js';
import { type SessionFlags, sessionOptions, withSession } from './session.js';
import { bytes, table, utc } from './table.js';

export function registerBackup(program: Command, output: Output): void {
  sessionOptions(
    program
      .command('backup')
      .summary('take a backup now (pgBackRest, on the repository host)')
      .description(
        `Take a backup of the cluster now, into the repository the pgbackrest group's host keeps, like the
scheduled ones (pgbackrest-backup-*.timer). pgBackRest finds the leader itself. A diff or incr backup
with no full backup before it is taken as full. If a backup is already running (a timer's), it waits
for it to finish, then takes this one.`,
      ),
  )
    .addOption(
      new Option('--type <type>', 'full, diff (since the last full) or incr (since the last backup)')
        .choices(['full', 'diff', 'incr'])
        .default('full'),
    )
    .addHelpText(
      'after',
      `
Examples:
  pgprov backup inventory/lab.yaml
  pgprov backup inventory/lab.yaml --type incr
  pgprov backups inventory/lab.yaml                  what there is to restore from`,
    )
    .action(async (inventory: string, flags: SessionFlags & { type: BackupType }) => {
      const made = await withSession(inventory, flags, (session) =>
        takeBackup(session, flags.type, (m) => output.err(m)),
      );
      for (const line of backupTable([made])) output.out(line);
    });

  sessionOptions(
    program
      .command('backups')
      .summary('list the backups in the repository, with sizes and WAL ranges')
      .description(
        `List the stanza's backups (oldest first) with their type, when they ran, the database's size, what each
stored in the repository, and the WAL each needs; then the archived WAL, which bounds the points in time
a restore can reach.`,
      ),
  )
    .option('--json', 'print the backups as JSON')
    .action(async (inventory: string, flags: SessionFlags & { json?: boolean }) => {
      const { host, info } = await withSession(inventory, flags, listBackups);
      if (flags.json) {
        output.out(JSON.stringify({ repository: host, ...info }, null, 2));
        return;
      }
      if (info.backups.length === 0) {
        output.out(
          `No backup in the repository on ${host} yet: take one with \`pgprov backup ${inventory}\`.`,
        );
        return;
      }
      for (const line of backupTable(info.backups)) output.out(line);
      const first = info.backups[0] as Backup;
      output.out('');
      if (info.archive) output.out(`Archived WAL: ${info.archive.min} .. ${info.archive.max}`);
      output.out(
        `Restorable: any time from ${utc(first.stopped)} to the newest archived WAL (repository on ${host}).`,
      );
    });
}

function backupTable(backups: readonly Backup[]): string[] {
  return table(
    ['LABEL', 'TYPE', 'STARTED', 'TOOK', 'DATABASE', 'STORED', 'WAL START', 'WAL STOP', 'BASED ON'],
    backups.map((b) => [
      b.label,
      b.type,
      utc(b.started),
      `${b.stopped - b.started} s`,
      bytes(b.databaseBytes),
      bytes(b.repositoryBytes),
      b.walStart,
      b.walStop,
      b.prior ?? '-',
    ]),
  );
}
