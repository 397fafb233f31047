import type { Command } from 'commander';
import { promote } from '../operate/promote.js';
import { confirmer } from './confirm.js';
import type { Output } from './output.js';
import { type SessionFlags, sessionOptions, withSession } from './session.js';

export function registerPromote(program: Command, output: Output): void {
  sessionOptions(
    program
      .command('promote')
      .summary("make a standby cluster writable: the primary's site is lost, or a planned move")
      .description(
        `Turn a standby cluster (an inventory with standby_of) into an independent cluster that takes writes: its
leader stops following the primary and is promoted on a new timeline, its other members follow it, and
writes go through its own virtual IP. pgprov first says how far behind the primary the standby is and
whether the primary still answers (then both clusters would take writes: stop the primary's clients first),
and asks for confirmation (type the cluster's name) unless --yes. The primary is not touched; its
\`pgprov status\` warns from then on that a standby of it was promoted. Remove standby_of from this
inventory afterwards; \`apply\` never turns a promoted cluster back into a standby.`,
      ),
  )
    .option('-y, --yes', 'do not ask: the standby stops following its primary for good')
    .addHelpText(
      'after',
      `
Example:
  pgprov status inventory/lab-standby.yaml     how far behind the primary it is
  pgprov promote inventory/lab-standby.yaml

Exit status: 0 promoted; 1 refused or bad input (not a standby, not confirmed: nothing changed); 2 failed
part-way (see status).`,
    )
    .action(async (inventory: string, flags: SessionFlags & { yes?: boolean }) => {
      const done = await withSession(inventory, flags, (session) =>
        promote(session, {
          inventoryFile: inventory,
          confirm: confirmer(output, flags.yes, 'pgprov promote'),
          progress: (m) => output.err(m),
        }),
      );
      output.out(
        `${done.cluster} takes writes: ${done.leader} leads${done.timeline ? ` on timeline ${done.timeline}` : ''}.`,
      );
      if (done.record)
        output.out(
          `The primary's status now warns that its standby was promoted (${done.record}); ` +
            "the primary's next apply withdraws this cluster's access to its pgBackRest repository.",
        );
      output.out(`Next: remove standby_of from ${inventory}.`);
    });
}
