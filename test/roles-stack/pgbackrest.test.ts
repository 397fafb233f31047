import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { InputError } from '../../src/core/errors.js';
import { collectEvents } from '../../src/core/events.js';
import { Secret } from '../../src/core/secret.js';
import { applyPlan } from '../../src/engine/apply.js';
import type { RunPlan } from '../../src/engine/plan.js';
import type { Inventory, InventoryHost } from '../../src/inventory/model.js';
import type { CommandArgs } from '../../src/ops/command.js';
import type { FileArgs } from '../../src/ops/file.js';
import type { PackageArgs } from '../../src/ops/package.js';
import { issueCa } from '../../src/pki/issue.js';
import { generateKeyPair } from '../../src/pki/keys.js';
import type { Project } from '../../src/roles/model.js';
import type { ExecResult, Transport } from '../../src/transport/transport.js';
import { contentOf, loadShippedProject, planStack, stackInputs, stackInventory, taskOf } from './support.js';

let project: Project;
let assets: Awaited<ReturnType<typeof loadShippedProject>>['assets'];
beforeAll(async () => {
  ({ project, assets } = await loadShippedProject());
});

const CIPHER_PASS = 'cipher-pass-7f3a9c';
const S3_KEY_SECRET = 's3-secret-key-91b2';

/**
 * The stack inventory with a pgBackRest repository host: `shared` is the lab's shape (pg3 also holds the
 * repository), `dedicated` the production example's (backup1 apart from the database hosts).
 */
function backupInventory(shape: 'shared' | 'dedicated', vars: Record<string, unknown> = {}): Inventory {
  const inventory = stackInventory(vars);
  if (shape === 'dedicated') {
    const backup1: InventoryHost = {
      name: 'backup1',
      connection: { address: '10.231.0.31', port: 22, user: 'vagrant', become: true },
      groups: ['all', 'pgbackrest'],
      vars: { cluster_name: 'test', cluster_vip: '10.231.0.10', ...vars },
    };
    inventory.hosts.push(backup1);
    inventory.groups.all = [...(inventory.groups.all ?? []), 'backup1'];
    inventory.groups.pgbackrest = ['backup1'];
  } else {
    inventory.hosts.find((h) => h.name === 'pg3')?.groups.push('pgbackrest');
    inventory.groups.pgbackrest = ['pg3'];
  }
  return inventory;
}

const pgbackrestSecrets = () => ({ pgbackrest_cipher_pass: new Secret(CIPHER_PASS) });

const plan = (shape: 'shared' | 'dedicated', vars: Record<string, unknown> = {}) =>
  planStack(stackInputs(project, assets, backupInventory(shape, vars)), pgbackrestSecrets());

const conf = (p: RunPlan, phase: string, host: string) =>
  contentOf(p, phase, host, 'pgBackRest configuration');

/** The `key=value` lines of one section of an ini file, in order. */
function section(text: string, name: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf(`[${name}]`);
  if (start < 0) throw new Error(`no [${name}] in pgbackrest.conf`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('['));
  return lines.slice(start + 1, end < 0 ? undefined : end).filter((l) => l !== '' && !l.startsWith('#'));
}

const phasesOf = (p: RunPlan) => p.phases.map((x) => [x.name, x.hosts.map((h) => h.host.name)]);

