import type { Command } from '../core/command.js';
import type { FileDiff } from '../core/events.js';
import type { Masker } from '../core/secret.js';
import type { FactRequest, Facts } from '../facts/fact.js';
import type { FileUpload } from '../transport/transport.js';

/** What an operation needs to know about where it plans, besides facts. Never a connection. */
export interface OpEnv {
  host: string;
  /** Gather old file contents so changed files can be shown as diffs. */
  diff: boolean;
  masker: Masker;
}

/** One thing to do on a host. */
export type Step =
  /** `label`, when given, is what plans and progress show instead of the command (long scripts). */
  { kind: 'exec'; command: Command; label?: string } | { kind: 'put'; file: FileUpload };

/**
 * The single declaration behind both `--check` and `apply`: either nothing is needed (and why), or the steps
 * that close the gap (and why). Apply executes exactly these steps; check prints them.
 */
export type Plan =
  | { changed: false; reason: string; warning?: string }
  | {
      changed: true;
      reason: string;
      /** Something the operator must hear whatever is done (shown as a warning, in --check too). */
      warning?: string;
      steps: Step[];
      diff?: FileDiff;
      /** Services these steps start or restart. */
      starts?: string[];
      /** Services these steps restart or reload to pick up a change: not needed if started since the change. */
      refreshes?: string[];
    };

export interface Operation<A> {
  /** The module name used in role task lists (`package`, `template`, ...). */
  readonly module: string;
  /** Facts this operation reads, gathered in one batched probe with every other task's. */
  facts(args: A, env: OpEnv): FactRequest[];
  /** Pure: compares desired state (args) with facts. */
  plan(args: A, facts: Facts, env: OpEnv): Plan;
}

export const defineOperation = <A>(op: Operation<A>): Operation<A> => op;

export const noChange = (reason: string): Plan => ({ changed: false, reason });

/** The plan, carrying a warning the run shows on this host whether or not it changes anything. */
export const withWarning = (plan: Plan, warning: string | undefined): Plan =>
  warning ? { ...plan, warning } : plan;

export const change = (reason: string, steps: Step[], diff?: FileDiff): Plan =>
  diff ? { changed: true, reason, steps, diff } : { changed: true, reason, steps };

export const exec = (command: Command, label?: string): Step =>
  label === undefined ? { kind: 'exec', command } : { kind: 'exec', command, label };
