import { type DefaultRenderer, Listr, type ListrTaskWrapper, type SimpleRenderer } from 'listr2';
import type { EventSink, RunEvent } from '../../core/events.js';
import { formatRecap } from './plain.js';

type AnyTask = ListrTaskWrapper<unknown, typeof DefaultRenderer, typeof SimpleRenderer>;

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * listr2 on a terminal: a task per phase, a subtask per host whose line shows the task it is on; the recap,
 * diffs and errors are printed when the run ends. It consumes the same events as the plain renderer.
 */
export function listrRenderer(write: (line: string) => void, options: { diff?: boolean } = {}) {
  const phases = new Map<string, { started: Deferred<string[]> }>();
  const hosts = new Map<string, { task?: AnyTask; changed: number; done: Deferred<void> }>();
  const after: string[] = [];
  let check = false;
  let running: Promise<unknown> = Promise.resolve();

  const hostKey = (phase: string, host: string) => `${phase}\u0000${host}`;
  const hostState = (phase: string, host: string) => {
    let s = hosts.get(hostKey(phase, host));
    if (!s) hosts.set(hostKey(phase, host), (s = { changed: 0, done: deferred<void>() }));
    return s;
  };

  const sink: EventSink = (e: RunEvent) => {
    switch (e.type) {
      case 'run-start': {
        check = e.check;
        for (const p of e.phases) phases.set(p, { started: deferred<string[]>() });
        const list = new Listr(
          e.phases.map((phase) => ({
            title: `phase ${phase}`,
            task: async (_ctx: unknown, task: AnyTask) => {
              const p = phases.get(phase);
              if (!p) return;
              const names = await p.started.promise;
              return task.newListr(
                names.map((host) => ({
                  title: host,
                  task: async (_c: unknown, t: AnyTask) => {
                    const s = hostState(phase, host);
                    s.task = t;
                    await s.done.promise;
                    t.title = `${host}: ${s.changed} ${check ? 'to change' : 'changed'}`;
                  },
                })),
                { concurrent: true, exitOnError: false },
              );
            },
          })),
          {
            concurrent: false,
            exitOnError: false,
            renderer: 'default',
            rendererOptions: { collapseSubtasks: false },
          },
        );
        running = list.run().catch(() => undefined);
        break;
      }
      case 'phase-start':
        phases.get(e.phase)?.started.resolve(e.hosts);
        break;
      case 'task-start': {
        const t = hostState(e.phase, e.host).task;
        if (t) t.output = e.task;
        break;
      }
      case 'task-result':
        if (e.status === 'changed') {
          hostState(e.phase, e.host).changed++;
          after.push(`${e.host} ${check ? 'would change' : 'changed'} ${e.task}: ${e.message}`);
          if (options.diff && e.diff) after.push(e.diff.text.trimEnd());
        }
        break;
      case 'host-failed':
        after.push(`${e.host} FAILED: ${e.error.message}${e.error.hint ? `\n  -> ${e.error.hint}` : ''}`);
        if (phases.has(e.phase))
          hostState(e.phase, e.host).done.reject(new Error(e.error.message.split('\n')[0]));
        break;
      case 'phase-end':
        for (const [key, s] of hosts) if (key.startsWith(`${e.phase}\u0000`)) s.done.resolve();
        break;
      case 'log':
        after.push(`${e.level === 'warn' ? 'WARNING: ' : ''}${e.message}`);
        break;
      case 'run-end':
        // Phases that never started (interrupted, or nothing could connect) end now.
        for (const p of phases.values()) p.started.resolve([]);
        for (const s of hosts.values()) s.done.resolve();
        running = running.then(() => {
          for (const line of after) write(line);
          write(formatRecap(e.recap, check, e.interrupted, e.durationMs));
        });
        break;
      default:
        break;
    }
  };
  return { sink, finished: () => running };
}