describe('the pgBackRest phases', () => {
  it('set up the database hosts before Patroni and the repository host after it', () => {
    expect(phasesOf(plan('dedicated'))).toEqual([
      ['certificates', ['pg1', 'pg2', 'pg3', 'backup1']],
      ['etcd', ['pg1', 'pg2', 'pg3']],
      ['pgbackrest-db', ['pg1', 'pg2', 'pg3']],
      ['patroni', ['pg1', 'pg2', 'pg3']],
      ['pgbouncer', ['pg1', 'pg2', 'pg3']],
      ['pgbackrest', ['backup1']],
      ['haproxy', ['pg1', 'pg2', 'pg3']],
      ['keepalived', ['pg1', 'pg2', 'pg3']],
      ['metrics', ['pg1', 'pg2', 'pg3', 'backup1']],
    ]);
    const shared = phasesOf(plan('shared'));
    expect(shared.find(([name]) => name === 'pgbackrest')).toEqual(['pgbackrest', ['pg3']]);
  });

  it('do nothing without a pgbackrest group, or with an empty one', () => {
    const names = (inventory: Inventory) =>
      planStack(stackInputs(project, assets, inventory)).phases.map((x) => x.name);
    expect(names(stackInventory())).not.toContain('pgbackrest-db');
    const empty = stackInventory();
    empty.groups.pgbackrest = [];
    expect(names(empty)).not.toContain('pgbackrest-db');
    expect(names(empty)).not.toContain('pgbackrest');
  });

  it('install the package without starting anything, on the database hosts and the repository host', () => {
    const p = plan('dedicated');
    for (const [phase, host] of [
      ['pgbackrest-db', 'pg2'],
      ['pgbackrest', 'backup1'],
    ] as const) {
      const pkg = taskOf(p, phase, host, 'Install pgBackRest').args as PackageArgs;
      expect([pkg.names, pkg.startServices]).toEqual([['pgbackrest'], false]);
    }
  });

  it('keep the certificate owned by postgres, the key private, the configuration readable by postgres only', () => {
    const p = plan('dedicated');
    const cert = taskOf(p, 'pgbackrest-db', 'pg1', 'pgBackRest certificate').args as { files: FileArgs[] };
    expect(cert.files.map((f) => [f.path, f.owner, f.mode])).toEqual([
      ['/etc/pgbackrest/pki/ca.crt', 'postgres', '0644'],
      ['/etc/pgbackrest/pki/pg1.crt', 'postgres', '0644'],
      ['/etc/pgbackrest/pki/pg1.key', 'postgres', '0600'],
    ]);
    const file = taskOf(p, 'pgbackrest', 'backup1', 'pgBackRest configuration').args as FileArgs;
    expect([file.path, file.owner, file.group, file.mode]).toEqual([
      '/etc/pgbackrest/pgbackrest.conf',
      'root',
      'postgres',
      '0640',
    ]);
    // Checked on the host before it replaces the old file: pgBackRest parses it for the stanza.
    expect(file.validate).toBe(
      'e=$(pgbackrest --config=%s --stanza=test help backup 2>&1 >/dev/null) && [ -z "$e" ] || { echo "$e"; false; }',
    );
  });

  it('run the TLS server everywhere and reload it (never restart) when its configuration or certificate changes', () => {
    const p = plan('dedicated');
    for (const [phase, host] of [
      ['pgbackrest-db', 'pg1'],
      ['pgbackrest', 'backup1'],
    ] as const) {
      expect(taskOf(p, phase, host, 'pgBackRest TLS server running and enabled').args).toEqual({
        name: 'pgbackrest',
        state: 'started',
        enabled: true,
      });
      expect(taskOf(p, phase, host, 'pgBackRest configuration').notify).toEqual(['reload pgbackrest']);
      expect(taskOf(p, phase, host, 'pgBackRest certificate').notify).toEqual(['reload pgbackrest']);
      const hostPlan = p.phases.find((x) => x.name === phase)?.hosts.find((h) => h.host.name === host);
      expect(hostPlan?.handlers.get('reload pgbackrest')?.args).toEqual({
        name: 'pgbackrest',
        state: 'reloaded',
      });
    }
  });
});

