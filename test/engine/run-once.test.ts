import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { sh } from '../../src/core/command.js';
import { collectEvents } from '../../src/core/events.js';
import { Masker } from '../../src/core/secret.js';
import { applyPlan } from '../../src/engine/apply.js';
import type { HostPlan, HostTask, RunPlan } from '../../src/engine/plan.js';
import { defineFact, request } from '../../src/facts/fact.js';
import type { InventoryHost } from '../../src/inventory/model.js';
import { change, defineOperation, exec, noChange, type Operation } from '../../src/ops/operation.js';
import type { PatroniConfigArgs, PatroniRolloutArgs } from '../../src/ops/patroni.js';
import type { Project } from '../../src/roles/model.js';
import type { Transport } from '../../src/transport/transport.js';
import { fakeInventory } from '../support/inventory.js';
import {
  contentOf,
  loadShippedProject,
  planStack,
  stackInputs,
  stackInventory,
} from '../roles-stack/support.js';

const SETTINGS = 'Cluster-wide settings in etcd follow the inventory';
const ROLLOUT = 'Restarts roll out replicas first, then a switchover, then the old leader';

describe('planning run_once tasks (the shipped patroni role)', () => {
  let project: Project;
  let assets: Awaited<ReturnType<typeof loadShippedProject>>['assets'];
  beforeAll(async () => {
    ({ project, assets } = await loadShippedProject());
  });
  const plan = (vars: Record<string, unknown> = {}) =>
    planStack(stackInputs(project, assets, stackInventory(vars)));
  const host = (p: RunPlan, name: string) =>
    p.phases.find((x) => x.name === 'patroni')?.hosts.find((h) => h.host.name === name) as HostPlan;

  it('keeps them apart from the per-host tasks, on every member (any of them may run them)', () => {
    const p = plan();
    for (const name of ['pg1', 'pg2', 'pg3']) {
      const h = host(p, name);
      expect(h.once.map((t) => t.name)).toEqual([SETTINGS, ROLLOUT]);
      expect(h.tasks.map((t) => t.name)).not.toContain(SETTINGS);
      expect(h.tasks.map((t) => t.name)).not.toContain(ROLLOUT);
      expect(h.tasks.length).toBeGreaterThan(0);
    }
  });

  it("reaches each member's REST API as its rendered config.yml says, and wants its bootstrap.dcs in the DCS", () => {
    const p = plan({ patroni_ttl: 20, postgresql_parameters: { max_connections: 300 } });
    const pg2 = host(p, 'pg2');
    const [settings, rollout] = pg2.once as [HostTask, HostTask];
    const api = {
      config: '/etc/patroni/config.yml',
      url: 'https://10.231.0.12:8008',
      cacert: '/etc/patroni/pki/ca.crt',
      cluster: 'test',
    };
    const config = parse(contentOf(p, 'patroni', 'pg2', 'Patroni configuration'));
    expect(settings.op.module).toBe('patroni_config');
    expect(settings.args).toEqual({ api, settings: config.bootstrap.dcs } satisfies PatroniConfigArgs);
    expect((settings.args as PatroniConfigArgs).settings).toMatchObject({
      ttl: 20,
      postgresql: { parameters: { max_connections: 300 } },
    });
    expect(rollout.op.module).toBe('patroni_rollout');
    expect(rollout.args).toEqual({ api, timeout: 300 } satisfies PatroniRolloutArgs);
  });
});

/** A fact whose value says which read of the host it came from: shows whether facts were read again. */
const readFact = defineFact<Record<string, never>, string>({
  name: 'test-read',
  key: () => 'read',
  command: () => sh`true`,
  parse: ({ stdout }) => stdout.trim(),
});

/** Changes something (one `step` command) unless told not to. */
const stepOp = defineOperation<{ name: string; unchanged?: boolean }>({
  module: 'test-step',
  facts: () => [],
  plan: ({ name, unchanged }) =>
    unchanged ? noChange(`${name}: nothing to do`) : change(name, [exec(sh`step ${name}`)]),
});

/** Cluster-wide work: its command carries what its facts said when it planned. */
const clusterOp = defineOperation<{ name: string }>({
  module: 'test-cluster',
  facts: () => [request(readFact, {})],
  plan: ({ name }, facts) => change(name, [exec(sh`step ${name} after ${facts.get(readFact, {})}`)]),
});

function hostTask<A>(op: Operation<A>, args: A & { name: string }, runOnce = false): HostTask {
  return {
    name: args.name,
    role: 'test',
    op: op as Operation<unknown>,
    args,
    notify: [],
    task: {
      role: 'test',
      name: args.name,
      module: 'command',
      args: {},
      tags: [],
      notify: [],
      ...(runOnce ? { runOnce } : {}),
      source: { file: '/roles/test/tasks.yaml' },
    },
  };
}

/**
 * Two hosts, each with one per-host task ("configure") and one run_once task ("cluster-wide"), over fake
 * transports that log every step they execute, in order, and every fact read.
 */
