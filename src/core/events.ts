/**
 * Progress is a stream of events. The engine emits them; renderers (listr2, plain lines, JSON) and tests consume
 * them. Nothing in the engine prints.
 */

export type TaskStatus = 'ok' | 'changed' | 'failed' | 'skipped';

export interface FileDiff {
  path: string;
  /** Unified diff, secrets already masked. */
  text: string;
}

export type RunEvent =
  | { type: 'run-start'; inventory: string; check: boolean; hosts: string[]; phases: string[] }
  | { type: 'phase-start'; phase: string; hosts: string[] }
  | { type: 'host-start'; phase: string; host: string }
  | { type: 'task-start'; phase: string; host: string; task: string }
  | {
      type: 'task-result';
      phase: string;
      host: string;
      task: string;
      status: TaskStatus;
      /** A sentence: why nothing was needed, what was (or would be) changed, or what failed. */
      message: string;
      /** Masked commands that were (or in check mode would be) run. */
      commands: string[];
      diff?: FileDiff;
      handler?: boolean;
      /** From the task's start to its result: reading facts, planning and running its steps. */
      durationMs?: number;
    }
  | {
      type: 'host-failed';
      phase: string;
      host: string;
      error: { code: string; message: string; hint?: string };
    }
  | { type: 'phase-end'; phase: string }
  | { type: 'log'; level: 'info' | 'warn'; message: string; host?: string }
  | { type: 'run-end'; recap: Recap; interrupted: boolean; durationMs: number };

export interface HostRecap {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  /** SSH round trips used for this host during the run. */
  roundTrips: number;
  /** Set when the host failed: the error's message. */
  error?: string;
}

export type Recap = Record<string, HostRecap>;

export type EventSink = (event: RunEvent) => void;

/** Collects events, for tests and for the JSON renderer. */
export function collectEvents(): { sink: EventSink; events: RunEvent[] } {
  const events: RunEvent[] = [];
  return { sink: (e) => events.push(e), events };
}
