import type { Command } from 'commander';
import type { EventSink } from '../core/events.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Problem } from '../cluster/health.js';
import { runApply } from '../engine/run.js';
import { Session, type SessionOptions } from '../operate/session.js';
import { memberProblems } from '../operate/status.js';
import { parseExtraVars } from '../inventory/extra-vars.js';
import { collectList, collectRepeat, positiveInt } from './options.js';
import { EXIT } from './report.js';
import { type Output, rendererFor } from './output.js';

interface ApplyFlags {
  tags?: string[];
  skipTags?: string[];
  limit?: string[];
  extraVars?: string[];
  check?: boolean;
  diff?: boolean;
  forks: number;
  json?: boolean;
  plain?: boolean;
  verbose?: boolean;
  secretsFile?: string;
}

export function registerApply(program: Command, output: Output): void {
  program
    .command('apply')
    .summary('bring the hosts of an inventory to the state its roles declare')
    .description(
      `Bring every host of the inventory to the state pgprov's roles declare, phase by phase
(certificates -> etcd -> ...). Only what differs is changed: a second apply on an unchanged
cluster reports 0 changed. Each host is locked while a run applies to it.`,
    )
    .argument(
      '<inventory>',
      'inventory YAML file (Ansible layout: all/children/hosts/vars, group_vars/, host_vars/)',
    )
    .option(
      '-t, --tags <tags>',
      'only run tasks with these tags (phase and role names are tags)',
      collectList,
    )
    .option('--skip-tags <tags>', 'skip tasks with these tags', collectList)
    .option('-l, --limit <hosts>', 'only these hosts or groups (comma-separated)', collectList)
    .option(
      '-e, --extra-vars <key=value>',
      'set a variable, highest precedence (repeatable; @file.yaml reads a file)',
      collectRepeat,
    )
    .option(
      '--secrets-file <file>',
      'YAML file of secrets (name: value), e.g. from a vault; see roles/*/secrets.yaml',
    )
    .option('-C, --check', 'show what would change, change nothing (same plan as apply)')
    .option('-D, --diff', 'show a diff of every changed file (secrets masked)')
    .option('-f, --forks <n>', 'hosts worked on at once within a phase', positiveInt('--forks'), 10)
    .option('--json', 'print events as JSON lines')
    .option('--plain', 'plain line output even on a terminal')
    .option(
      '-v, --verbose',
      'also list unchanged tasks and the commands run (a task that took 1 s or more shows its time)',
    )
    .addHelpText(
      'after',
      `
Examples:
  pgprov apply inventory/lab.yaml                      deploy or converge everything
  pgprov apply inventory/lab.yaml --tags etcd          only the etcd phase
  pgprov apply inventory/lab.yaml --tags pgbouncer -e pgbouncer_default_pool_size=30
                                                       a pool change (PgBouncer reloads)
  pgprov apply inventory/lab.yaml --tags monitoring    exporters and Prometheus with its alert rules
  pgprov apply inventory/lab.yaml --check --diff       what would change, with file diffs
  pgprov apply inventory/lab.yaml -l pg2 -e etcd_election_timeout_ms=1500

After a run that includes the patroni phase, apply reads the members and names any that does
not replicate from the leader (not streaming, another timeline, a second primary) with the way
out (pgprov reinit, pgprov repair); pgprov status shows the whole cluster.

Phases, in order (each is a tag): certificates, etcd, pgbackrest-db, standby, patroni,
pgbouncer, pgbackrest, haproxy, keepalived, metrics and monitoring (both also tagged
monitoring). standby does something on a standby cluster (standby_of) only.

Exit status: 0 success, 1 bad input (nothing applied), 2 a host failed, 130 interrupted.`,
    )
    .action(async (inventory: string, flags: ApplyFlags) => {
      const controller = new AbortController();
      const onSignal = () => {
        if (controller.signal.aborted) process.exit(EXIT.interrupted);
        output.err(
          '\ninterrupted: finishing the tasks under way, then stopping (Ctrl-C again to quit at once)',
        );
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const { sink: render, finished } = rendererFor(output, flags);
      let phases: string[] = [];
      const sink: EventSink = (event) => {
        if (event.type === 'run-start') phases = event.phases;
        render(event);
      };
      const extraVars = parseExtraVars(flags.extraVars ?? []);
      try {
        const result = await runApply({
          inventoryFile: inventory,
          ...(flags.tags ? { tags: flags.tags } : {}),
          ...(flags.skipTags ? { skipTags: flags.skipTags } : {}),
          ...(flags.limit ? { limit: flags.limit } : {}),
          extraVars,
          check: flags.check === true,
          diff: flags.diff === true,
          forks: flags.forks,
          ...(flags.secretsFile ? { secretsFile: flags.secretsFile } : {}),
          sink,
          signal: controller.signal,
        });
        await finished();
        if (!flags.check && !result.failed && !result.interrupted && phases.includes('patroni')) {
          const problems = await membersAfterApply(inventory, {
            extraVars,
            ...(flags.secretsFile ? { secretsFile: flags.secretsFile } : {}),
          });
          reportMembers(output, flags.json === true, problems);
        }
        output.exitCode = result.interrupted ? EXIT.interrupted : result.failed ? EXIT.failed : EXIT.ok;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

/**
 * The members as PostgreSQL and Patroni see them once the run is done: a replica that does not stream, one on
 * another timeline than the leader's, a member that runs as a primary beside the leader. apply converges files and
 * services; these need a decision (reinit, repair), so they are named with the way out rather than left to
 * `pgprov status`. A member still starting or catching up after the run gets up to 30 s first.
 */
async function membersAfterApply(inventoryFile: string, options: SessionOptions): Promise<Problem[]> {
  const session = await Session.open(inventoryFile, options);
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const problems = await memberProblems(session);
      if (!problems.some((p) => p.settling) || Date.now() > deadline) return problems;
      await sleep(3_000);
    }
  } finally {
    await session.close();
  }
}

function reportMembers(output: Output, json: boolean, problems: readonly Problem[]): void {
  for (const p of problems) {
    if (json) {
      output.out(
        JSON.stringify({ type: 'log', level: 'warn', host: p.subject, message: p.message, hint: p.hint }),
      );
      continue;
    }
    output.err(`WARNING: after apply, ${p.subject}: ${p.message}`);
    if (p.hint) output.err(`   -> ${p.hint}`);
  }
  if (problems.length > 0 && !json) output.err('   (pgprov status shows the whole cluster)');
}
