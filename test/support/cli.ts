import { main } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';

/** Runs the CLI in-process and returns what a user would see. */
export async function runCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const output: Output = { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false, exitCode: 0 };
  const code = await main(['node', 'pgprov', ...args], output);
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}
