import { RemoteCommandError, tail } from '../core/errors.js';
import type { EventSink, HostRecap } from '../core/events.js';
import type { Masker } from '../core/secret.js';
import type { GatheredFacts } from '../facts/fact.js';
import type { OpEnv, Plan, Step } from '../ops/operation.js';
import type { Transport } from '../transport/transport.js';
import { gather } from './gather.js';
import type { HostPlan, HostTask } from './plan.js';

/** What the engine knows about a host across phases: facts, and whether anything changed since they were read. */
export interface HostState {
  facts?: GatheredFacts;
  dirty: boolean;
}

export interface HostRunOptions {
  phase: string;
  check: boolean;
  diff: boolean;
  masker: Masker;
  sink: EventSink;
  /** Checked between tasks: once aborted, no further task starts. */
  signal: AbortSignal;
  /** Runs a throttled task's steps under the phase-wide limit for that task (see `throttle` in roles). */
  throttled<T>(task: HostTask, work: () => Promise<T>): Promise<T>;
}

/**
 * Runs one host's tasks for one phase. Facts for every task are gathered in one probe; after a task changes
 * something, later tasks re-gather their own facts first, so each plan is made against the host as it is now.
 * `--check` takes the same path and stops short of executing the steps: the plan shown is the plan applied.
 */
export async function runHostPhase(
  transport: Transport,
  plan: HostPlan,
  recap: HostRecap,
  state: HostState,
  options: HostRunOptions,
): Promise<void> {
  const { phase, sink } = options;
  const host = plan.host.name;
  const env: OpEnv = { host, diff: options.diff, masker: options.masker };
  const wanted = plan.tasks.flatMap((t) => t.op.facts(t.args, env));
  if (!state.facts || state.dirty || !wanted.every((r) => state.facts?.has(r))) {
    state.facts = await gather(transport, wanted);
    state.dirty = false;
  }
  let facts: GatheredFacts = state.facts;
  /** Handler name -> the task that notified it first, and when. */
  const notified = new Map<string, { by: string; at: number }>();
  /** Service -> when it was last (re)started in this phase. */
  const started = new Map<string, number>();
  let clock = 0;

  const runTask = async (
    task: HostTask,
    handler: boolean,
    why?: { by: string; at: number },
  ): Promise<void> => {
    sink({ type: 'task-start', phase, host, task: task.name });
    const startedAt = Date.now();
    const requests = task.op.facts(task.args, env);
    if (state.dirty || !requests.every((r) => facts.has(r))) facts = await gather(transport, requests);
    let result: Plan = task.op.plan(task.args, facts, env);
    // Coalesce restarts: a service started after the change that notified its handler already runs with it.
    const fresh = result.changed
      ? result.refreshes?.find((s) => (started.get(s) ?? -1) > (why?.at ?? Infinity))
      : undefined;
    if (handler && fresh)
      result = {
        changed: false,
        reason: `${fresh} was started after '${why?.by}' changed; no restart or reload needed`,
      };
    const reason = handler && !fresh ? `${result.reason} (notified by '${why?.by}')` : result.reason;
    if (result.warning)
      sink({ type: 'log', level: 'warn', host, message: options.masker.mask(result.warning) });
    clock++;
    const commands = result.changed ? result.steps.map(describeStep) : [];
    if (result.changed && !options.check) {
      state.dirty = true;
      const steps = result.steps;
      await options.throttled(task, async () => {
        for (const step of steps) await execute(transport, step, task, options.masker);
      });
    }
    if (result.changed) {
      // Recorded in check mode too, so --check coalesces exactly as apply will.
      for (const s of result.starts ?? []) started.set(s, clock);
      recap.changed++;
      for (const n of task.notify) if (!notified.has(n)) notified.set(n, { by: task.name, at: clock });
    } else recap.ok++;
    sink({
      type: 'task-result',
      phase,
      host,
      task: task.name,
      status: result.changed ? 'changed' : 'ok',
      message: options.masker.mask(reason),
      commands,
      ...(result.changed && result.diff ? { diff: result.diff } : {}),
      ...(handler ? { handler: true } : {}),
      durationMs: Date.now() - startedAt,
    });
  };

  for (const task of plan.tasks) {
    if (options.signal.aborted) return;
    await runTask(task, false);
  }
  // Handlers run once per host, after the phase's tasks, in the order the role defines them.
  for (const [name, handler] of plan.handlers) {
    if (options.signal.aborted) return;
    const by = notified.get(name);
    if (by !== undefined) await runTask(handler, true, by);
  }
}

function describeStep(step: Step): string {
  return step.kind === 'exec'
    ? (step.label ?? step.command.display())
    : `write ${step.file.path} (owner ${step.file.owner}:${step.file.group}, mode ${step.file.mode})`;
}

async function execute(transport: Transport, step: Step, task: HostTask, masker: Masker): Promise<void> {
  const become = task.become === undefined ? {} : { become: task.become };
  if (step.kind === 'put') {
    await transport.put(step.file, become);
    return;
  }
  const result = await transport.exec(step.command, become);
  if (result.code !== 0) {
    throw new RemoteCommandError(
      transport.host,
      masker.mask(step.label ?? step.command.display()),
      result.code,
      masker.mask(tail(result.stderr || result.stdout)),
      { step: task.name },
    );
  }
}
