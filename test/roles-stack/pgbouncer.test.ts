import { describe, expect, it } from 'vitest';
import type { CommandArgs } from '../../src/ops/command.js';
import type { FileArgs } from '../../src/ops/file.js';
import { parse } from 'yaml';
import { contentOf, shippedStackPlanner, taskOf } from './support.js';

const plan = shippedStackPlanner();
const ini = (vars: Record<string, unknown> = {}, host = 'pg1') =>
  contentOf(plan(vars), 'pgbouncer', host, 'PgBouncer configuration');
/** `key = value` lines of the ini, comments and section headers left out. */
const settings = (text: string) =>
  new Map(
    text
      .split('\n')
      .filter((l) => /^\w+ = /.test(l))
      .map((l) => [l.slice(0, l.indexOf(' = ')), l.slice(l.indexOf(' = ') + 3)] as const),
  );

describe("the pgbouncer role's pgbouncer.ini", () => {
  it('pools the application database on this host, over TLS checked against the CA and 127.0.0.1', () => {
    const s = settings(ini());
    expect(s.get('app')).toBe('host=127.0.0.1 port=5432 dbname=app');
    expect(s.get('server_tls_sslmode')).toBe('verify-full');
    expect(s.get('server_tls_ca_file')).toBe('/etc/pgbouncer/pki/ca.crt');
    // The host certificate is also the lookup role's only credential (pg_hba `cert`).
    expect(s.get('server_tls_cert_file')).toBe('/etc/pgbouncer/pki/pg1.crt');
    expect(s.get('server_tls_key_file')).toBe('/etc/pgbouncer/pki/pg1.key');
    expect(settings(ini({}, 'pg2')).get('client_tls_cert_file')).toBe('/etc/pgbouncer/pki/pg2.crt');
  });

  it('takes TLS clients only, with SCRAM secrets looked up in PostgreSQL: no password or user list stored', () => {
    const s = settings(ini());
    expect(s.get('client_tls_sslmode')).toBe('require');
    expect(s.get('auth_type')).toBe('scram-sha-256');
    expect(s.get('auth_user')).toBe('pgbouncer');
    expect(s.get('auth_query')).toBe('SELECT usename, passwd FROM pgbouncer.get_auth($1)');
    expect(s.has('auth_file')).toBe(false);
    expect(ini()).not.toMatch(/^\s*(password|auth_file)\s*=/m);
    expect(ini()).not.toMatch(/pass-\d/);
  });

  it('takes the pool mode, sizes and per-database settings from variables', () => {
    expect(settings(ini()).get('pool_mode')).toBe('transaction');
    expect(settings(ini()).get('default_pool_size')).toBe('20');
    const s = settings(
      ini({
        pgbouncer_pool_mode: 'session',
        pgbouncer_default_pool_size: 7,
        pgbouncer_max_client_conn: 500,
        pgbouncer_databases: [
          { name: 'app', pool_size: 40, pool_mode: 'transaction' },
          { name: 'reports', max_db_connections: 5 },
        ],
      }),
    );
    expect([s.get('pool_mode'), s.get('default_pool_size'), s.get('max_client_conn')]).toEqual([
      'session',
      '7',
      '500',
    ]);
    expect(s.get('app')).toBe('host=127.0.0.1 port=5432 dbname=app pool_size=40 pool_mode=transaction');
    expect(s.get('reports')).toBe('host=127.0.0.1 port=5432 dbname=reports max_db_connections=5');
  });

  it('is reloaded when pools or certificates change, restarted only when where it listens changes', () => {
    const p = plan();
    expect(taskOf(p, 'pgbouncer', 'pg1', 'PgBouncer configuration').notify).toEqual(['reload pgbouncer']);
    expect(taskOf(p, 'pgbouncer', 'pg1', 'PgBouncer certificate').notify).toEqual(['reload pgbouncer']);
    expect(taskOf(p, 'pgbouncer', 'pg1', 'PgBouncer listens').notify).toEqual(['restart pgbouncer']);
    expect(contentOf(p, 'pgbouncer', 'pg1', 'PgBouncer listens')).toContain('listen_port = 6432');
    expect(ini()).toContain('%include /etc/pgbouncer/listen.ini');
    const host = p.phases.find((x) => x.name === 'pgbouncer')?.hosts[0];
    expect(host?.handlers.get('reload pgbouncer')?.args).toEqual({ name: 'pgbouncer', state: 'reloaded' });
    expect(host?.handlers.get('restart pgbouncer')?.args).toEqual({ name: 'pgbouncer', state: 'restarted' });
    const limit = taskOf(p, 'pgbouncer', 'pg1', 'PgBouncer may open a descriptor per connection')
      .args as FileArgs;
    expect(limit.content).toContain('LimitNOFILE=8192');
  });

  it('keeps its files from other users: the configuration is root-owned, readable by postgres', () => {
    const file = taskOf(plan(), 'pgbouncer', 'pg1', 'PgBouncer configuration').args as FileArgs;
    expect([file.path, file.owner, file.group, file.mode]).toEqual([
      '/etc/pgbouncer/pgbouncer.ini',
      'root',
      'postgres',
      '0640',
    ]);
  });
});

