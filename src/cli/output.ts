import type { EventSink } from '../core/events.js';
import { jsonRenderer } from './render/json.js';
import { listrRenderer } from './render/listr.js';
import { plainRenderer } from './render/plain.js';

/** Where the CLI writes, injectable so tests read what a user would see. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
  isTTY: boolean;
  exitCode: number;
}

export function processOutput(): Output {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    isTTY: process.stdout.isTTY === true && !process.env.CI,
    exitCode: 0,
  };
}

export function rendererFor(
  output: Output,
  flags: { json?: boolean; plain?: boolean; verbose?: boolean; diff?: boolean },
): { sink: EventSink; finished: () => Promise<unknown> } {
  if (flags.json) return { sink: jsonRenderer(output.out), finished: async () => undefined };
  if (output.isTTY && !flags.plain && !flags.verbose)
    return listrRenderer(output.out, { diff: flags.diff === true });
  return {
    sink: plainRenderer(output.out, { verbose: flags.verbose === true, diff: flags.diff === true }),
    finished: async () => undefined,
  };
}
