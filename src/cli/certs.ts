import type { Command } from 'commander';
import { parseExtraVars } from '../inventory/extra-vars.js';
import { listCertificates, renewCertificates } from '../operate/certs.js';
import { duration } from './options.js';
import type { Output } from './output.js';
import { type SessionFlags, sessionOptions, withSession } from './session.js';
import { table } from './table.js';

interface CertsFlags extends SessionFlags {
  renewWithin?: number;
  rotate?: boolean;
}

export function registerCerts(program: Command, output: Output): void {
  sessionOptions(
    program
      .command('certs')
      .summary('every certificate and its expiry; renew and roll out the ones close to expiry, or all')
      .description(
        `Show the controller's CA and host certificates and every copy on every host (etcd, Patroni and
PostgreSQL, pgBackRest and the shared one each keep their own) with its expiry. --renew-within reissues the
host certificates that expire within that time, --rotate all of them (same keys, same CA), and rolls them
out: each copy is replaced, Patroni and PostgreSQL and pgBackRest reload, etcd restarts one member at a
time; the leader stays and the cluster keeps taking writes. Every \`pgprov apply\` already renews what
expires within pgprov_certificate_renew_days (30); certificates last pgprov_certificate_days (365).`,
      ),
  )
    .option(
      '--renew-within <duration>',
      'renew host certificates that expire within this (e.g. 30d)',
      duration('--renew-within'),
    )
    .option('--rotate', 'renew every host certificate now')
    .addHelpText(
      'after',
      `
Examples:
  pgprov certs inventory/lab.yaml                      the dates
  pgprov certs inventory/lab.yaml --renew-within 30d   renew what expires within 30 days
  pgprov certs inventory/lab.yaml --rotate             renew all host certificates now

Rotating the CA itself is not done by this command yet.`,
    )
    .action(async (inventory: string, flags: CertsFlags) => {
      await withSession(inventory, flags, async (session) => {
        if (flags.renewWithin !== undefined || flags.rotate) {
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
