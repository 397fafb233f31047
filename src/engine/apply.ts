import pLimit from 'p-limit';
import { InterruptedError, PgprovError } from '../core/errors.js';
import type { EventSink, Recap } from '../core/events.js';
import type { Transport } from '../transport/transport.js';
import type { InventoryHost } from '../inventory/model.js';
import { gatherAfter } from './gather.js';
import { type HostState, runHostPhase } from './host-run.js';
import { endRun, lockCommand, newHolder, releaseLock, settleLock, startRun } from './lock.js';
import type { HostPlan, HostTask, RunPlan } from './plan.js';

export interface ApplyOptions {
  check: boolean;
  diff: boolean;
  /** Hosts worked on at once within a phase. */
  forks: number;
  sink: EventSink;
  connect(host: InventoryHost): Promise<Transport>;
  signal?: AbortSignal;
  inventoryFile: string;
}

export interface ApplyResult {
  recap: Recap;
  failed: boolean;
  interrupted: boolean;
}

/**
 * Executes a plan: connect to every host (one connection each for the whole run), take each host's lock, then
 * run the phases in order, hosts in parallel within a phase. A host that fails stops there; the others go on.
 * Connection and lock problems are found before anything changes anywhere, so a run either starts whole or not
 * at all.
 */
export async function applyPlan(plan: RunPlan, options: ApplyOptions): Promise<ApplyResult> {
  const started = Date.now();
  const { sink } = options;
  const signal = options.signal ?? new AbortController().signal;
  const recap: Recap = Object.fromEntries(
    plan.hosts.map((h) => [h.name, { ok: 0, changed: 0, failed: 0, skipped: 0, roundTrips: 0 }]),
  );
  sink({
    type: 'run-start',
    inventory: options.inventoryFile,
    check: options.check,
    hosts: plan.hosts.map((h) => h.name),
    phases: plan.phases.map((p) => p.name),
  });
  const transports = new Map<string, Transport>();
  const locked: Transport[] = [];
  const failedHosts = new Set<string>();
  const fail = (phase: string, host: string, error: unknown) => {
    failedHosts.add(host);
    const r = recap[host];
    if (r) {
      r.failed++;
      r.error = errorMessage(error);
    }
    const e = error instanceof PgprovError ? error : undefined;
    sink({
      type: 'host-failed',
      phase,
      host,
      error: {
        code: e?.code ?? 'E_INTERNAL',
        message: errorMessage(error),
        ...(e?.hint ? { hint: e.hint } : {}),
      },
    });
  };

  const holder = newHolder();
  startRun(holder);
  try {
    // Reach every host, lock it and read every phase's facts, in one round trip after the handshake: nothing
    // changes anywhere unless all hosts can be reached and locked. On an unchanged cluster that probe is the
    // only read; a host that changes something re-reads before its next task (runHostPhase).
    const limit = pLimit(Math.max(1, options.forks));
    const states = new Map<string, HostState>();
    await Promise.all(
      plan.hosts.map((h) =>
        limit(async () => {
          const env = { host: h.name, diff: options.diff, masker: plan.masker };
          // run_once tasks' facts only where they will run (the phase's first host); a host that takes them
          // over from a failed one reads them then.
          const requests = plan.phases.flatMap((p) =>
            p.hosts
              .filter((x) => x.host.name === h.name)
              .flatMap((x) =>
                [...x.tasks, ...(x === p.hosts.find((y) => y.once.length > 0) ? x.once : [])].flatMap((t) =>
                  t.op.facts(t.args, env),
                ),
              ),
          );
          try {
            const t = await options.connect(h);
            transports.set(h.name, t);
            const lock = options.check ? undefined : lockCommand(holder);
            const { facts, firstLine } = await gatherAfter(t, lock, requests);
            if (lock) {
              const note = await settleLock(t, holder, firstLine);
              locked.push(t);
              if (note) sink({ type: 'log', level: 'warn', host: h.name, message: note });
            }
            states.set(h.name, { facts, dirty: false });
          } catch (error) {
            const t = transports.get(h.name);
            if (t && !options.check) await releaseLock(t, holder).catch(() => undefined);
            fail('connect', h.name, error);
          }
        }),
      ),
    );
    if (failedHosts.size > 0) {
      sink({
        type: 'log',
        level: 'warn',
        message: 'nothing was applied: not every host could be reached and locked',
      });
      return await finish();
    }

    for (const phase of plan.phases) {
      if (signal.aborted) break;
      sink({ type: 'phase-start', phase: phase.name, hosts: phase.hosts.map((h) => h.host.name) });
      // A task with `throttle: n` executes on at most n hosts of this phase at once (rolling restarts).
      const throttles = new Map<string, ReturnType<typeof pLimit>>();
      const throttled = <T>(task: HostTask, work: () => Promise<T>): Promise<T> => {
        const n = task.task.throttle;
        if (n === undefined) return work();
        const key = `${task.role}\u0000${task.name}`;
        let gate = throttles.get(key);
        if (!gate) throttles.set(key, (gate = pLimit(n)));
        return gate(work);
      };
      const runOn = async (hostPlan: HostPlan): Promise<void> => {
        const name = hostPlan.host.name;
        if (failedHosts.has(name) || signal.aborted) {
          (recap[name] as Recap[string]).skipped += hostPlan.tasks.length;
          return;
        }
        sink({ type: 'host-start', phase: phase.name, host: name });
        try {
          const state = states.get(name) ?? { dirty: true };
          states.set(name, state);
          await runHostPhase(
            transports.get(name) as Transport,
            hostPlan,
            recap[name] as Recap[string],
            state,
            {
              phase: phase.name,
              check: options.check,
              diff: options.diff,
              masker: plan.masker,
              sink,
              signal,
              throttled,
            },
          );
        } catch (error) {
          fail(phase.name, name, error);
        }
      };
      const changedBefore = totalChanged();
      await Promise.all(phase.hosts.map((hostPlan) => limit(() => runOn(hostPlan))));
      // run_once tasks: on the first host that has not failed, once every host is done with the phase. They
      // read the cluster as a whole, so their facts are read again if any host changed something.
      const onceHost = phase.hosts.find((h) => h.once.length > 0 && !failedHosts.has(h.host.name));
      if (onceHost) {
        const state = states.get(onceHost.host.name);
        if (state && totalChanged() > changedBefore) state.dirty = true;
        await runOn({ ...onceHost, tasks: onceHost.once, once: [] });
      } else {
        const first = phase.hosts.find((h) => h.once.length > 0);
        if (first) (recap[first.host.name] as Recap[string]).skipped += first.once.length;
      }
      sink({ type: 'phase-end', phase: phase.name });
    }
    return await finish();
  } finally {
    // Only reached with work left when something threw past the per-host handlers (a bug): still unlock.
    await Promise.all(locked.map((t) => releaseLock(t, holder).catch(() => undefined)));
    for (const t of transports.values()) await t.close().catch(() => undefined);
    endRun(holder);
  }

  function totalChanged(): number {
    return Object.values(recap).reduce((n, r) => n + r.changed, 0);
  }

  /** Releases locks and connections, then reports the recap (with the final round-trip counts). */
  async function finish(): Promise<ApplyResult> {
    await Promise.all(locked.splice(0).map((t) => releaseLock(t, holder).catch(() => undefined)));
    for (const [name, t] of transports) {
      const r = recap[name];
      if (r) r.roundTrips = t.roundTrips;
      await t.close().catch(() => undefined);
    }
    transports.clear();
    const interrupted = signal.aborted;
    sink({ type: 'run-end', recap, interrupted, durationMs: Date.now() - started });
    return { recap, failed: failedHosts.size > 0, interrupted };
  }
}

function errorMessage(error: unknown): string {
  if (error instanceof InterruptedError) return 'interrupted';
  return error instanceof Error ? error.message : String(error);
}
