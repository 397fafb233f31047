import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { InputError } from '../../src/core/errors.js';
import { planRun } from '../../src/engine/plan.js';
import type { CommandArgs } from '../../src/ops/command.js';
import type { FileArgs } from '../../src/ops/file.js';
import type { PackageArgs } from '../../src/ops/package.js';
import type { ServiceArgs } from '../../src/ops/service.js';
import type { Project } from '../../src/roles/model.js';
import {
  contentOf,
  loadShippedProject,
  planStack,
  SECRETS,
  secretVars,
  stackInputs,
  stackInventory,
  taskOf,
} from './support.js';

let project: Project;
let assets: Awaited<ReturnType<typeof loadShippedProject>>['assets'];
beforeAll(async () => {
  ({ project, assets } = await loadShippedProject());
});

const plan = (vars: Record<string, unknown> = {}, separateBalancers = false) =>
  planStack(stackInputs(project, assets, stackInventory(vars, { separateBalancers })));

/** Patroni's config.yml for a host, parsed as Patroni parses it (YAML; anchors resolved). */
const patroniConfig = (vars: Record<string, unknown> = {}, host = 'pg1', separateBalancers = false) =>
  parse(contentOf(plan(vars, separateBalancers), 'patroni', host, 'Patroni configuration')) as {
    [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

describe('the postgresql role: the server without a Debian-made cluster', () => {
  it('sets create_main_cluster = false before the server package is installed', () => {
    const tasks =
      plan()
        .phases.find((p) => p.name === 'patroni')
        ?.hosts[0]?.tasks.map((t) => t.name) ?? [];
    const conf = tasks.indexOf('No default cluster on server installs');
    expect(tasks.indexOf('Install postgresql-common')).toBeLessThan(conf);
    expect(conf).toBeLessThan(tasks.indexOf('Install the PostgreSQL server'));
    expect(contentOf(plan(), 'patroni', 'pg2', 'No default cluster on server installs')).toMatch(
      /^create_main_cluster = false$/m,
    );
    const server = taskOf(plan(), 'patroni', 'pg1', 'Install the PostgreSQL server').args as PackageArgs;
    expect(server.names).toEqual(['postgresql-15']);
    expect(server.startServices).toBe(false);
  });

  it('follows postgresql_version and cluster_name in package, binaries and data directory', () => {
    const p = plan({ postgresql_version: 16, cluster_name: 'prod' });
    expect((taskOf(p, 'patroni', 'pg1', 'Install the PostgreSQL server').args as PackageArgs).names).toEqual([
      'postgresql-16',
    ]);
    expect(taskOf(p, 'patroni', 'pg1', 'PostgreSQL data directory').args).toEqual({
      path: '/var/lib/postgresql/16/prod',
      owner: 'postgres',
      group: 'postgres',
      mode: '0700',
    });
    const config = parse(contentOf(p, 'patroni', 'pg1', 'Patroni configuration'));
    expect(config.postgresql.data_dir).toBe('/var/lib/postgresql/16/prod');
    expect(config.postgresql.bin_dir).toBe('/usr/lib/postgresql/16/bin');
  });

  it('drops a stray default cluster only when there is one, and refuses one that was used', () => {
    const args = taskOf(plan(), 'patroni', 'pg1', 'No stray default cluster').args as CommandArgs;
    expect(args.unless).toBe('test ! -e /etc/postgresql/15/main/postgresql.conf');
    expect(args.cmd).toContain('pg_dropcluster --stop 15 main');
    expect(args.cmd).toContain('patroni.dynamic.json');
    expect(args.cmd).toMatch(/"\$databases" -gt 3 \]; then[\s\S]*exit 1\n\s*fi\n\s*pg_dropcluster/);
  });
});

describe("the patroni role's config.yml", () => {
  it('names the cluster and the member', () => {
    const config = patroniConfig({}, 'pg2');
    expect(config).toMatchObject({ scope: 'test', name: 'pg2', namespace: '/service/' });
  });

  it('reaches every etcd member over TLS with its own copy of the host certificate', () => {
    expect(patroniConfig({}, 'pg3').etcd3).toEqual({
      protocol: 'https',
      hosts: ['10.231.0.11:2379', '10.231.0.12:2379', '10.231.0.13:2379'],
      cacert: '/etc/patroni/pki/ca.crt',
      cert: '/etc/patroni/pki/pg3.crt',
      key: '/etc/patroni/pki/pg3.key',
    });
  });

  it('serves the REST API on 8008 over TLS, with a password for unsafe endpoints', () => {
    const { restapi, ctl } = patroniConfig({}, 'pg2');
    expect(restapi).toEqual({
      listen: '10.231.0.12:8008',
      connect_address: '10.231.0.12:8008',
      certfile: '/etc/patroni/pki/pg2.crt',
      keyfile: '/etc/patroni/pki/pg2.key',
      cafile: '/etc/patroni/pki/ca.crt',
      authentication: { username: 'patroni', password: SECRETS.patroni_restapi_password },
    });
    expect(ctl).toMatchObject({ insecure: false, cacert: '/etc/patroni/pki/ca.crt' });
  });

  it("keeps Patroni's certificate copy owned by postgres, the key private", () => {
    const cert = taskOf(plan(), 'patroni', 'pg1', 'Patroni certificate').args as { files: FileArgs[] };
    expect(cert.files.map((f) => [f.path, f.owner, f.mode])).toEqual([
      ['/etc/patroni/pki/ca.crt', 'postgres', '0644'],
      ['/etc/patroni/pki/pg1.crt', 'postgres', '0644'],
      ['/etc/patroni/pki/pg1.key', 'postgres', '0600'],
    ]);
    const file = taskOf(plan(), 'patroni', 'pg1', 'Patroni configuration').args as FileArgs;
    expect([file.path, file.owner, file.group, file.mode]).toEqual([
      '/etc/patroni/config.yml',
      'root',
      'postgres',
      '0640',
    ]);
  });

  it('authenticates superuser, replication and rewind; replication and rewind verify the server over TLS', () => {
    const { postgresql } = patroniConfig();
    expect(postgresql.authentication).toEqual({
      superuser: { username: 'postgres', password: SECRETS.postgres_superuser_password },
      replication: {
        username: 'replicator',
        password: SECRETS.replication_password,
        sslmode: 'verify-full',
        sslrootcert: '/etc/patroni/pki/ca.crt',
      },
      rewind: {
        username: 'rewind',
        password: SECRETS.rewind_password,
        sslmode: 'verify-full',
        sslrootcert: '/etc/patroni/pki/ca.crt',
      },
    });
    expect(postgresql).toMatchObject({
      listen: '10.231.0.11,127.0.0.1:5432',
      connect_address: '10.231.0.11:5432',
      use_unix_socket: true,
      use_pg_rewind: true,
    });
  });

  it('bootstraps with the DCS settings from variables, rewind and slots on, synchronous mode off by default', () => {
    const { bootstrap } = patroniConfig();
    expect(bootstrap.dcs).toMatchObject({
      ttl: 30,
      loop_wait: 10,
      retry_timeout: 10,
      maximum_lag_on_failover: 1048576,
      synchronous_mode: false,
      synchronous_mode_strict: false,
      failsafe_mode: false,
      postgresql: { use_pg_rewind: true, use_slots: true },
    });
    expect(bootstrap.initdb).toEqual([{ encoding: 'UTF8' }, { locale: 'C.UTF-8' }, 'data-checksums']);
    expect(bootstrap.post_bootstrap).toBe('/etc/patroni/post-bootstrap.sh');
    const tuned = patroniConfig({
      patroni_durability: 'sync',
      patroni_ttl: 20,
      patroni_loop_wait: 5,
    }).bootstrap;
    expect(tuned.dcs).toMatchObject({
      synchronous_mode: true,
      synchronous_mode_strict: false,
      ttl: 20,
      loop_wait: 5,
    });
    expect(patroniConfig({ patroni_durability: 'strict' }).bootstrap.dcs).toMatchObject({
      synchronous_mode: true,
      synchronous_mode_strict: true,
    });
    expect(patroniConfig({ patroni_failsafe_mode: true }).bootstrap.dcs).toMatchObject({
      failsafe_mode: true,
    });
  });

  it('arms a watchdog where the host has one (softdog loaded, the device postgres-owned), none when off', () => {
    expect(patroniConfig().watchdog).toEqual({
      mode: 'automatic',
      device: '/dev/watchdog',
      safety_margin: 5,
    });
    const names = (p: ReturnType<typeof plan>) =>
      p.phases.find((x) => x.name === 'patroni')?.hosts[0]?.tasks.map((t) => t.name) ?? [];
    expect(names(plan())).toEqual(
      expect.arrayContaining(['Watchdog module loaded at boot', 'Watchdog device present for Patroni']),
    );
    const device = taskOf(plan(), 'patroni', 'pg1', 'Watchdog device present for Patroni')
      .args as CommandArgs;
    // Nothing to do in a container, or where neither a device nor the softdog module exists.
    expect(device.unless).toContain('systemd-detect-virt --container --quiet');
    expect(patroniConfig({ patroni_watchdog_mode: 'off' }).watchdog.mode).toBe('off');
    expect(names(plan({ patroni_watchdog_mode: 'off' })).filter((n) => n.startsWith('Watchdog'))).toEqual([]);
  });

  it("puts the parameters Patroni takes only from etcd in bootstrap.dcs, the others in the host's section", () => {
    const config = patroniConfig();
    expect(config.bootstrap.dcs.postgresql.parameters).toEqual({
      wal_level: 'replica',
      hot_standby: 'on',
      wal_log_hints: 'on',
      max_connections: 100,
      max_wal_senders: 10,
      max_replication_slots: 10,
      wal_keep_size: '256MB',
      max_worker_processes: 8,
    });
    expect(config.postgresql.parameters).toMatchObject({
      ssl: 'on',
      ssl_cert_file: '/etc/patroni/pki/pg1.crt',
      ssl_key_file: '/etc/patroni/pki/pg1.key',
      ssl_ca_file: '/etc/patroni/pki/ca.crt',
      password_encryption: 'scram-sha-256',
      archive_mode: 'on',
      archive_command: '/bin/true',
    });
    expect(Object.keys(config.postgresql.parameters)).not.toContain('max_connections');
  });

  it('merges the inventory map over the defaults, routes each key, and drops a key set to null', () => {
    const config = patroniConfig({
      postgresql_parameters: {
        shared_buffers: '1GB',
        max_connections: 300,
        ssl_min_protocol_version: 'TLSv1.3',
        logging_collector: null,
      },
      postgresql_archive_command: 'pgbackrest --stanza=test archive-push %p',
    });
    const local = config.postgresql.parameters;
    expect(local).toMatchObject({
      shared_buffers: '1GB',
      ssl_min_protocol_version: 'TLSv1.3',
      password_encryption: 'scram-sha-256',
      archive_command: 'pgbackrest --stanza=test archive-push %p',
    });
    expect(local).not.toHaveProperty('logging_collector');
    expect(local).not.toHaveProperty('max_connections');
    expect(config.bootstrap.dcs.postgresql.parameters).toMatchObject({
      max_connections: 300,
      wal_level: 'replica',
    });
  });

  it('allows only what pg_hba lists: local postgres by peer, TLS with SCRAM for every other role', () => {
    const { postgresql, bootstrap } = patroniConfig();
    const hosts = ['10.231.0.11', '10.231.0.12', '10.231.0.13'];
    expect(postgresql.pg_hba).toEqual([
      'local all postgres peer',
      // The PostgreSQL exporter, as the monitoring role, over the local socket only.
      'local postgres pgprov_monitor peer map=pgprov_monitor',
      ...hosts.map((a) => `hostssl replication replicator ${a}/32 scram-sha-256`),
      'hostssl replication replicator 127.0.0.1/32 scram-sha-256',
      'hostssl replication replicator ::1/128 scram-sha-256',
      ...hosts.map((a) => `hostssl postgres rewind ${a}/32 scram-sha-256`),
      ...hosts.flatMap((a) => [
        `hostssl app admin ${a}/32 scram-sha-256`,
        `hostssl app app ${a}/32 scram-sha-256`,
      ]),
      // PgBouncer on the host: its lookup role by certificate only, the application's roles by SCRAM.
      'hostssl all pgbouncer 127.0.0.1/32 cert map=pgprov_pgbouncer',
      'hostssl app admin,app 127.0.0.1/32 scram-sha-256',
    ]);
    expect(bootstrap.pg_hba).toEqual(postgresql.pg_hba);
  });

  it('admits admin and app from the balancers and the configured networks, plus extra lines', () => {
    const { postgresql } = patroniConfig(
      {
        postgresql_admin_networks: ['192.168.10.0/24'],
        postgresql_app_networks: ['10.20.0.0/16', '10.30.0.0/16'],
        postgresql_hba_extra: ['hostssl replication pgbackrest 10.231.0.13/32 scram-sha-256'],
      },
      'pg1',
      true,
    );
    const lines: string[] = postgresql.pg_hba;
    const remote = lines.filter((l) => !l.includes(' 127.0.0.1/32 '));
    expect(remote.filter((l) => / (admin|app) /.test(l) && l.startsWith('hostssl app'))).toEqual([
      'hostssl app admin 10.231.0.21/32 scram-sha-256',
      'hostssl app app 10.231.0.21/32 scram-sha-256',
      'hostssl app admin 10.231.0.22/32 scram-sha-256',
      'hostssl app app 10.231.0.22/32 scram-sha-256',
      'hostssl app admin 192.168.10.0/24 scram-sha-256',
      'hostssl app app 10.20.0.0/16 scram-sha-256',
      'hostssl app app 10.30.0.0/16 scram-sha-256',
    ]);
    expect(lines.at(-1)).toBe('hostssl replication pgbackrest 10.231.0.13/32 scram-sha-256');
    // The balancers' HAProxy carries a standby cluster's replication connections (its port 5002).
    expect(remote.filter((l) => l.startsWith('hostssl replication replicator'))).toEqual([
      ...['11', '12', '13', '21', '22'].map(
        (n) => `hostssl replication replicator 10.231.0.${n}/32 scram-sha-256`,
      ),
      'hostssl replication replicator ::1/128 scram-sha-256',
    ]);
  });

  it('creates the admin and app roles and the application database once, at bootstrap', () => {
    const script = contentOf(
      plan(),
      'patroni',
      'pg1',
      "Script that creates the application's roles and database",
    );
    expect(script).toContain(
      `CREATE ROLE "admin" LOGIN PASSWORD $pgprov_secret$${SECRETS.admin_password}$pgprov_secret$;`,
    );
    expect(script).toContain(
      `CREATE ROLE "app" LOGIN PASSWORD $pgprov_secret$${SECRETS.app_password}$pgprov_secret$;`,
    );
    expect(script).toContain('CREATE DATABASE "app" OWNER "admin";');
    expect(script).toMatch(/GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "app";/);
    expect(script).not.toMatch(/GRANT (ALL|CREATE)[^;]*TO "app"/);
    const file = taskOf(plan(), 'patroni', 'pg1', "Script that creates the application's roles and database")
      .args as FileArgs;
    expect([file.owner, file.group, file.mode]).toEqual(['root', 'postgres', '0750']);
  });
});

describe('the patroni role applies changes by reload, never restart', () => {
  it('notifies the reload handler from the configuration and the certificate', () => {
    const p = plan();
    expect(taskOf(p, 'patroni', 'pg1', 'Patroni configuration').notify).toEqual(['reload patroni']);
    expect(taskOf(p, 'patroni', 'pg1', 'Patroni certificate').notify).toEqual(['reload patroni']);
    const host = p.phases.find((x) => x.name === 'patroni')?.hosts[0];
    // The reload returns once Patroni has applied the file (it does at its next cycle), not at the signal.
    expect(host?.handlers.get('reload patroni')?.args).toEqual({
      name: 'patroni',
      state: 'reloaded',
      reloadCommand: '/usr/local/sbin/pgprov-patroni-reload',
    });
    const services = [...(host?.tasks ?? []), ...(host?.handlers.values() ?? [])]
      .filter((t) => t.op.module === 'service')
      .map((t) => t.args as ServiceArgs);
    // Restarting Patroni stops PostgreSQL (a failover on the leader); pgprov's own small services may restart.
    expect(services.filter((s) => s.name === 'patroni').map((s) => s.state)).not.toContain('restarted');
    expect(services.filter((s) => s.name === 'patroni').length).toBeGreaterThan(0);
    expect(taskOf(p, 'patroni', 'pg1', 'Patroni running and enabled').args).toEqual({
      name: 'patroni',
      state: 'started',
      enabled: true,
    });
  });

  it('guards the data directory with the script `pgprov repair` runs, fixing only what a variable allows', () => {
    const cmd = (vars: Record<string, unknown>) =>
      (taskOf(plan(vars), 'patroni', 'pg1', 'The data directory belongs to this cluster').args as CommandArgs)
        .cmd;
    expect(cmd({})).toBe('/usr/local/sbin/pgprov-patroni-preflight fix false false');
    expect(cmd({ patroni_replace_foreign_data: true })).toBe(
      '/usr/local/sbin/pgprov-patroni-preflight fix true false',
    );
    expect(cmd({ patroni_remove_stale_dcs: true })).toBe(
      '/usr/local/sbin/pgprov-patroni-preflight fix false true',
    );
  });

  it('starts Patroni through the leader key guard, and makes `systemctl start` wait for the REST API', () => {
    const p = plan();
    const task = "Patroni starts through pgprov's launcher and waits until Patroni handles signals";
    const dropIn = contentOf(p, 'patroni', 'pg2', task);
    // The launcher replaces Debian's command (an empty ExecStart= first: a drop-in adds to a list otherwise).
    expect(dropIn).toMatch(
      /^ExecStart=\nExecStart=\/usr\/local\/sbin\/pgprov-patroni-guarded \/etc\/patroni\/config.yml$/m,
    );
    expect(dropIn).toContain(
      "ExecStartPost=-/usr/bin/timeout 20 /bin/bash -c 'until (: </dev/tcp/10.231.0.12/8008) 2>/dev/null; do sleep 0.2; done'",
    );
    expect((taskOf(p, 'patroni', 'pg2', task).args as FileArgs).path).toBe(
      '/etc/systemd/system/patroni.service.d/pgprov.conf',
    );
    const names = p.phases.find((x) => x.name === 'patroni')?.hosts[0]?.tasks.map((t) => t.name) ?? [];
    const launcher = 'Patroni launcher that never takes a leader key another member holds';
    expect(names.indexOf(launcher)).toBeGreaterThanOrEqual(0);
    expect(names.indexOf(launcher)).toBeLessThan(names.indexOf('Patroni running and enabled'));
    expect(names.indexOf(task)).toBeLessThan(names.indexOf('Patroni running and enabled'));
  });

  it("keeps etcd's leader off the PostgreSQL leader's host, on hosts that run both", () => {
    const script = "Script that keeps etcd's leader off the PostgreSQL leader's host";
    const unit = "Service that keeps etcd's leader off the PostgreSQL leader's host";
    const running = "etcd's leader kept off the PostgreSQL leader's host";
    const body = contentOf(plan({ patroni_etcd_leader_apart_interval: 3 }), 'patroni', 'pg2', script);
    // Asks its own Patroni (verified against the cluster CA, which etcd's folder holds too), every 3 s.
    expect(body).toContain('api=https://10.231.0.12:8008/leader');
    expect(body).toContain('--cacert /etc/etcd/pki/ca.crt');
    expect(body).toMatch(/^ {2}sleep 3$/m);
    // The move itself is etcd's stop hook, with the reason it is called for.
    expect(body).toContain(
      `/usr/local/sbin/pgprov-etcd-handover "away from pg2: PostgreSQL's leader runs here"`,
    );
    const p = plan();
    expect(contentOf(p, 'patroni', 'pg2', unit)).toMatch(/^User=etcd$/m);
    expect(contentOf(p, 'patroni', 'pg2', unit)).toMatch(/^Restart=always$/m);
    expect(taskOf(p, 'patroni', 'pg2', running).args).toMatchObject({
      name: 'pgprov-etcd-leader-apart',
      state: 'started',
      enabled: true,
    });
    // A PostgreSQL host without etcd has no etcd leader to move: nothing is installed there.
    const inventory = stackInventory();
    inventory.groups.etcd_cluster = ['pg1', 'pg2'];
    const pg3 = inventory.hosts.find((h) => h.name === 'pg3');
    if (pg3) pg3.groups = pg3.groups.filter((g) => g !== 'etcd_cluster');
    const apart = planStack(stackInputs(project, assets, inventory));
    expect(() => taskOf(apart, 'patroni', 'pg3', running)).toThrow();
    expect(taskOf(apart, 'patroni', 'pg1', running).args).toMatchObject({ state: 'started' });
  });
});

describe('passwords', () => {
  it('are masked in the plan', () => {
    const p = plan();
    for (const value of Object.values(SECRETS)) expect(p.masker.mask(`x ${value} y`)).toBe('x ******** y');
  });

  it('that are missing stop the run before any host is touched, naming the variable', () => {
    const inputs = stackInputs(project, assets, stackInventory());
    const { replication_password: _, ...others } = secretVars();
    const run = () => planRun(inputs, { extraVars: others });
    expect(run).toThrow(InputError);
    try {
      run();
    } catch (e) {
      expect((e as InputError).issues.map((i) => i.message).join('\n')).toContain(
        "variable 'replication_password' is not defined",
      );
    }
  });
});
