import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CommandArgs } from '../../src/ops/command.js';
import { issueCa } from '../../src/pki/issue.js';
import { generateKeyPair, randomSerial } from '../../src/pki/keys.js';
import { Secret } from '../../src/core/secret.js';
import {
  contentOf,
  loadShippedProject,
  planStack,
  shippedStackPlanner,
  stackInputs,
  stackInventory,
  taskOf,
} from './support.js';

const plan = shippedStackPlanner();

describe('the exporters role (phase metrics, tag monitoring)', () => {
  it('runs on every host; the PostgreSQL exporter only on the database hosts', () => {
    const p = plan({}, { separateBalancers: true });
    const metrics = p.phases.find((x) => x.name === 'metrics');
    const tasks = (host: string) =>
      metrics?.hosts.find((h) => h.host.name === host)?.tasks.map((t) => t.name) ?? [];
    expect(tasks('lb1')).toContain('Install the node exporter');
    expect(tasks('lb1')).not.toContain('Install the PostgreSQL exporter');
    expect(tasks('pg1')).toContain('Install the PostgreSQL exporter');
    expect(tasks('pg1')).toContain('PostgreSQL exporter running and enabled');
  });

  it("listen on the host's own address; the PostgreSQL exporter logs in by peer, with no password", () => {
    const p = plan();
    expect(contentOf(p, 'metrics', 'pg2', 'Node exporter flags')).toContain(
      '--web.listen-address=10.231.0.12:9100 --collector.textfile.directory=/var/lib/prometheus/node-exporter',
    );
    const flags = contentOf(p, 'metrics', 'pg2', 'PostgreSQL exporter flags');
    expect(flags).toContain(
      'DATA_SOURCE_NAME="host=/var/run/postgresql port=5432 user=pgprov_monitor dbname=postgres sslmode=disable"',
    );
    expect(flags).toContain('--web.listen-address=10.231.0.12:9187');
    expect(flags).not.toMatch(/password=/i);
  });

  it('makes its PostgreSQL role on the leader only, a member of pg_monitor and nothing more', () => {
    const { cmd, unless } = taskOf(plan(), 'metrics', 'pg1', 'PostgreSQL role for the exporter')
      .args as CommandArgs;
    // set -e: a role that is missing fails the check (the last line alone would pass it).
    expect((unless ?? '').split('\n').slice(0, 2)).toEqual([
      'set -e',
      'if ! /usr/local/sbin/pgprov-is-leader; then echo "not the leader: the leader makes it"; exit 0; fi',
    ]);
    expect(cmd).toContain('GRANT pg_monitor TO "pgprov_monitor";');
    expect(cmd).toContain('NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD NULL');
  });

  it('reports the newest backup on the repository host only', async () => {
    const { project, assets } = await loadShippedProject();
    const inventory = stackInventory({}, { groups: { pgbackrest: ['pg3'] } });
    const p = planStack(stackInputs(project, assets, inventory), {
      pgbackrest_cipher_pass: new Secret('c-7'),
    });
    expect(contentOf(p, 'metrics', 'pg3', "pgprov's textfile metrics script")).toContain('STANZA = "test"');
    expect(contentOf(p, 'metrics', 'pg1', "pgprov's textfile metrics script")).toContain('STANZA = None');
  });

  it('does nothing with monitoring_enabled false, and PostgreSQL admits no exporter', () => {
    const p = plan({ monitoring_enabled: false });
    expect(p.phases.map((x) => x.name)).not.toContain('metrics');
    expect(contentOf(p, 'patroni', 'pg1', 'Patroni configuration')).not.toContain('pgprov_monitor');
  });
});

describe("pgprov's textfile metrics script", () => {
  it('writes each certificate expiry (both CAs of a ca.crt mid-rotation) for the node exporter', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgprov-metrics-'));
    const certs = join(dir, 'pki');
    const out = join(dir, 'textfile');
    mkdirSync(certs);
    mkdirSync(out);
    const ca = async (name: string, days: number) =>
      issueCa({
        commonName: name,
        keys: await generateKeyPair(),
        notBefore: new Date('2026-01-01T00:00:00Z'),
        validityDays: days,
        serial: randomSerial(),
      });
    writeFileSync(join(certs, 'ca.crt'), (await ca('old CA', 10)) + (await ca('new CA', 3650)));
    const script = contentOf(
      plan({ monitoring_certificate_dirs: [certs, ''], monitoring_textfile_dir: out }),
      'metrics',
      'pg1',
      "pgprov's textfile metrics script",
    );
    writeFileSync(join(dir, 'pgprov-metrics'), script);
    execFileSync('python3', [join(dir, 'pgprov-metrics')]);
    const metrics = readFileSync(join(out, 'pgprov.prom'), 'utf8');
    expect(metrics).toContain(
      `pgprov_certificate_expiry_timestamp_seconds{path="${certs}/ca.crt",subject="CN=old CA"} ${Date.parse('2026-01-11T00:00:00Z') / 1000}`,
    );
    expect(metrics).toMatch(/subject="CN=new CA"\} \d+\n/);
    expect(metrics).toContain('pgprov_metrics_success 1');
    expect(metrics).not.toContain('pgprov_backup');
  });
});
