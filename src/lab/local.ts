import { spawn } from 'node:child_process';
import type { Command } from '../core/command.js';
import { EnvironmentError, tail } from '../core/errors.js';

/** Runs commands on this machine (the lab's host), as typed `sh` commands. The lab's only door to the shell. */

export interface LocalResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface LocalOptions {
  /** What this command is for, shown in errors: "create the bridge". */
  step: string;
  /** What the user should do if it fails. */
  hint?: string;
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
}

/** Runs a command and returns its result whatever the exit code. */
export function tryRun(
  command: Command,
  options: Omit<LocalOptions, 'step' | 'hint'> = {},
): Promise<LocalResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command.script()], {
      env: { ...process.env, LC_ALL: 'C', ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    if (options.input !== undefined) child.stdin?.end(options.input);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({
        code: signal ? null : code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: signal ? `${stderr}\n(killed by ${signal})` : stderr,
      });
    });
  });
}

/** Runs a command and throws an EnvironmentError (step, command, exit code, stderr tail) if it fails. */
export async function run(command: Command, options: LocalOptions): Promise<string> {
  const result = await tryRun(command, options);
  if (result.code !== 0) {
    const output = tail(result.stderr) || tail(result.stdout);
    throw new EnvironmentError(
      `lab: ${options.step}: \`${command.display()}\` exited with ${result.code ?? 'a signal'}` +
        (output ? `\n${output}` : ''),
      { hint: options.hint ?? 'see the output above; `pgprov lab down` cleans up a half-built lab' },
    );
  }
  return result.stdout;
}

/** True when a command exits 0 (for probes such as "does this link exist"). */
export async function succeeds(command: Command): Promise<boolean> {
  return (await tryRun(command)).code === 0;
}
