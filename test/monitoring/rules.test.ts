import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Secret } from '../../src/core/secret.js';
import { debianProgram } from '../support/apt.js';
import {
  contentOf,
  loadShippedProject,
  planStack,
  stackInputs,
  stackInventory,
} from '../roles-stack/support.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'prometheus', 'rules.test.yml');

/** The lab's shape with Prometheus and the pgBackRest repository on pg3. */
async function planned(vars: Record<string, unknown> = {}) {
  const { project, assets } = await loadShippedProject();
  const inventory = stackInventory(vars, { groups: { monitoring: ['pg3'], pgbackrest: ['pg3'] } });
  return planStack(stackInputs(project, assets, inventory), {
    pgbackrest_cipher_pass: new Secret('cipher-7'),
  });
}

/** promtool from Debian's prometheus package (unpacked, not installed), and the rendered files in a folder. */
let promtool: string;
let dir: string;
beforeAll(async () => {
  promtool = debianProgram('prometheus', 'usr/bin/promtool');
  dir = mkdtempSync(join(tmpdir(), 'pgprov-rules-'));
  const plan = await planned();
  writeFileSync(join(dir, 'rules.yml'), contentOf(plan, 'monitoring', 'pg3', 'Alert rules'));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    contentOf(plan, 'monitoring', 'pg3', 'Prometheus configuration'),
  );
  copyFileSync(FIXTURE, join(dir, 'rules.test.yml'));
}, 180_000);

const run = (...args: string[]) => {
  try {
    return { code: 0, out: execFileSync(promtool, args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' }) };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: `${e.stdout}${e.stderr}` };
  }
};

describe("the monitoring group's alert rules", () => {
  // promtool starts in about a second, and took over 5 s while the lab's hosts installed packages beside it.
  it('pass promtool check rules, and the scrape configuration its syntax check', () => {
    const rules = run('check', 'rules', 'rules.yml');
    expect(rules.code, rules.out).toBe(0);
    const config = run('check', 'config', '--syntax-only', 'prometheus.yml');
    expect(config.code, config.out).toBe(0);
  }, 60_000);

  it('each fire and stay quiet as their unit tests say (promtool test rules)', () => {
    const tests = run('test', 'rules', 'rules.test.yml');
    expect(tests.code, tests.out).toBe(0);
  }, 60_000);

  it('every rule has a unit test that sees it fire', () => {
    const rules = parse(readFileSync(join(dir, 'rules.yml'), 'utf8')) as {
      groups: { rules: { alert: string }[] }[];
    };
    const names = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(names).toEqual([
      'PostgresNoLeader',
      'PostgresReplicaNotStreaming',
      'PostgresReplicationLag',
      'PostgresWalArchivingFailing',
      'PgBackRestBackupTooOld',
      'CertificateExpiringSoon',
      'DiskNearlyFull',
      'EtcdNoQuorum',
    ]);
    const fixture = parse(readFileSync(FIXTURE, 'utf8')) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts?: unknown[] }[] }[];
    };
    const firing = new Set(
      fixture.tests.flatMap((t) =>
        t.alert_rule_test.filter((a) => (a.exp_alerts ?? []).length > 0).map((a) => a.alertname),
      ),
    );
    expect(names.filter((n) => !firing.has(n))).toEqual([]);
  });
});

describe("Prometheus's scrape targets", () => {
  it('come from the inventory: every exporter of every member, with its name and cluster', async () => {
    const config = parse(contentOf(await planned(), 'monitoring', 'pg3', 'Prometheus configuration')) as {
      scrape_configs: {
        job_name: string;
        scheme?: string;
        static_configs: { targets: string[]; labels: Record<string, string> }[];
      }[];
    };
    const jobs = Object.fromEntries(
      config.scrape_configs.map((j) => [
        j.job_name,
        j.static_configs.map((s) => `${s.labels.member}=${s.targets[0]}`),
      ]),
    );
    expect(jobs).toEqual({
      node: ['pg1=10.231.0.11:9100', 'pg2=10.231.0.12:9100', 'pg3=10.231.0.13:9100'],
      postgres: ['pg1=10.231.0.11:9187', 'pg2=10.231.0.12:9187', 'pg3=10.231.0.13:9187'],
      patroni: ['pg1=10.231.0.11:8008', 'pg2=10.231.0.12:8008', 'pg3=10.231.0.13:8008'],
      etcd: ['pg1=10.231.0.11:2379', 'pg2=10.231.0.12:2379', 'pg3=10.231.0.13:2379'],
      haproxy: ['pg1=10.231.0.11:8405', 'pg2=10.231.0.12:8405', 'pg3=10.231.0.13:8405'],
    });
    expect(config.scrape_configs.filter((j) => j.scheme === 'https').map((j) => j.job_name)).toEqual([
      'patroni',
      'etcd',
    ]);
  });

  it('take their thresholds from variables', async () => {
    const rules = contentOf(
      await planned({
        monitoring_alert_for: '30s',
        monitoring_lag_bytes: 1000,
        monitoring_certificate_days: 30,
      }),
      'monitoring',
      'pg3',
      'Alert rules',
    );
    expect(rules).toMatch(
      /pgprov_replication_lag_bytes and on \(cluster, member\) \(patroni_primary == 1\)\)\s+> 1000/,
    );
    expect(rules).toContain('< 30 * 86400');
    expect(rules.match(/for: 30s/g)).toHaveLength(8);
  });
});
