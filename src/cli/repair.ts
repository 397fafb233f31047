import type { Command } from 'commander';
import { findTraps, refuseWithoutForce, repair } from '../operate/repair.js';
import type { Output } from './output.js';
import { type SessionFlags, sessionOptions, withSession } from './session.js';

export function registerRepair(program: Command, output: Output): void {
  sessionOptions(
    program
      .command('repair')
      .summary(
        "find and fix the rebuild traps: another cluster's data directory, a stale cluster record in etcd",
      )
      .description(
        `Check every member for the two classic traps after a rebuild, with the guard \`apply\` runs before Patroni
starts: a data directory made by another initdb ("system ID mismatch"), and a cluster record in etcd that
no member leads (a cluster that no longer exists). Without --force it shows what it found and what it
would do, and changes nothing. With --force: a foreign data directory is moved aside (never deleted) and
Patroni clones the leader; a stale record is deleted from etcd and the cluster starts again from the
data directories on its hosts. It waits until every member streams.`,
      ),
  )
    .option('--force', 'do what the plan says')
    .addHelpText(
      'after',
      `
Examples:
  pgprov repair inventory/lab.yaml             what is wrong, and the plan
  pgprov repair inventory/lab.yaml --force     fix it

Exit status: 0 nothing to repair, or repaired; 1 a plan shown without --force (nothing changed).`,
    )
    .action(async (inventory: string, flags: SessionFlags & { force?: boolean }) => {
      await withSession(inventory, flags, async (session) => {
        const plan = await findTraps(session);
        if (plan.traps.length === 0) {
          output.out('Nothing to repair: every data directory belongs to the cluster etcd records.');
          return;
        }
        output.err('Found:');
        for (const t of plan.traps) output.err(`  ${t.host}: ${t.found}`);
        output.err('Plan:');
        for (const a of plan.actions) output.err(`  ${a}`);
        if (!flags.force) throw refuseWithoutForce(inventory);
        await repair(session, plan, (m) => output.err(m));
        output.out('Repaired: every member streams from the leader.');
      });
    });
}