function scenario(
  options: {
    /** Host -> milliseconds its per-host task takes. */
    slow?: Record<string, number>;
    /** `host: step` that exits 1. */
    fail?: string[];
    /** Hosts whose per-host task finds nothing to change. */
    unchanged?: string[];
  } = {},
) {
  const hosts: InventoryHost[] = fakeInventory({}, 2).hosts;
  const log: string[] = [];
  const reads = new Map<string, number>();
  const transport = (host: string): Transport => {
    let roundTrips = 0;
    return {
      host,
      get roundTrips() {
        return roundTrips;
      },
      async exec(command) {
        roundTrips++;
        const text = command.display();
        if (text.startsWith('step ')) {
          const step = text.slice('step '.length);
          await new Promise((r) => setTimeout(r, step === 'configure' ? (options.slow?.[host] ?? 0) : 0));
          log.push(`${host}: ${step}`);
          const failed = options.fail?.includes(`${host}: ${step}`);
          return { code: failed ? 1 : 0, stdout: '', stderr: failed ? 'boom' : '' };
        }
        // The lock (taken with the first fact probe) and the fact probes: answer each framed fact.
        let stdout = text.includes('mkdir -p /run/lock') ? 'acquired\n' : '';
        const frames = [...text.matchAll(/@@(\w+) (\d+)\n/g)];
        if (frames.length > 0) {
          const n = (reads.get(host) ?? 0) + 1;
          reads.set(host, n);
          for (const [, nonce, i] of frames) stdout += `\n@@${nonce} ${i}\nread-${n}\n@@${nonce}-rc ${i} 0\n`;
        }
        return { code: 0, stdout, stderr: '' };
      },
      async put() {
        roundTrips++;
      },
      async get() {
        roundTrips++;
        return Buffer.from('');
      },
      async close() {},
    };
  };
  const plan: RunPlan = {
    phases: [
      {
        name: 'cluster',
        hosts: hosts.map((host) => ({
          host,
          tasks: [
            hostTask(stepOp, {
              name: 'configure',
              ...(options.unchanged?.includes(host.name) ? { unchanged: true } : {}),
            }),
          ],
          once: [hostTask(clusterOp, { name: 'cluster-wide' }, true)],
          handlers: new Map(),
        })),
      },
    ],
    hosts,
    masker: new Masker(),
  };
  const { sink, events } = collectEvents();
  const run = () =>
    applyPlan(plan, {
      check: false,
      diff: false,
      forks: 5,
      sink,
      connect: async (h) => transport(h.name),
      inventoryFile: '/tmp/inventory.yaml',
    });
  return { run, log, events };
}

describe('applying run_once tasks', () => {
  it('runs them once, on the first host, after every host has finished the phase', async () => {
    // pg2 is slower: a run_once task started when pg1 is done would run before pg2's task ends.
    const { run, log, events } = scenario({ slow: { pg2: 40 } });
    const result = await run();
    expect(result.failed).toBe(false);
    expect(log).toEqual(['pg1: configure', 'pg2: configure', 'pg1: cluster-wide after read-2']);
    expect(
      events.flatMap((e) => (e.type === 'task-result' ? [`${e.host}: ${e.task} ${e.status}`] : [])),
    ).toEqual(['pg1: configure changed', 'pg2: configure changed', 'pg1: cluster-wide changed']);
    expect(result.recap.pg1).toMatchObject({ changed: 2, failed: 0, skipped: 0 });
    expect(result.recap.pg2).toMatchObject({ changed: 1, failed: 0, skipped: 0 });
  });

  it('runs them on the next host when the first failed in that phase', async () => {
    const { run, log } = scenario({ fail: ['pg1: configure'], slow: { pg1: 20 } });
    const result = await run();
    expect(result.failed).toBe(true);
    // pg2's first probe did not read the run_once task's facts (only the phase's first host does): it reads
    // them when it takes the task over, after the phase; that is its first read of them.
    expect(log).toEqual(['pg2: configure', 'pg1: configure', 'pg2: cluster-wide after read-1']);
    expect(result.recap.pg1).toMatchObject({ failed: 1, changed: 0 });
    expect(result.recap.pg2).toMatchObject({ changed: 2 });
  });

  it('counts them skipped when every host failed', async () => {
    const { run, log } = scenario({ fail: ['pg1: configure', 'pg2: configure'] });
    const result = await run();
    expect(log).toEqual(['pg1: configure', 'pg2: configure']);
    expect(result.recap.pg1).toMatchObject({ failed: 1, skipped: 1 });
    expect(result.recap.pg2).toMatchObject({ failed: 1, skipped: 0 });
  });

  it('reads their facts again when another host changed something in the phase', async () => {
    // pg1 itself changes nothing: only pg2's change makes what pg1 read at the start stale.
    const { run, log } = scenario({ unchanged: ['pg1'] });
    await run();
    expect(log).toEqual(['pg2: configure', 'pg1: cluster-wide after read-2']);
  });

  it('plans them on the facts already read when nothing changed in the phase', async () => {
    const { run, log } = scenario({ unchanged: ['pg1', 'pg2'] });
    await run();
    expect(log).toEqual(['pg1: cluster-wide after read-1']);
  });
});
