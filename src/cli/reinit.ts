import type { Command } from 'commander';
import { reinit } from '../operate/reinit.js';
import { confirmer } from './confirm.js';
import type { Output } from './output.js';
import { type SessionFlags, sessionOptions, withSession } from './session.js';

export function registerReinit(program: Command, output: Output): void {
  sessionOptions(
    program
      .command('reinit')
      .summary("rebuild a broken replica from the leader (deletes the replica's data directory)")
      .description(
        `Rebuild a replica that crashed, diverged from the leader's timeline or lost its data: Patroni is stopped
there, the data directory is deleted, and Patroni restores the newest backup of the leader's timeline from
the pgBackRest repository into it and catches up from the leader (or clones the leader with pg_basebackup:
without such a backup, or with patroni_replica_from_backup=false); the command ends when the replica streams
on the leader's timeline. Refuses the leader, and refuses while no leader runs. Asks for confirmation (type
the host's name) unless --yes.`,
      ),
  )
    .argument('<host>', 'the replica to rebuild')
    .option('-y, --yes', 'do not ask: the data directory of <host> is deleted')
    .addHelpText(
      'after',
      `
Example:
  pgprov reinit inventory/lab.yaml pg3`,
    )
    .action(async (inventory: string, host: string, flags: SessionFlags & { yes?: boolean }) => {
      const done = await withSession(inventory, flags, (session) =>
        reinit(session, {
          host,
          confirm: confirmer(output, flags.yes, 'pgprov reinit'),
          progress: (m) => output.err(m),
        }),
      );
      output.out(
        `${host} streams from ${done.leader}${done.timeline ? ` on timeline ${done.timeline}` : ''}.`,
      );
    });
}