describe("a dedicated repository host's pgbackrest.conf", () => {
  const text = () => conf(plan('dedicated'), 'pgbackrest', 'backup1');

  it('keeps the repository in a local folder, encrypted, with the retention', () => {
    const global = section(text(), 'global');
    expect(global).toEqual(
      expect.arrayContaining([
        'repo1-path=/var/lib/pgbackrest',
        'repo1-cipher-type=aes-256-cbc',
        `repo1-cipher-pass=${CIPHER_PASS}`,
        'repo1-retention-full=2',
        'repo1-retention-diff=7',
      ]),
    );
    expect(global.some((l) => l.startsWith('repo1-host'))).toBe(false);
    expect(global.some((l) => l.startsWith('archive-async'))).toBe(false);
  });

  it('serves TLS on its address with the cluster PKI, to itself and every database host, for this stanza', () => {
    const global = section(text(), 'global');
    expect(global.filter((l) => l.startsWith('tls-server-'))).toEqual([
      'tls-server-address=10.231.0.31',
      'tls-server-port=8432',
      'tls-server-ca-file=/etc/pgbackrest/pki/ca.crt',
      'tls-server-cert-file=/etc/pgbackrest/pki/backup1.crt',
      'tls-server-key-file=/etc/pgbackrest/pki/backup1.key',
      'tls-server-auth=backup1=test',
      'tls-server-auth=pg1=test',
      'tls-server-auth=pg2=test',
      'tls-server-auth=pg3=test',
    ]);
  });

  it('also serves the standby clusters recorded in the state folder, by their certificate names, this stanza only', () => {
    const withStandby = plan('dedicated', { pgbackrest_standby_clients: ['standby.dr'] });
    const auth = (host: string, phase: string) =>
      section(conf(withStandby, phase, host), 'global').filter((l) => l.startsWith('tls-server-auth='));
    expect(auth('backup1', 'pgbackrest').at(-1)).toBe('tls-server-auth=standby.dr=test');
    // The database hosts' servers (backups, restores) are the repository host's business alone.
    expect(auth('pg1', 'pgbackrest-db')).not.toContain('tls-server-auth=standby.dr=test');
  });

  it('reaches every database host by name through its TLS server; pg1 is the first (pgBackRest requires pg1)', () => {
    const stanza = section(text(), 'test');
    const remote = (index: string, host: string) => [
      `pg${index}-host=${host}`,
      `pg${index}-host-type=tls`,
      `pg${index}-host-port=8432`,
      `pg${index}-host-ca-file=/etc/pgbackrest/pki/ca.crt`,
      `pg${index}-host-cert-file=/etc/pgbackrest/pki/backup1.crt`,
      `pg${index}-host-key-file=/etc/pgbackrest/pki/backup1.key`,
      `pg${index}-path=/var/lib/postgresql/15/test`,
      `pg${index}-port=5432`,
      `pg${index}-socket-path=/var/run/postgresql`,
    ];
    expect(stanza).toEqual([
      'backup-standby=n',
      ...remote('1', 'pg1'),
      ...remote('11', 'pg2'),
      ...remote('12', 'pg3'),
    ]);
  });

  it('backs up with parallel processes, and from a replica when asked', () => {
    expect(section(text(), 'global:backup')).toEqual(['process-max=2']);
    const tuned = conf(
      plan('dedicated', { pgbackrest_backup_standby: true, pgbackrest_backup_process_max: 4 }),
      'pgbackrest',
      'backup1',
    );
    expect(section(tuned, 'test')[0]).toBe('backup-standby=y');
    expect(section(tuned, 'global:backup')).toEqual(['process-max=4']);
  });

  it('takes the repository path, retention, TLS port and stanza from variables', () => {
    const tuned = conf(
      plan('dedicated', {
        cluster_name: 'prod',
        pgbackrest_repo_path: '/srv/backups',
        pgbackrest_retention_full: 4,
        pgbackrest_retention_diff: 14,
        pgbackrest_tls_port: 9432,
      }),
      'pgbackrest',
      'backup1',
    );
    expect(section(tuned, 'global')).toEqual(
      expect.arrayContaining([
        'repo1-path=/srv/backups',
        'repo1-retention-full=4',
        'repo1-retention-diff=14',
        'tls-server-port=9432',
        'tls-server-auth=pg2=prod',
      ]),
    );
    expect(section(tuned, 'prod')).toEqual(
      expect.arrayContaining(['pg1-host-port=9432', 'pg1-path=/var/lib/postgresql/15/prod']),
    );
  });
});

describe("a database host's pgbackrest.conf", () => {
  const text = (host = 'pg2') => conf(plan('dedicated'), 'pgbackrest-db', host);

  it('reaches the repository through the repository host by name, with its own certificate', () => {
    const global = section(text(), 'global');
    expect(global.filter((l) => l.startsWith('repo1-'))).toEqual([
      'repo1-host=backup1',
      'repo1-path=/var/lib/pgbackrest',
      'repo1-host-type=tls',
      'repo1-host-port=8432',
      'repo1-host-ca-file=/etc/pgbackrest/pki/ca.crt',
      'repo1-host-cert-file=/etc/pgbackrest/pki/pg2.crt',
      'repo1-host-key-file=/etc/pgbackrest/pki/pg2.key',
      // It encrypts the WAL it pushes and decrypts what it fetches itself.
      'repo1-cipher-type=aes-256-cbc',
      `repo1-cipher-pass=${CIPHER_PASS}`,
    ]);
  });

  it('archives asynchronously, compressed before the network', () => {
    const t = text();
    expect(section(t, 'global')).toEqual(expect.arrayContaining(['archive-async=y', 'compress-type=zst']));
    expect(section(t, 'global:archive-push')).toEqual(['process-max=2']);
    // Short timeouts: a repository host down with the leader must not hold up a replica's promotion.
    expect(section(t, 'global:archive-get')).toEqual(['process-max=2', 'io-timeout=1', 'archive-timeout=1']);
  });

  it('serves TLS to itself and the repository host only', () => {
    expect(section(text('pg3'), 'global').filter((l) => l.startsWith('tls-server-'))).toEqual([
      'tls-server-address=10.231.0.13',
      'tls-server-port=8432',
      'tls-server-ca-file=/etc/pgbackrest/pki/ca.crt',
      'tls-server-cert-file=/etc/pgbackrest/pki/pg3.crt',
      'tls-server-key-file=/etc/pgbackrest/pki/pg3.key',
      'tls-server-auth=pg3=test',
      'tls-server-auth=backup1=test',
    ]);
  });

  it('names its own cluster as pg1, and no other host', () => {
    expect(section(text(), 'test')).toEqual([
      'pg1-path=/var/lib/postgresql/15/test',
      'pg1-port=5432',
      'pg1-socket-path=/var/run/postgresql',
    ]);
  });
});

