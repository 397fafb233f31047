import { beforeAll } from 'vitest';
import { Secret } from '../../src/core/secret.js';
import { planRun, type PlanInputs, type RunPlan } from '../../src/engine/plan.js';
import type { Inventory, InventoryHost } from '../../src/inventory/model.js';
import type { FileArgs } from '../../src/ops/file.js';
import { loadAssets } from '../../src/roles/assets.js';
import { loadProject } from '../../src/roles/load.js';
import type { Project } from '../../src/roles/model.js';

/** The shipped project (roles/site.yaml and every role), loaded as the engine loads it. */
export async function loadShippedProject(): Promise<{
  project: Project;
  assets: Awaited<ReturnType<typeof loadAssets>>;
}> {
  const project = await loadProject();
  return { project, assets: await loadAssets(project) };
}

/** The passwords the engine fills from the secrets store; planning tests pass them as extra vars. */
export const SECRETS = {
  postgres_superuser_password: 'su-pass-1',
  replication_password: 'repl-pass-2',
  rewind_password: 'rewind-pass-3',
  patroni_restapi_password: 'api-pass-4',
  admin_password: 'admin-pass-5',
  app_password: 'app-pass-6',
} as const;

export const secretVars = (): Record<string, Secret> =>
  Object.fromEntries(Object.entries(SECRETS).map(([k, v]) => [k, new Secret(v)]));

/**
 * The lab's shape: pg1..pg3 run etcd, PostgreSQL and HAProxy + keepalived; or, with `separateBalancers`, the
 * production example's: two balancers lb1, lb2 apart from the database hosts.
 */
export function stackInventory(
  vars: Record<string, unknown> = {},
  options: { separateBalancers?: boolean; groups?: Record<string, string[]> } = {},
): Inventory {
  const host = (name: string, address: string, groups: string[]): InventoryHost => ({
    name,
    connection: { address, port: 22, user: 'vagrant', become: true },
    groups: ['all', ...groups],
    vars: { cluster_name: 'test', cluster_vip: '10.231.0.10', ...vars },
  });
  const db = ['pg1', 'pg2', 'pg3'];
  const hosts = db.map((name, i) =>
    host(name, `10.231.0.${11 + i}`, [
      'etcd_cluster',
      'postgres_cluster',
      ...(options.separateBalancers ? [] : ['balancers']),
    ]),
  );
  const balancers = options.separateBalancers ? ['lb1', 'lb2'] : db;
  if (options.separateBalancers)
    hosts.push(host('lb1', '10.231.0.21', ['balancers']), host('lb2', '10.231.0.22', ['balancers']));
  // More groups (pgbackrest, monitoring) of existing hosts.
  for (const [group, members] of Object.entries(options.groups ?? {}))
    for (const h of hosts) if (members.includes(h.name)) h.groups.push(group);
  return {
    file: '/tmp/inventory.yaml',
    stateDir: '/tmp/.pgprov/inventory',
    knownHostsFile: '/tmp/.pgprov/inventory/known_hosts',
    hosts,
    groups: {
      all: hosts.map((h) => h.name),
      etcd_cluster: db,
      postgres_cluster: db,
      balancers,
      ...options.groups,
    },
    locate: (path) => ({ file: '/tmp/inventory.yaml', path: path.join('.') }),
  };
}

export function stackInputs(
  project: Project,
  assets: Awaited<ReturnType<typeof loadAssets>>,
  inventory: Inventory,
): PlanInputs {
  return {
    inventory,
    project,
    ...assets,
    tls: (host) => ({ caPem: 'CA', certPem: `CERT ${host}`, keyPem: new Secret(`KEY ${host}`) }),
  };
}

/** Plans with the passwords given as extra vars (plus any others). */
export const planStack = (inputs: PlanInputs, extraVars: Record<string, unknown> = {}): RunPlan =>
  planRun(inputs, { extraVars: { ...secretVars(), ...extraVars } });

/** The task of one host in one phase, by name; throws when absent so a renamed task fails loudly. */
export function taskOf(plan: RunPlan, phase: string, host: string, task: string) {
  const found = plan.phases
    .find((p) => p.name === phase)
    ?.hosts.find((h) => h.host.name === host)
    ?.tasks.find((t) => t.name === task);
  if (!found) throw new Error(`no task '${task}' for ${host} in phase ${phase}`);
  return found;
}

/** The content a template or file task writes. */
export function contentOf(plan: RunPlan, phase: string, host: string, task: string): string {
  const content = (taskOf(plan, phase, host, task).args as FileArgs).content;
  return typeof content === 'string' ? content : content.reveal();
}

/**
 * Plans the lab-shaped stack of the shipped project with these variables; the project is loaded once, in a
 * beforeAll of the calling file.
 */
export function shippedStackPlanner(): (
  vars?: Record<string, unknown>,
  options?: { separateBalancers?: boolean },
) => RunPlan {
  let loaded: Awaited<ReturnType<typeof loadShippedProject>> | undefined;
  beforeAll(async () => {
    loaded = await loadShippedProject();
  });
  return (vars = {}, options = {}) => {
    if (!loaded) throw new Error('the shipped project is not loaded yet (plan inside a test)');
    return planStack(stackInputs(loaded.project, loaded.assets, stackInventory(vars, options)));
  };
}
