import type { Command } from 'commander';
import { switchover } from '../operate/switchover.js';
import type { Output } from './output.js';
import { type SessionFlags, sessionOptions, withSession } from './session.js';

export function registerSwitchover(program: Command, output: Output): void {
  sessionOptions(
    program
      .command('switchover')
      .summary('planned leader change through Patroni, refused when the candidate is not fit to lead')
      .description(
        `Hand the leader role to a replica: for maintenance of the leader's host, or a drill. pgprov reads the
cluster first and refuses (changing nothing) when there is no leader or the candidate is not fit: not
running, not streaming from the leader, on another timeline, lagging more than maximum_lag_on_failover, or,
in synchronous mode, not the synchronous standby. Without --to it picks the synchronous standby, else the
replica with the least lag. A client writes through the virtual IP meanwhile, so the output says how long
writes were refused; the command ends when the new leader takes writes through the virtual IP and the old
leader streams from it.`,
      ),
  )
    .option('--to <host>', 'the member to become leader')
    .addHelpText(
      'after',
      `
Examples:
  pgprov switchover inventory/lab.yaml               to the best replica
  pgprov switchover inventory/lab.yaml --to pg2      to pg2, or nothing

Exit status: 0 done; 1 refused or bad input (nothing changed); 2 the switchover failed part-way (see status).`,
    )
    .action(async (inventory: string, flags: SessionFlags & { to?: string }) => {
      const result = await withSession(inventory, flags, (session) =>
        switchover(session, {
          ...(flags.to ? { to: flags.to } : {}),
          inventoryFile: inventory,
          progress: (m) => output.err(m),
        }),
      );
      output.out(
        `${result.to} is the leader${result.timeline ? ` (timeline ${result.timeline})` : ''}; ${result.from} streams from it.`,
      );
      output.out(
        result.refusedSeconds !== undefined
          ? `Writes through the virtual IP were refused for ${result.refusedSeconds.toFixed(1)} s.`
          : `Write refusal not measured: ${result.unmeasured ?? 'unknown reason'}.`,
      );
    });
}