describe('a host that is both a database host and the repository host (the lab)', () => {
  it('keeps the repository locally, its own cluster as pg1 and the others as pg10, pg11', () => {
    const p = plan('shared');
    const text = conf(p, 'pgbackrest-db', 'pg3');
    expect(conf(p, 'pgbackrest', 'pg3')).toBe(text);
    const global = section(text, 'global');
    expect(global).toEqual(
      expect.arrayContaining(['repo1-path=/var/lib/pgbackrest', 'repo1-retention-full=2', 'archive-async=y']),
    );
    expect(global.some((l) => l.startsWith('repo1-host'))).toBe(false);
    expect(global.filter((l) => l.startsWith('tls-server-auth'))).toEqual([
      'tls-server-auth=pg3=test',
      'tls-server-auth=pg1=test',
      'tls-server-auth=pg2=test',
    ]);
    const stanza = section(text, 'test');
    expect(stanza.slice(0, 4)).toEqual([
      'pg1-path=/var/lib/postgresql/15/test',
      'pg1-port=5432',
      'pg1-socket-path=/var/run/postgresql',
      'backup-standby=n',
    ]);
    expect(stanza.filter((l) => /^pg\d+-host=/.test(l))).toEqual(['pg10-host=pg1', 'pg11-host=pg2']);
    expect(section(conf(p, 'pgbackrest-db', 'pg1'), 'global')).toContain('repo1-host=pg3');
  });
});

describe('an S3 repository', () => {
  const s3 = {
    pgbackrest_repo_type: 's3',
    pgbackrest_repo_path: '/pgbackrest/test',
    pgbackrest_s3_endpoint: 'minio.example.net',
    pgbackrest_s3_port: 9000,
    pgbackrest_s3_bucket: 'backups',
    pgbackrest_s3_region: 'us-east-1',
    pgbackrest_s3_uri_style: 'path',
  };
  const s3Plan = (vars: Record<string, unknown> = s3) =>
    planStack(stackInputs(project, assets, backupInventory('dedicated', vars)), {
      ...pgbackrestSecrets(),
      pgbackrest_s3_key: new Secret('s3-key-id'),
      pgbackrest_s3_key_secret: new Secret(S3_KEY_SECRET),
    });

  it('is fetched from directly: no repository host to ask first', () => {
    expect(parametersOf(s3Plan(), 'pg1').restore_command).toBe(
      'pgbackrest --stanza=test archive-get %f "%p"',
    );
  });

  it('is written to by every host directly, encrypted; the backups still run on the repository host', () => {
    const p = s3Plan();
    for (const [phase, host] of [
      ['pgbackrest-db', 'pg1'],
      ['pgbackrest', 'backup1'],
    ] as const) {
      const global = section(conf(p, phase, host), 'global');
      expect(global.filter((l) => l.startsWith('repo1-'))).toEqual(
        expect.arrayContaining([
          'repo1-type=s3',
          'repo1-path=/pgbackrest/test',
          'repo1-s3-endpoint=minio.example.net',
          'repo1-storage-port=9000',
          'repo1-s3-bucket=backups',
          'repo1-s3-region=us-east-1',
          'repo1-s3-uri-style=path',
          'repo1-s3-key=s3-key-id',
          `repo1-s3-key-secret=${S3_KEY_SECRET}`,
          'repo1-storage-verify-tls=y',
          'repo1-cipher-type=aes-256-cbc',
        ]),
      );
      expect(global.some((l) => l.startsWith('repo1-host'))).toBe(false);
    }
    // The repository host serves no database host (they write to the bucket): it accepts only itself.
    expect(
      section(conf(p, 'pgbackrest', 'backup1'), 'global').filter((l) => l.startsWith('tls-server-auth')),
    ).toEqual(['tls-server-auth=backup1=test']);
    expect(section(conf(p, 'pgbackrest', 'backup1'), 'test')).toContain('pg1-host=pg1');
    // The stanza is created in the bucket; there is no local repository folder.
    expect((taskOf(p, 'pgbackrest', 'backup1', 'Stanza').args as CommandArgs).cmd).toContain('stanza-create');
    expect(() => taskOf(p, 'pgbackrest', 'backup1', 'pgBackRest repository folder')).toThrow(/no task/);
  });

  it('needs its endpoint, bucket and region: planning stops and names what is missing', () => {
    const { pgbackrest_s3_bucket: _, ...withoutBucket } = s3;
    try {
      s3Plan(withoutBucket);
      expect.unreachable('planning should fail');
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).issues.map((i) => i.message).join('\n')).toContain(
        "variable 'pgbackrest_s3_bucket' is not defined",
      );
    }
  });
});

