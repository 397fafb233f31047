import type { Command } from 'commander';
import { removeHost } from '../operate/remove.js';
import { confirmer } from './confirm.js';
import type { Output } from './output.js';
import { type SessionFlags, sessionOptions, withSession } from './session.js';

export function registerRemove(program: Command, output: Output): void {
  sessionOptions(
    program
      .command('remove')
      .summary('drain a replica or balancer out of the cluster, then delete it from the inventory')
      .description(
        `Take a host out of the cluster cleanly: keepalived and HAProxy are stopped there if it is a balancer,
Patroni and PostgreSQL if it is a replica (its data directory stays, unused), the member leaves Patroni's
list, and the other hosts are converged to the inventory without it (HAProxy's servers, pg_hba,
keepalived's peers, pgBackRest). Refuses the leader (switch over first), the backup repository host, the
last balancer and etcd members. Asks for the host's name (or --yes). Afterwards, delete the host from the
inventory file. To add a replica, add the host to postgres_cluster and run \`pgprov apply\`.`,
      ),
  )
    .argument('<host>', 'the host to remove')
    .option('-y, --yes', 'do not ask')
    .addHelpText(
      'after',
      `
Example:
  pgprov remove inventory/lab.yaml pg4 --yes`,
    )
    .action(async (inventory: string, host: string, flags: SessionFlags & { yes?: boolean }) => {
      const done = await withSession(inventory, flags, (session) =>
        removeHost(session, {
          host,
          inventoryFile: inventory,
          confirm: confirmer(output, flags.yes, 'pgprov remove'),
          progress: (m) => output.err(m),
        }),
      );
      output.out(
        `${host} is out of the cluster (members: ${done.members.join(', ')}; ${done.changed} change(s) on the others).`,
      );
      output.out(`Now delete ${host} from ${inventory}: until then \`pgprov apply\` adds it back.`);
    });
}
