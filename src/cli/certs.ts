import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { parseExtraVars } from '../inventory/extra-vars.js';
import { listCertificates, renewCertificates, rotateCa } from '../operate/certs.js';
import { duration } from './options.js';
import type { Output } from './output.js';
import { type SessionFlags, sessionOptions, withSession } from './session.js';
import { table } from './table.js';

interface CertsFlags extends SessionFlags {
  renewWithin?: number;
  rotate?: boolean;
  rotateCa?: boolean;
}

export function registerCerts(program: Command, output: Output): void {
  sessionOptions(
    program
      .command('certs')
      .summary('every certificate and its expiry; renew the ones close to expiry, or all, or the CA')
      .description(
        `Show the controller's CA and host certificates and every copy on every host (etcd, Patroni and
PostgreSQL, pgBackRest and the shared one each keep their own) with its expiry. --renew-within reissues the
host certificates that expire within that time, --rotate all of them (same keys, same CA), and rolls them
out: each copy is replaced, Patroni and PostgreSQL and pgBackRest reload, etcd restarts one member at a
time; the leader stays and the cluster keeps taking writes. Every \`pgprov apply\` already renews what
expires within pgprov_certificate_renew_days (30); certificates last pgprov_certificate_days (365).

--rotate-ca replaces the CA itself in three rollouts, each a whole apply that must succeed before the next:
  1. a new CA is created; every host trusts the old and the new one
  2. every host certificate is reissued by the new CA; both CAs are still
     trusted, so members keep talking while the rollout goes member by member
  3. every host trusts the new CA only; the old CA's files are deleted from
     the state folder

If a step fails, the rotation stays recorded (pki/rotation.json in the state folder): fix the cause and run
--rotate-ca again to resume it. A plain \`pgprov apply\` meanwhile keeps the hosts at the step reached.`,
      ),
  )
    .option(
      '--renew-within <duration>',
      'renew host certificates that expire within this (e.g. 30d)',
      duration('--renew-within'),
    )
    .option('--rotate', 'renew every host certificate now')
    .option(
      '--rotate-ca',
      'replace the CA (and so every host certificate), keeping the old one trusted meanwhile',
    )
    .addHelpText(
      'after',
      `
Examples:
  pgprov certs inventory/lab.yaml                      the dates
  pgprov certs inventory/lab.yaml --renew-within 30d   renew what expires within 30 days
  pgprov certs inventory/lab.yaml --rotate             renew all host certificates now
  pgprov certs inventory/lab.yaml --rotate-ca          a new CA, rolled out in three steps`,
    )
    .action(async (inventory: string, flags: CertsFlags) => {
      await withSession(inventory, flags, async (session) => {
        if (flags.rotateCa && (flags.renewWithin !== undefined || flags.rotate)) {
          throw new UsageError('--rotate-ca reissues every host certificate already: give it alone', {
            hint: 'pgprov certs INVENTORY --rotate-ca',
          });
        }
        if (flags.rotateCa) {
          const { changed } = await rotateCa(session, {
            extraVars: parseExtraVars(flags.extraVars ?? []),
            progress: (m) => output.err(m),
          });
          output.err(`the CA is rotated (${changed} change(s))`);
        } else if (flags.renewWithin !== undefined || flags.rotate) {
          const { changed } = await renewCertificates(session, {
            ...(flags.renewWithin !== undefined ? { withinDays: flags.renewWithin / 86_400_000 } : {}),
            ...(flags.rotate ? { all: true } : {}),
            extraVars: parseExtraVars(flags.extraVars ?? []),
            progress: (m) => output.err(m),
          });
          output.err(changed === 0 ? 'nothing to renew' : `rolled out (${changed} change(s))`);
        }
        const { rows, unreachable } = await listCertificates(session);
        for (const line of table(
          ['HOST', 'CERTIFICATE', 'SUBJECT', 'EXPIRES', 'DAYS LEFT'],
          rows.map((r) => [
            r.host,
            r.path,
            r.subject,
            r.notAfter.slice(0, 19).replace('T', ' '),
            String(r.daysLeft),
          ]),
        ))
          output.out(line);
        for (const [host, why] of Object.entries(unreachable)) output.err(`${host}: not read (${why})`);
      });
    });
}
