import type { Command } from 'commander';
import { type Assessment, assess } from '../cluster/health.js';
import { readCluster } from '../operate/status.js';
import { duration } from './options.js';
import type { Output } from './output.js';
import { EXIT } from './report.js';
import { type SessionFlags, sessionOptions, withSession } from './session.js';
import { ago, bytes, table, utc } from './table.js';

interface StatusFlags extends SessionFlags {
  json?: boolean;
  certWarn: number;
  backupMaxAge: number;
}

export function registerStatus(program: Command, output: Output): void {
  sessionOptions(
    program
      .command('status')
      .summary('the cluster at a glance; a non-zero exit when it is degraded (a monitoring check)')
      .description(
        `Read every host at once (one SSH round trip each) and show each member's role, state, timeline, lag
and WAL receiver (from PostgreSQL itself, not only Patroni), etcd's health, which balancer holds the
virtual IP, what HAProxy routes where, the newest backup and the earliest certificate expiry, then the
problems found, each with what to do. A standby cluster (standby_of) shows where its leader streams from
and how far behind the primary it is. Read-only: takes no lock and changes nothing.`,
      ),
  )
    .option('--json', 'print the assessment as JSON (same exit status)')
    .option(
      '--cert-warn <duration>',
      'count a certificate expiring within this as a problem',
      duration('--cert-warn'),
      30 * 86_400_000,
    )
    .option(
      '--backup-max-age <duration>',
      'count the newest backup older than this as a problem',
      duration('--backup-max-age'),
      26 * 3_600_000,
    )
    .addHelpText(
      'after',
      `
Examples:
  pgprov status inventory/lab.yaml
  pgprov status inventory/lab.yaml --json | jq .problems
  pgprov status inventory/lab.yaml --cert-warn 14d --backup-max-age 8d

Exit status: 0 healthy; 3 degraded (the cluster takes writes, but something needs attention: a member or host
down, a replica not streaming or diverged, an etcd member down, HAProxy out of step, no recent backup, a
certificate expiring); 4 critical (no leader, two primaries, etcd without quorum, nobody holds the virtual IP,
an expired certificate); 1 bad input.`,
    )
    .action(async (inventory: string, flags: StatusFlags) => {
      const assessment = await withSession(inventory, flags, async (session) =>
        assess(
          await readCluster(session),
          { certificateWarnMs: flags.certWarn, backupMaxAgeMs: flags.backupMaxAge },
          inventory,
        ),
      );
      if (flags.json) output.out(JSON.stringify(assessment, null, 2));
      else for (const line of describeStatus(assessment)) output.out(line);
      output.exitCode =
        assessment.verdict === 'healthy'
          ? EXIT.ok
          : assessment.verdict === 'degraded'
            ? EXIT.degraded
            : EXIT.critical;
    });
}