const parametersOf = (p: RunPlan, host: string) =>
  (
    parse(contentOf(p, 'patroni', host, 'Patroni configuration')) as {
      postgresql: { parameters: Record<string, string> };
    }
  ).postgresql.parameters;

describe("Patroni's archive_command and restore_command", () => {
  const parameters = (p: RunPlan) => parametersOf(p, 'pg1');

  it('push WAL to and fetch it from the stanza when there is a repository', () => {
    const p = plan('dedicated');
    expect(parameters(p)).toMatchObject({
      archive_mode: 'on',
      archive_command: '/usr/local/sbin/pgprov-leader-only pgbackrest --stanza=test archive-push %p',
      restore_command:
        '/usr/local/sbin/pgprov-if-answers backup1:8432 0.5 pgbackrest --stanza=test archive-get %f "%p"',
    });
    // Only the member holding the leader key archives: a member promoted outside Patroni must not put its
    // forked timeline's history in the archive every replica reads.
    const script = contentOf(p, 'pgbackrest-db', 'pg1', 'Archiving from the leader only');
    expect(script).toContain('API = "https://10.231.0.11:8008"');
    expect(script).toContain('CA = "/etc/patroni/pki/ca.crt"');
  });

  it('fetch from the repository host only when it answers at once; on the repository host itself, directly', async () => {
    const p = plan('shared', { pgbackrest_archive_get_connect_timeout: 2 });
    expect(parametersOf(p, 'pg1').restore_command).toBe(
      '/usr/local/sbin/pgprov-if-answers pg3:8432 2 pgbackrest --stanza=test archive-get %f "%p"',
    );
    expect(parametersOf(p, 'pg3').restore_command).toBe('pgbackrest --stanza=test archive-get %f "%p"');

    // The script, run by this machine's bash: a port that accepts runs the command, one that refuses does not,
    // at once, with exit 1 (PostgreSQL's "not in the archive") and a line for PostgreSQL's log.
    const dir = await mkdtemp(join(tmpdir(), 'pgprov-if-answers-'));
    const script = join(dir, 'pgprov-if-answers');
    await writeFile(
      script,
      contentOf(p, 'pgbackrest-db', 'pg1', 'WAL fetched only from a repository host that answers'),
      {
        mode: 0o755,
      },
    );
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const run = (target: string) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(script, [target, '0.5', 'echo', 'fetched'], (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
        ),
      );
    try {
      expect(await run(`127.0.0.1:${port}`)).toMatchObject({ code: 0, stdout: 'fetched\n' });
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const refused = await run(`127.0.0.1:${port}`);
      expect(refused).toMatchObject({ code: 1, stdout: '' });
      expect(refused.stderr).toContain(
        `127.0.0.1:${port} accepts no connection within 0.5 s: not running echo`,
      );
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('discard WAL and fetch none without one', () => {
    expect(parameters(planStack(stackInputs(project, assets, stackInventory())))).toMatchObject({
      archive_mode: 'on',
      archive_command: '/bin/true',
      restore_command: '',
    });
  });

  it('stay /bin/true and empty when the phases do not set pgBackRest up, even with a pgbackrest group', () => {
    const withoutPgbackrest: Project = {
      ...project,
      phases: project.phases.filter((x) => !x.roles.some((r) => r.startsWith('pgbackrest'))),
      roles: new Map([...project.roles].filter(([name]) => !name.startsWith('pgbackrest'))),
    };
    const p = planStack(stackInputs(withoutPgbackrest, assets, backupInventory('shared')));
    expect(p.phases.map((x) => x.name)).not.toContain('pgbackrest-db');
    expect(parameters(p)).toMatchObject({ archive_command: '/bin/true', restore_command: '' });
  });

  it('a new replica is restored from the repository first, pg_basebackup if that fails; unless told not to', () => {
    const config = (p: RunPlan) =>
      parse(contentOf(p, 'patroni', 'pg1', 'Patroni configuration')) as {
        postgresql: Record<string, unknown>;
      };
    expect(config(plan('shared')).postgresql).toMatchObject({
      create_replica_methods: ['pgbackrest', 'basebackup'],
      pgbackrest: {
        command:
          '/usr/local/sbin/pgprov-replica-from-backup pgbackrest --stanza=test --delta --type=none restore',
        keep_data: true,
        no_params: true,
      },
    });
    const off = config(plan('shared', { patroni_replica_from_backup: false })).postgresql;
    const none = config(planStack(stackInputs(project, assets, stackInventory()))).postgresql;
    const withoutPgbackrest: Project = {
      ...project,
      phases: project.phases.filter((x) => !x.roles.some((r) => r.startsWith('pgbackrest'))),
      roles: new Map([...project.roles].filter(([name]) => !name.startsWith('pgbackrest'))),
    };
    const noPhase = config(
      planStack(stackInputs(withoutPgbackrest, assets, backupInventory('shared'))),
    ).postgresql;
    for (const p of [off, none, noPhase]) {
      expect(p.create_replica_methods).toBeUndefined();
      expect(p.pgbackrest).toBeUndefined();
    }
  });

  it('need no pg_hba line: pgBackRest reaches PostgreSQL over the local socket as postgres', () => {
    const config = parse(contentOf(plan('dedicated'), 'patroni', 'pg1', 'Patroni configuration')) as {
      postgresql: { pg_hba: string[] };
    };
    expect(config.postgresql.pg_hba).toContain('local all postgres peer');
    expect(config.postgresql.pg_hba.join('\n')).not.toContain('pgbackrest');
  });
});

describe('the repository host: stanza and scheduled backups', () => {
  it('creates the stanza as postgres, after Patroni, only when `info` does not report it, waiting for the leader', () => {
    const p = plan('dedicated');
    const names = p.phases.map((x) => x.name);
    expect(names.indexOf('patroni')).toBeLessThan(names.indexOf('pgbackrest'));
    const stanza = taskOf(p, 'pgbackrest', 'backup1', 'Stanza').args as CommandArgs;
    expect(stanza.unless).toBe(
      'runuser -u postgres -- pgbackrest --stanza=test --output=json info | grep -Eq \'"name":"test","repo":\\[[^]]*\\],"status":\\{"code":(0|2),\'',
    );
    expect(stanza.cmd).toContain('until runuser -u postgres -- pgbackrest --stanza=test stanza-create; do');
    expect(stanza.cmd).toContain('deadline=$(( $(date +%s) + 300 ))');
    // Only "no leader found" (56) is worth waiting for; any other error stops at once.
    expect(stanza.cmd).toContain('if [ "$code" -ne 56 ] && [ "$code" -ne 50 ]; then exit "$code"; fi');
  });

  it('guards every command it runs', () => {
    for (const shape of ['shared', 'dedicated'] as const) {
      const commands = plan(shape)
        .phases.filter((x) => x.name.startsWith('pgbackrest'))
        .flatMap((x) => x.hosts.flatMap((h) => h.tasks))
        .filter((t) => t.op.module === 'command')
        .map((t) => t.args as CommandArgs);
      expect(commands.length).toBeGreaterThan(0);
      for (const c of commands) expect(c.unless ?? c.creates).toBeTruthy();
    }
  });

  it('takes full, differential and incremental backups from timers: weekly, daily, hourly by default', () => {
    const p = plan('dedicated');
    const timer = (kind: string, task: string) => {
      const file = taskOf(p, 'pgbackrest', 'backup1', task).args as FileArgs;
      expect([file.path, file.owner, file.mode]).toEqual([
        `/etc/systemd/system/pgbackrest-backup-${kind}.timer`,
        'root',
        '0644',
      ]);
      expect(file.validate).toBe(`systemd-analyze calendar "$(sed -n 's/^OnCalendar=//p' %s)"`);
      return String(file.content);
    };
    const full = timer('full', 'Full backup timer');
    expect(full).toMatch(/^OnCalendar=Sun \*-\*-\* 01:00:00$/m);
    expect(full).toMatch(/^Unit=pgbackrest-backup@full\.service$/m);
    expect(full).toMatch(/^Persistent=true$/m);
    expect(full).toMatch(/^WantedBy=timers\.target$/m);
    expect(timer('diff', 'Differential backup timer')).toMatch(/^OnCalendar=Mon\.\.Sat \*-\*-\* 01:00:00$/m);
    expect(timer('incr', 'Incremental backup timer')).toMatch(/^OnCalendar=\*-\*-\* \*:30:00$/m);
    for (const [kind, task] of [
      ['full', 'Full backups scheduled'],
      ['diff', 'Differential backups scheduled'],
      ['incr', 'Incremental backups scheduled'],
    ]) {
      expect(taskOf(p, 'pgbackrest', 'backup1', task as string).args).toEqual({
        name: `pgbackrest-backup-${kind}.timer`,
        state: 'started',
        enabled: true,
      });
    }
  });

  it('runs each backup as postgres, one at a time, with no start timeout', () => {
    const unit = contentOf(plan('dedicated'), 'pgbackrest', 'backup1', 'Backup service');
    expect(unit).toMatch(/^Type=oneshot$/m);
    expect(unit).toMatch(/^User=postgres$/m);
    expect(unit).toMatch(/^TimeoutStartSec=infinity$/m);
    expect(unit).toMatch(
      /^ExecStart=\/usr\/bin\/flock \/var\/spool\/pgbackrest\/backup-test\.lock \/usr\/bin\/pgbackrest --stanza=test --type=%i --log-level-console=info backup$/m,
    );
    const file = taskOf(plan('dedicated'), 'pgbackrest', 'backup1', 'Backup service').args as FileArgs;
    expect(file.path).toBe('/etc/systemd/system/pgbackrest-backup@.service');
    // Only there to daemon-reload a changed template: it neither starts nor enables a backup.
    expect(taskOf(plan('dedicated'), 'pgbackrest', 'backup1', 'Backup service loaded').args).toEqual({
      name: 'pgbackrest-backup@full.service',
    });
  });

  it('takes the schedules from variables', () => {
    const p = plan('dedicated', {
      pgbackrest_full_schedule: 'Sat *-*-* 22:00:00',
      pgbackrest_incr_schedule: '*-*-* 06..20:00:00',
    });
    expect(contentOf(p, 'pgbackrest', 'backup1', 'Full backup timer')).toContain(
      'OnCalendar=Sat *-*-* 22:00:00',
    );
    expect(contentOf(p, 'pgbackrest', 'backup1', 'Incremental backup timer')).toContain(
      'OnCalendar=*-*-* 06..20:00:00',
    );
  });

  it('has no repository tasks on the database hosts', () => {
    const tasks = plan('dedicated')
      .phases.filter((x) => x.name === 'pgbackrest-db')
      .flatMap((x) => x.hosts.flatMap((h) => h.tasks.map((t) => t.role)));
    expect(new Set(tasks)).toEqual(new Set(['pgbackrest']));
  });
});

/**
 * A host with nothing on it, for `--check`: every fact reads empty with a failing status (no file, no package,
 * no unit, every check fails), so every task plans its change.
 */
function blankHost(name: string): Transport {
  return {
    host: name,
    roundTrips: 0,
    exec: async (command): Promise<ExecResult> => {
      const script = command.script();
      const nonce = /@@([0-9a-f]+) \d+/.exec(script)?.[1] ?? '';
      const indexes = [...script.matchAll(new RegExp(`@@${nonce} (\\d+)\\n`, 'g'))].map((m) => m[1]);
      const stdout = indexes.map((i) => `\n@@${nonce} ${i}\n\n@@${nonce}-rc ${i} 1\n`).join('');
      return { code: 0, stdout, stderr: '' };
    },
    put: async () => {
      throw new Error('check mode uploads nothing');
    },
    get: async () => Buffer.from(''),
    close: async () => undefined,
  };
}

describe('the repository passphrase', () => {
  it('is masked by the plan', () => {
    expect(plan('dedicated').masker.mask(`x ${CIPHER_PASS} y`)).toBe('x ******** y');
  });

  it('never appears in what `apply --check --diff` reports, though the files it shows contain it', async () => {
    for (const shape of ['shared', 'dedicated'] as const) {
      const p = plan(shape);
      const { sink, events } = collectEvents();
      const result = await applyPlan(p, {
        check: true,
        diff: true,
        forks: 4,
        sink,
        connect: async (host) => blankHost(host.name),
        inventoryFile: '/tmp/inventory.yaml',
      });
      expect(result.failed).toBe(false);
      const diffs = events.flatMap((e) =>
        e.type === 'task-result' && e.diff?.path === '/etc/pgbackrest/pgbackrest.conf' ? [e.diff.text] : [],
      );
      expect(diffs.length).toBeGreaterThan(0);
      for (const text of diffs) expect(text).toContain('+repo1-cipher-pass=********');
      expect(JSON.stringify(events)).not.toContain(CIPHER_PASS);
    }
  });
});

/**
 * The archive guard as it runs on a host (python3), against a stand-in for Patroni's REST API: only the URL and CA
 * of the rendered script change, to a plain HTTP server of this test and a CA file it writes.
 */
describe('pgprov-leader-only, the archive guard', { timeout: 60_000 }, () => {
  let dir = '';
  let script = '';
  let answers: { leader: number; clusterTimeline: number } = { leader: 200, clusterTimeline: 1 };
  let server: Server;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pgprov-guard-'));
    const keys = await generateKeyPair();
    const ca = issueCa({ keys, commonName: 'test', notBefore: new Date(), validityDays: 1, serial: '01' });
    await writeFile(join(dir, 'ca.crt'), ca);
    server = createServer((req, res) => {
      if (req.url === '/leader') res.writeHead(answers.leader).end('{}');
      else if (req.url === '/cluster') {
        const members = [{ name: 'pg3', role: 'leader', timeline: answers.clusterTimeline }];
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ members }));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const rendered = () =>
    contentOf(plan('dedicated'), 'pgbackrest-db', 'pg1', 'Archiving from the leader only');
  /** This member's API at `api`; the others' at `others`. */
  const guard = async (api: string, others: string[] = []) => {
    const text = rendered()
      .replace('API = "https://10.231.0.11:8008"', `API = "${api}"`)
      .replace(/^APIS = .*$/m, `APIS = ${JSON.stringify([api, ...others])}`)
      .replace('CA = "/etc/patroni/pki/ca.crt"', `CA = "${join(dir, 'ca.crt')}"`);
    script = join(dir, 'pgprov-leader-only');
    await writeFile(script, text, { mode: 0o755 });
  };
  /** Runs the guard as PostgreSQL does, from a data directory whose pg_wal holds these history files. */
  const archive = async (file: string, histories: string[] = []) => {
    const data = await mkdtemp(join(dir, 'data-'));
    await mkdir(join(data, 'pg_wal'));
    for (const h of histories) await writeFile(join(data, 'pg_wal', h), '');
    return new Promise<{ code: number; out: string }>((resolve) => {
      execFile('python3', [script, 'echo', 'archived', file], { cwd: data }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, out: `${stdout}${stderr}`.trim() }),
      );
    });
  };
  const local = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  it('archives on the leader, and when no member answers (the cluster stopped for a restore)', async () => {
    await guard(local());
    answers = { leader: 200, clusterTimeline: 2 };
    expect(await archive('pg_wal/00000003.history')).toEqual({
      code: 0,
      out: 'archived pg_wal/00000003.history',
    });
    await guard('http://127.0.0.1:9'); // nothing listens on the discard port
    expect((await archive('pg_wal/00000003.history')).code).toBe(0);
  });

  it("refuses every file of a member on a forked timeline, archives an old leader's", async () => {
    await guard(local());
    answers = { leader: 503, clusterTimeline: 2 };
    const forked = ['00000002.history', '00000003.history'];
    expect(await archive('pg_wal/00000003.history', forked)).toEqual({
      code: 1,
      out: 'pgprov-leader-only: not archiving pg_wal/00000003.history: this member is on timeline 3, the leader pg3 on 2, and it does not hold the leader key',
    });
    // pgBackRest's asynchronous push sends every ready file: the old timeline's partial segment of a forked
    // member would carry its history file along, so nothing of that member goes.
    expect((await archive('pg_wal/00000002000000000000000A.partial', forked)).code).toBe(1);
    // An old leader's last segments, its key already released: the cluster's timeline, archived.
    expect((await archive('pg_wal/000000020000000000000009', ['00000002.history'])).code).toBe(0);
    // Its own Patroni silent (stopping while it demotes the forked member): another member answers.
    await guard('http://127.0.0.1:9', [local()]);
    expect((await archive('pg_wal/000000020000000000000009', forked)).code).toBe(1);
    expect((await archive('pg_wal/000000020000000000000009', ['00000002.history'])).code).toBe(0);
  });

  it("asks every member's Patroni, this one first", () => {
    expect(rendered()).toContain(
      'APIS = [API] + [a for a in ["https://10.231.0.11:8008", "https://10.231.0.12:8008", "https://10.231.0.13:8008", ] if a != API]',
    );
    // The script as rendered is valid Python.
    expect(() =>
      execFileSync('python3', ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], { input: rendered() }),
    ).not.toThrow();
  });
});
