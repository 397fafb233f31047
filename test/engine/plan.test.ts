import { beforeAll, describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../../src/core/errors.js';
import { Secret } from '../../src/core/secret.js';
import { hostVars, planRun, type PlanInputs, roleDefaults } from '../../src/engine/plan.js';
import type { FileArgs } from '../../src/ops/file.js';
import { loadAssets } from '../../src/roles/assets.js';
import { loadProject } from '../../src/roles/load.js';
import type { Project } from '../../src/roles/model.js';
import { fakeInventory } from '../support/inventory.js';

let project: Project;
let assets: Awaited<ReturnType<typeof loadAssets>>;
beforeAll(async () => {
  project = await loadProject();
  assets = await loadAssets(project);
});

/** Every secret the shipped roles declare, as the engine would resolve them. */
const secrets = () =>
  Object.fromEntries(
    [...project.roles.values()].flatMap((r) => r.secrets).map((d) => [d.name, new Secret(`${d.name}-value`)]),
  );

const inputs = (vars: Record<string, unknown> = {}): PlanInputs => ({
  inventory: fakeInventory(vars),
  project,
  secrets: secrets(),
  ...assets,
  tls: (host) => ({ caPem: 'CA', certPem: `CERT ${host}`, keyPem: new Secret(`KEY ${host}`) }),
});

const etcdEnv = (plan: ReturnType<typeof planRun>, host = 'pg1') => {
  const phase = plan.phases.find((p) => p.name === 'etcd');
  const task = phase?.hosts
    .find((h) => h.host.name === host)
    ?.tasks.find((t) => t.name === 'etcd configuration');
  return (task?.args as FileArgs).content as string;
};

describe('planning a run (pure: no host is read)', () => {
  it('orders phases as roles/site.yaml says and renders etcd for each host', () => {
    const plan = planRun(inputs());
    // No pgbackrest group in this inventory: both pgBackRest phases have nothing to do and are left out.
    expect(plan.phases.map((p) => p.name)).toEqual([
      'certificates',
      'etcd',
      'patroni',
      'pgbouncer',
      'haproxy',
      'keepalived',
      'metrics',
    ]);
    expect(project.roles.get('patroni')?.secrets.map((s) => s.name)).toContain('replication_password');
    const env = etcdEnv(plan, 'pg2');
    expect(env).toContain('ETCD_NAME="pg2"');
    expect(env).toContain('ETCD_DATA_DIR="/var/lib/etcd/test"');
    expect(env).toContain(
      'ETCD_INITIAL_CLUSTER="pg1=https://10.231.0.11:2380,pg2=https://10.231.0.12:2380,pg3=https://10.231.0.13:2380"',
    );
    expect(env).toContain('ETCD_LISTEN_CLIENT_URLS="https://10.231.0.12:2379,https://127.0.0.1:2379"');
  });

  it('selects by tag: --tags etcd runs only the etcd phase', () => {
    const plan = planRun(inputs(), { tags: ['etcd'] });
    expect(plan.phases.map((p) => p.name)).toEqual(['etcd']);
  });

  it('--skip-tags and --limit narrow the run', () => {
    const plan = planRun(inputs(), {
      skipTags: ['certificates', 'pgbackrest', 'patroni', 'pgbouncer', 'haproxy', 'keepalived', 'monitoring'],
      limit: ['pg3'],
    });
    expect(plan.phases.map((p) => [p.name, p.hosts.map((h) => h.host.name)])).toEqual([['etcd', ['pg3']]]);
  });

  it('rejects an unknown tag, listing the known ones', () => {
    expect(() => planRun(inputs(), { tags: ['etdc'] })).toThrow(UsageError);
    try {
      planRun(inputs(), { tags: ['etdc'] });
    } catch (e) {
      expect((e as UsageError).message).toBe('unknown tag: etdc');
      expect((e as UsageError).hint).toContain('etcd');
    }
  });

  it('rejects an unknown --limit target', () => {
    expect(() => planRun(inputs(), { limit: ['pg9'] })).toThrow('--limit names no host or group: pg9');
  });

  it('precedence: extra vars beat inventory vars beat role defaults', () => {
    expect(etcdEnv(planRun(inputs()))).toContain('ETCD_ELECTION_TIMEOUT="1000"');
    expect(etcdEnv(planRun(inputs({ etcd_election_timeout_ms: 1500 })))).toContain(
      'ETCD_ELECTION_TIMEOUT="1500"',
    );
    const plan = planRun(inputs({ etcd_election_timeout_ms: 1500 }), {
      extraVars: { etcd_election_timeout_ms: 2000 },
    });
    expect(etcdEnv(plan)).toContain('ETCD_ELECTION_TIMEOUT="2000"');
  });

  it('variables may refer to variables', () => {
    expect(etcdEnv(planRun(inputs({ cluster_name: 'prod' })))).toContain('ETCD_INITIAL_CLUSTER_TOKEN="prod"');
  });

  it('a variable that is missing stops the run before any host is touched, naming task and file', () => {
    const broken = inputs({ etcd_pki_dir: '{{no_such_var}}' });
    expect(() => planRun(broken)).toThrow(InputError);
    try {
      planRun(broken);
    } catch (e) {
      const issue = (e as InputError).issues[0];
      expect(issue?.message).toContain("variable 'no_such_var' is not defined");
      expect(issue?.file).toMatch(/inventory\.yaml$/);
    }
  });

  it('secrets the roles declare reach templates as Secrets, masked in every output', () => {
    const plan = planRun({
      ...inputs(),
      secrets: { ...secrets(), etcd_initial_cluster_token: new Secret('t0k3n-xyz-123') },
    });
    expect(etcdEnv(plan)).toContain('ETCD_INITIAL_CLUSTER_TOKEN="t0k3n-xyz-123"');
    expect(plan.masker.mask(etcdEnv(plan))).toContain('ETCD_INITIAL_CLUSTER_TOKEN="********"');
    // -e still wins over a stored secret.
    const overridden = planRun(
      { ...inputs(), secrets: { ...secrets(), etcd_initial_cluster_token: new Secret('t0k3n-xyz-123') } },
      {
        extraVars: { etcd_initial_cluster_token: 'from-cli' },
      },
    );
    expect(etcdEnv(overridden)).toContain('ETCD_INITIAL_CLUSTER_TOKEN="from-cli"');
  });

  it('masks secrets from host vars', () => {
    const plan = planRun(inputs({ some_password: new Secret('pa55word-xyz') }));
    expect(plan.masker.mask('x pa55word-xyz y')).toBe('x ******** y');
  });
});

describe("planning for each host's release", () => {
  const trixie = () => project.platforms.find((p) => p.codename === 'trixie')!;
  const packageOf = (plan: ReturnType<typeof planRun>, host: string) =>
    plan.phases
      .find((p) => p.name === 'patroni')
      ?.hosts.find((h) => h.host.name === host)
      ?.tasks.find((t) => t.name === 'Install the PostgreSQL server')?.args;

  it("takes the role's values for the release over its defaults, per host", () => {
    const plan = planRun({ ...inputs(), platforms: new Map([['pg2', trixie()]]) });
    expect(packageOf(plan, 'pg1')).toMatchObject({ names: ['postgresql-15'] });
    expect(packageOf(plan, 'pg2')).toMatchObject({ names: ['postgresql-17'] });
  });

  it('lets the inventory override a release value, and shows the release to roles as os_codename', () => {
    const plan = planRun({ ...inputs({ postgresql_version: 16 }), platforms: new Map([['pg1', trixie()]]) });
    expect(packageOf(plan, 'pg1')).toMatchObject({ names: ['postgresql-16'] });
    const inventory = fakeInventory({});
    const vars = hostVars(inventory, inventory.hosts[0]!, {
      defaults: roleDefaults(project, trixie()),
      extraVars: {},
      platform: trixie(),
    });
    expect(vars).toMatchObject({ os_codename: 'trixie', os_version: '13', postgresql_version: 17 });
  });
});
