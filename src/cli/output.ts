import type { Writable } from 'node:stream';
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
  const out = writer(process.stdout);
  const err = writer(process.stderr);
  return {
    out: (line) => out(`${line}\n`),
    err: (line) => err(`${line}\n`),
    isTTY: process.stdout.isTTY === true && !process.env.CI,
    exitCode: 0,
  };
}

/**
 * Writes to a stream until its reader goes away (`pgprov status | head`): the rest is dropped, with no stack trace,
 * and the command goes on to its end, since stopping an apply half-way to save some output would be worse.
 */
function writer(stream: Writable): (text: string) => void {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closed = true;
  });
  return (text) => {
    if (!closed) stream.write(text);
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
