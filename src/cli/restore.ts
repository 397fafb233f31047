import type { Command } from 'commander';
import { parseTarget } from '../cluster/restore.js';
import { describeTarget, restore } from '../operate/restore.js';
import { confirmer } from './confirm.js';
import type { Output } from './output.js';
import { type SessionFlags, sessionOptions, withSession } from './session.js';

interface RestoreFlags extends SessionFlags {
  to?: string;
  latest?: boolean;
  backup?: string;
  yes?: boolean;
}

export function registerRestore(program: Command, output: Output): void {
  sessionOptions(
    program
      .command('restore')
      .summary(
        'point-in-time restore of the whole cluster from its pgBackRest repository (discards newer data)',
      )
      .description(
        `Restore the whole cluster to a point in time, to the newest archived WAL, or to the end of a backup.
pgprov archives the newest WAL, stops Patroni on every member, deletes the cluster's keys in etcd,
restores one member with pgBackRest and replays WAL to the target, promotes it (a new timeline) and lets
Patroni take it as the cluster, then rebuilds the other members from it and waits until every member
streams. It says what will be discarded and asks for the cluster's name (or --yes) before changing
anything; every member must be reachable. Backups and archived WAL are kept.`,
      ),
  )
    .option('--to <time>', 'a point in time, with its zone: "2026-11-23 14:30:00+00"')
    .option('--latest', 'everything the WAL archive holds')
    .option('--backup <label>', 'the end of this backup (labels: pgprov backups)')
    .option('-y, --yes', 'do not ask: discard what the plan says')
    .addHelpText(
      'after',
      `
Examples:
  pgprov backups inventory/lab.yaml                                      what can be restored
  pgprov restore inventory/lab.yaml --to "2026-11-23 14:30:00+00"
  pgprov restore inventory/lab.yaml --backup 20261123-010000F --yes

Exit status: 0 restored and streaming; 1 refused or bad input (nothing changed); 2 failed part-way (the
message says where it stopped; the backups are untouched, so the restore can be run again).`,
    )
    .action(async (inventory: string, flags: RestoreFlags) => {
      const target = parseTarget(flags);
      const done = await withSession(inventory, flags, (session) =>
        restore(session, {
          target,
          confirm: confirmer(output, flags.yes, 'pgprov restore'),
          progress: (m) => output.err(m),
        }),
      );
      output.out(
        `Restored to ${describeTarget(target)} from ${done.plan.backup.label}: ${done.host} leads on timeline ${done.timeline ?? '?'}, every member streams.`,
      );
      output.out(`Take a fresh backup of the new timeline: pgprov backup ${inventory}`);
    });
}