describe('the lookup role and function', () => {
  const task = (vars: Record<string, unknown> = {}) =>
    taskOf(plan(vars), 'pgbouncer', 'pg1', "Lookup role and function for PgBouncer's auth_query")
      .args as CommandArgs;

  it('never returns the secret of a superuser or a replication role, and only the lookup role may call it', () => {
    const { cmd } = task();
    expect(cmd).toContain(
      'SELECT usename::text, passwd::text FROM pg_catalog.pg_shadow WHERE usename = p_usename AND NOT usesuper AND NOT userepl',
    );
    expect(cmd).toContain('SECURITY DEFINER SET search_path = pg_catalog');
    expect(cmd).toContain('REVOKE ALL ON FUNCTION pgbouncer.get_auth(text) FROM PUBLIC;');
    expect(cmd).toContain('GRANT EXECUTE ON FUNCTION pgbouncer.get_auth(text) TO "pgbouncer";');
    expect(cmd).toContain('NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD NULL');
  });

  it('is made by the leader only, and its check compares the very function the command makes', () => {
    const { cmd, unless } = task();
    expect(unless).toContain(
      'if ! /usr/local/sbin/pgprov-is-leader; then echo "not the leader: the leader makes them"; exit 0; fi',
    );
    const check = contentOf(plan(), 'patroni', 'pg1', 'Leader check for cluster-wide SQL');
    expect(check).toContain('api=https://10.231.0.11:8008\n');
    expect(check).toContain('--cacert /etc/patroni/pki/ca.crt "$@"');
    expect(check).toContain(`"$api/primary" || true)" = 200 && exit 0`);
    // While no member leads yet (bootstrap), it waits instead of answering "not me" on every member.
    expect(check).toContain('if [ "$i" -ge 60 ]; then');
    const body = /AS \$pgprov\$(.*)\$pgprov\$;/.exec(cmd)?.[1];
    expect(body).toBeDefined();
    expect(unless).toContain(`p.prosrc = $pgprov$${body}$pgprov$`);
  });

  it('is made in each pooled database', () => {
    const { cmd, unless } = task({ pgbouncer_databases: [{ name: 'app' }, { name: 'reports' }] });
    expect(cmd.match(/psql -XAtq -v ON_ERROR_STOP=1 -d "(\w+)"/g)).toHaveLength(2);
    expect(cmd).toContain('-d "reports"');
    expect(unless).toContain('-d "reports"');
    expect(cmd).toContain('GRANT CONNECT ON DATABASE "reports" TO "pgbouncer";');
  });
});

describe("PgBouncer in the patroni role's pg_hba", () => {
  const config = (vars: Record<string, unknown> = {}) =>
    parse(contentOf(plan(vars), 'patroni', 'pg1', 'Patroni configuration')) as {
      postgresql: { pg_hba: string[]; pg_ident?: string[] };
    };

  it("lets the lookup role in by a cluster member's certificate, and the application's roles by SCRAM", () => {
    const { postgresql } = config({ pgbouncer_databases: [{ name: 'app' }, { name: 'reports' }] });
    const local = postgresql.pg_hba.filter((l) => l.includes(' 127.0.0.1/32 ') && !l.includes('replication'));
    expect(local).toEqual([
      'hostssl all pgbouncer 127.0.0.1/32 cert map=pgprov_pgbouncer',
      'hostssl app admin,app 127.0.0.1/32 scram-sha-256',
      'hostssl reports admin,app 127.0.0.1/32 scram-sha-256',
    ]);
    expect(postgresql.pg_ident).toEqual([
      'pgprov_pgbouncer pg1 pgbouncer',
      'pgprov_pgbouncer pg2 pgbouncer',
      'pgprov_pgbouncer pg3 pgbouncer',
      'pgprov_monitor prometheus pgprov_monitor',
    ]);
  });

  it('has none of it, and the role installs nothing, with pgbouncer_enabled false', () => {
    const vars = { pgbouncer_enabled: false };
    const { postgresql } = config(vars);
    expect(
      postgresql.pg_hba.filter(
        (l) => l.includes('pgbouncer') || (l.includes(' 127.0.0.1/32 ') && !l.includes('replication')),
      ),
    ).toEqual([]);
    expect(postgresql.pg_ident?.filter((l) => l.includes('pgbouncer'))).toEqual([]);
    expect(plan(vars).phases.map((p) => p.name)).not.toContain('pgbouncer');
  });
});