export function describeStatus(a: Assessment): string[] {
  const now = new Date(a.at).getTime();
  const lines = [
    `Cluster ${a.cluster}: ${a.leader ? `${a.standby ? 'standby leader' : 'leader'} ${a.leader}, timeline ${a.timeline ?? '?'}` : 'NO LEADER'}`,
    '',
    ...table(
      ['MEMBER', 'HOST', 'ROLE', 'STATE', 'TL', 'LAG', 'WAL RECEIVER'],
      a.members.map((m) => [
        m.member,
        m.host,
        m.role,
        m.state,
        m.timeline === undefined ? '-' : String(m.timeline),
        m.lagMb === undefined ? '-' : `${m.lagMb.toFixed(1)} MB`,
        m.receiver,
      ]),
    ),
    '',
    `etcd          ${a.etcd.healthy}/${a.etcd.total} healthy${
      a.etcd.members.some((e) => !e.healthy)
        ? ` (down: ${a.etcd.members
            .filter((e) => !e.healthy)
            .map((e) => e.host)
            .join(', ')})`
        : ''
    }`,
  ];
  if (a.standby) lines.push(`standby of    ${standby(a.standby)}`);
  lines.push(`durability    ${durability(a.durability)}`);
  lines.push(`watchdog      ${watchdog(a.watchdog)}`);
  if (a.vip) lines.push(`virtual IP    ${a.vip.address} on ${a.vip.heldBy.join(', ') || 'no balancer'}`);
  for (const h of a.haproxy) {
    lines.push(
      `haproxy ${h.host.padEnd(5)} ${h.answered ? `writes -> ${h.primary.join(', ') || 'none'}; reads -> ${h.replicas.join(', ') || 'none'}` : 'not answering'}`,
    );
  }
  if (a.backups) {
    const b = a.backups.newest;
    lines.push(
      `backups       ${a.backups.count}${b ? `, newest ${b.label} (${b.type}, ${bytes(b.databaseBytes)}, ${ago(now - b.stopped * 1000)} ago, ${utc(b.stopped)})` : ''}`,
    );
  }
  const earliest = [...a.certificates].sort((x, y) => x.notAfter.localeCompare(y.notAfter))[0];
  if (earliest) {
    lines.push(
      `certificates  ${a.certificates.length} files, earliest expiry ${earliest.notAfter.slice(0, 10)} (${earliest.daysLeft} days: ${earliest.host} ${earliest.path})`,
    );
  }
  lines.push('');
  for (const n of a.advisories) {
    lines.push(`note: ${n.subject}: ${n.message}`);
    if (n.hint) lines.push(`     -> ${n.hint}`);
  }
  if (a.problems.length === 0) {
    lines.push('Healthy: no problem found.');
    return lines;
  }
  lines.push(
    `${a.verdict === 'critical' ? 'CRITICAL' : 'DEGRADED'}: ${a.problems.length} problem${a.problems.length > 1 ? 's' : ''}`,
  );
  for (const p of a.problems) {
    lines.push(`  ${p.severity === 'critical' ? '!!' : '! '} ${p.subject}: ${p.message}`);
    if (p.hint) lines.push(`     -> ${p.hint}`);
  }
  return lines;
}

/** Where a standby cluster streams from and how far behind it is. */
function standby(st: NonNullable<Assessment['standby']>): string {
  const from = st.upstream ?? 'its primary';
  if (st.receiver !== 'streaming')
    return `${from}: NOT receiving (${st.receiver}); read-only, takes no writes`;
  const behind = st.behindBytes !== undefined ? `${bytes(st.behindBytes)} behind` : 'streaming';
  const heard = st.silentSeconds !== undefined ? `, last word ${st.silentSeconds.toFixed(1)} s ago` : '';
  return `${from}: ${behind}${heard}; read-only until \`pgprov promote\``;
}

/** Whether a hung leader is reset by a watchdog, per member, with why not (patroni_watchdog_mode). */
function watchdog(w: Assessment['watchdog']): string {
  if (w.mode === 'off') return 'off (patroni_watchdog_mode): a leader whose Patroni hangs is not reset';
  const usable = w.members.filter((m) => m.usable).map((m) => m.host);
  const missing = w.members.filter((m) => !m.usable);
  const reasons = [...new Set(missing.map((m) => m.why))];
  const without = missing.length
    ? `none on ${missing.map((m) => m.host).join(', ')} (${reasons.join('; ')})`
    : '';
  return `${w.mode}: ${[usable.length ? `armed by the leader on ${usable.join(', ')}` : '', without].filter(Boolean).join('; ')}`;
}

/** What a failover may lose now, in words (patroni_durability). */
function durability(d: Assessment['durability']): string {
  if (d.mode === 'async') {
    return `async: a failover may lose up to ${bytes(d.maximumLagBytes)} of acknowledged writes (patroni_maximum_lag_on_failover)`;
  }
  const standby = d.syncStandby ? `synchronous standby ${d.syncStandby}` : 'NO synchronous standby now';
  return d.mode === 'strict'
    ? `strict: no acknowledged write is lost in a failover; without a synchronous standby writes stop (${standby})`
    : `sync: no acknowledged write is lost in a failover while a synchronous standby exists (${standby})`;
}
