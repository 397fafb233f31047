import { beforeAll, describe, expect, it } from 'vitest';
import { planRun } from '../../src/engine/plan.js';
import type { FileArgs } from '../../src/ops/file.js';
import type { Project } from '../../src/roles/model.js';
import {
  contentOf,
  loadShippedProject,
  planStack,
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

/** The lines of a `listen` section of haproxy.cfg, trimmed. */
function section(cfg: string, name: string): string[] {
  const lines = cfg.split('\n');
  const start = lines.indexOf(`listen ${name}`);
  if (start < 0) throw new Error(`no 'listen ${name}' in haproxy.cfg`);
  const end = lines.findIndex((l, i) => i > start && l.trim() === '');
  return lines.slice(start + 1, end < 0 ? undefined : end).map((l) => l.trim());
}

describe('the phases of roles/site.yaml', () => {
  it('run certificates, etcd, patroni, pgbouncer, haproxy, keepalived, metrics, each on its group', () => {
    const p = plan({}, true);
    expect(p.phases.map((x) => [x.name, x.hosts.map((h) => h.host.name)])).toEqual([
      ['certificates', ['pg1', 'pg2', 'pg3', 'lb1', 'lb2']],
      ['etcd', ['pg1', 'pg2', 'pg3']],
      ['patroni', ['pg1', 'pg2', 'pg3']],
      ['pgbouncer', ['pg1', 'pg2', 'pg3']],
      ['haproxy', ['lb1', 'lb2']],
      ['keepalived', ['lb1', 'lb2']],
      ['metrics', ['pg1', 'pg2', 'pg3', 'lb1', 'lb2']],
    ]);
  });

  it('are tags: --tags patroni runs only the patroni phase, --tags postgresql only that role', () => {
    const inputs = stackInputs(project, assets, stackInventory());
    expect(planRun(inputs, { tags: ['patroni'], extraVars: secretVars() }).phases.map((x) => x.name)).toEqual(
      ['patroni'],
    );
    // A phase's own tags: the exporters' phase and Prometheus's both answer to `monitoring`.
    const monitored = stackInputs(project, assets, stackInventory({}, { groups: { monitoring: ['pg3'] } }));
    expect(
      planRun(monitored, { tags: ['monitoring'], extraVars: secretVars() }).phases.map((x) => x.name),
    ).toEqual(['metrics', 'monitoring']);
    const roles = planRun(inputs, { tags: ['postgresql'], extraVars: secretVars() }).phases.flatMap((x) =>
      x.hosts.flatMap((h) => h.tasks.map((t) => t.role)),
    );
    expect(new Set(roles)).toEqual(new Set(['postgresql']));
  });
});

describe("the haproxy role's haproxy.cfg", () => {
  const cfg = (vars: Record<string, unknown> = {}, host = 'pg1', separate = false) =>
    contentOf(plan(vars, separate), 'haproxy', host, 'HAProxy configuration');

  it('sends port 5000 to the leader only, checked on OPTIONS /primary (status line only) over verified TLS', () => {
    const lines = section(cfg(), 'postgres_primary');
    expect(lines).toContain('bind *:5000');
    expect(lines).toContain('option httpchk OPTIONS /primary');
    expect(lines).toContain('http-check expect status 200');
    expect(lines).toContain(
      'default-server inter 1s fall 3 rise 2 on-marked-down shutdown-sessions port 8008 check-ssl verify required ca-file /etc/haproxy/pki/ca.crt',
    );
    // Through each member's PgBouncer, which takes as many clients as it accepts and pools them.
    expect(lines.filter((l) => l.startsWith('server '))).toEqual([
      'server pg1 10.231.0.11:6432 check verifyhost pg1 maxconn 2000',
      'server pg2 10.231.0.12:6432 check verifyhost pg2 maxconn 2000',
      'server pg3 10.231.0.13:6432 check verifyhost pg3 maxconn 2000',
    ]);
  });

  it("sends port 5002 to the leader's PostgreSQL itself, never PgBouncer: replication (a standby cluster) uses it", () => {
    const lines = section(cfg(), 'postgres_replication');
    expect(lines).toContain('bind *:5002');
    expect(lines).toContain('option httpchk OPTIONS /primary');
    expect(lines.filter((l) => l.startsWith('server '))).toEqual([
      'server pg1 10.231.0.11:5432 check verifyhost pg1',
      'server pg2 10.231.0.12:5432 check verifyhost pg2',
      'server pg3 10.231.0.13:5432 check verifyhost pg3',
    ]);
  });

  it('without PgBouncer, sends clients straight to PostgreSQL, within its max_connections', () => {
    for (const listen of ['postgres_primary', 'postgres_replicas']) {
      expect(
        section(cfg({ pgbouncer_enabled: false }), listen)
          .filter((l) => l.startsWith('server '))
          .map((l) => l.replace(/ agent-check .*$/, '')),
      ).toEqual([
        'server pg1 10.231.0.11:5432 check verifyhost pg1 maxconn 90',
        'server pg2 10.231.0.12:5432 check verifyhost pg2 maxconn 90',
        'server pg3 10.231.0.13:5432 check verifyhost pg3 maxconn 90',
      ]);
    }
  });

  it("keeps a replica in the read pool only while its agent says it streams (Patroni 3.0 can't tell)", () => {
    const servers = (vars: Record<string, unknown> = {}) =>
      section(cfg(vars), 'postgres_replicas').filter((l) => l.startsWith('server '));
    expect(servers()).toEqual([
      'server pg1 10.231.0.11:6432 check verifyhost pg1 maxconn 2000 agent-check agent-port 8009 agent-inter 2s',
      'server pg2 10.231.0.12:6432 check verifyhost pg2 maxconn 2000 agent-check agent-port 8009 agent-inter 2s',
      'server pg3 10.231.0.13:6432 check verifyhost pg3 maxconn 2000 agent-check agent-port 8009 agent-inter 2s',
    ]);
    expect(servers({ patroni_replica_agent_port: 9009, haproxy_replica_agent_interval: '5s' })[0]).toMatch(
      / agent-check agent-port 9009 agent-inter 5s$/,
    );
    // The leader's pools do not ask it: its role is what Patroni's /primary decides.
    for (const listen of ['postgres_primary', 'postgres_replication'])
      expect(section(cfg(), listen).join('\n')).not.toContain('agent-check');
    // The agent runs on every member, as postgres, on the member's address and the port HAProxy asks.
    const unit = contentOf(plan(), 'patroni', 'pg2', 'Service of the replica agent');
    expect(unit).toMatch(/^User=postgres$/m);
    expect(unit).toMatch(
      /^ExecStart=\/usr\/local\/sbin\/pgprov-replica-agent 10\.231\.0\.12 8009 \/usr\/lib\/postgresql\/15\/bin\/psql 5432$/m,
    );
  });

  it('sends port 5001 to the replicas no further behind than a failover may promote, round robin', () => {
    const lines = section(cfg(), 'postgres_replicas');
    expect(lines).toContain('bind *:5001');
    expect(lines).toContain('balance roundrobin');
    expect(lines).toContain('option httpchk OPTIONS /replica?lag=1048576');
    expect(
      lines.filter((l) => l.startsWith('server ')).map((l) => l.split(' ').slice(0, 3).join(' ')),
    ).toEqual(['server pg1 10.231.0.11:6432', 'server pg2 10.231.0.12:6432', 'server pg3 10.231.0.13:6432']);
  });

  it("on Debian 13, also requires a replica to stream (Patroni 4's replication_state check)", () => {
    const trixie = project.platforms.find((p) => p.codename === 'trixie');
    if (!trixie) throw new Error('no trixie in roles/platforms.yaml');
    const inputs = stackInputs(project, assets, stackInventory({}));
    const p = planStack({ ...inputs, platforms: new Map([['pg1', trixie]]) });
    expect(section(contentOf(p, 'haproxy', 'pg1', 'HAProxy configuration'), 'postgres_replicas')).toContain(
      'option httpchk OPTIONS /replica?lag=1048576&replication_state=streaming',
    );
    expect(section(contentOf(p, 'haproxy', 'pg2', 'HAProxy configuration'), 'postgres_replicas')).toContain(
      'option httpchk OPTIONS /replica?lag=1048576',
    );
  });

  it('lists the database hosts from a separate balancer too, and serves statistics on 7000', () => {
    const text = cfg({}, 'lb2', true);
    expect(section(text, 'postgres_primary').filter((l) => l.startsWith('server '))).toHaveLength(3);
    expect(section(text, 'stats')).toEqual(
      expect.arrayContaining(['mode http', 'bind *:7000', 'stats enable', 'stats uri /']),
    );
  });

  it('takes the check interval, the replica check and the connection limits from variables', () => {
    const text = cfg({
      haproxy_check_interval: '2s',
      haproxy_replica_check_uri: '/replica?lag=16MB',
      haproxy_maxconn: 1000,
      haproxy_server_maxconn: 50,
    });
    expect(text).toMatch(/^ {4}maxconn 1000$/m);
    expect(section(text, 'postgres_replicas')).toContain('option httpchk OPTIONS /replica?lag=16MB');
    expect(section(text, 'postgres_primary').join('\n')).toMatch(/default-server inter 2s /);
    expect(section(text, 'postgres_primary').join('\n')).toMatch(/maxconn 50$/m);
  });

  it('keeps the connection limit within the lab open-files cap (about 2 descriptors per connection)', () => {
    const maxconn = Number(/^ {4}maxconn (\d+)$/m.exec(cfg())?.[1]);
    expect(2 * maxconn).toBeLessThan(20000);
  });

  it('is applied by a reload', () => {
    const p = plan();
    expect(taskOf(p, 'haproxy', 'pg1', 'HAProxy configuration').notify).toEqual(['reload haproxy']);
    const host = p.phases.find((x) => x.name === 'haproxy')?.hosts[0];
    expect(host?.handlers.get('reload haproxy')?.args).toEqual({ name: 'haproxy', state: 'reloaded' });
  });
  it('keeps its own copy of the CA only (it presents no certificate), and reloads when it changes', () => {
    const task = taskOf(plan(), 'haproxy', 'pg1', 'Cluster CA for the health checks');
    expect((task.args as { files: FileArgs[] }).files.map((f) => [f.path, f.content])).toEqual([
      ['/etc/haproxy/pki/ca.crt', 'CA'],
    ]);
    expect(task.notify).toEqual(['reload haproxy']);
  });
});

describe("the keepalived role's keepalived.conf", () => {
  const conf = (vars: Record<string, unknown> = {}, host = 'pg1', separate = false) =>
    contentOf(plan(vars, separate), 'keepalived', host, 'keepalived configuration');
  const peers = (text: string) => /unicast_peer \{\n([^}]*)\}/.exec(text)?.[1]?.trim().split(/\s+/) ?? [];

  it("speaks unicast VRRP from the host's address to every other balancer, never to itself", () => {
    expect(peers(conf({}, 'pg1'))).toEqual(['10.231.0.12', '10.231.0.13']);
    expect(peers(conf({}, 'pg2'))).toEqual(['10.231.0.11', '10.231.0.13']);
    expect(conf({}, 'pg2')).toContain('unicast_src_ip 10.231.0.12');
    expect(peers(conf({}, 'lb1', true))).toEqual(['10.231.0.22']);
  });

  it('holds cluster_vip on keepalived_interface (eth0 by default)', () => {
    expect(conf()).toContain('10.231.0.10/24 dev eth0');
    expect(conf()).toMatch(/^ {4}interface eth0$/m);
    const text = conf({
      cluster_vip: '10.10.1.100',
      keepalived_interface: 'ens18',
      keepalived_vip_prefix: 22,
    });
    expect(text).toContain('10.10.1.100/22 dev ens18');
    expect(text).toMatch(/^ {4}interface ens18$/m);
  });

  it('gives up the VIP when HAProxy stops answering, checked by an unprivileged script', () => {
    const text = conf();
    expect(text).toContain('enable_script_security');
    expect(text).toContain('script_user keepalived_script');
    expect(text).toContain('script "/etc/keepalived/check-haproxy.sh"');
    expect(text).toMatch(/track_script \{\n\s+check_haproxy\n/);
    expect(text).toMatch(/state BACKUP\n\s+nopreempt/);
    const script = contentOf(plan(), 'keepalived', 'pg1', 'HAProxy check script');
    expect(script).toContain('/dev/tcp/127.0.0.1/7000');
    const file = taskOf(plan(), 'keepalived', 'pg1', 'HAProxy check script').args as FileArgs;
    expect([file.owner, file.mode]).toEqual(['root', '0755']);
  });

  it('requires cluster_vip: planning stops without it', () => {
    const inventory = stackInventory();
    for (const h of inventory.hosts) delete h.vars.cluster_vip;
    expect(() => planStack(stackInputs(project, assets, inventory))).toThrow(/task\(s\) cannot be prepared/);
  });

  it('is applied by a reload', () => {
    const p = plan();
    expect(taskOf(p, 'keepalived', 'pg1', 'keepalived configuration').notify).toEqual(['reload keepalived']);
    const host = p.phases.find((x) => x.name === 'keepalived')?.hosts[0];
    expect(host?.handlers.get('reload keepalived')?.args).toEqual({ name: 'keepalived', state: 'reloaded' });
  });
});
