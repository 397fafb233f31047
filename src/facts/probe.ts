import { randomBytes } from 'node:crypto';
import type { Command } from '../core/command.js';
import { join, raw, sh } from '../core/command.js';
import { type FactOutput, type FactRequest, requestKey } from './fact.js';

/**
 * Many facts in one round trip: each fact's command runs in its own subshell between markers, and the combined
 * output is split back per fact. The marker carries a random nonce so no fact output can forge one.
 */
export interface Probe {
  command: Command;
  keys: string[];
  nonce: string;
}

export function buildProbe(requests: readonly FactRequest[], nonce = randomBytes(6).toString('hex')): Probe {
  const unique = new Map<string, FactRequest>();
  for (const r of requests) unique.set(requestKey(r), r);
  const keys = [...unique.keys()];
  const parts = [...unique.values()].map((r, i) =>
    join(
      [
        sh`printf '\\n@@${raw(nonce)} ${i}\\n'`,
        sh`(${r.fact.command(r.args)}) 2>/dev/null </dev/null`,
        sh`printf '\\n@@${raw(nonce)}-rc ${i} %d\\n' $?`,
      ],
      '; ',
    ),
  );
  return { command: join(parts, '\n'), keys, nonce };
}

export function parseProbe(probe: Probe, stdout: string): Map<string, FactOutput> {
  const out = new Map<string, FactOutput>();
  const start = new RegExp(`\\n@@${probe.nonce} (\\d+)\\n`, 'g');
  let match: RegExpExecArray | null;
  while ((match = start.exec(stdout)) !== null) {
    const index = Number(match[1]);
    const from = match.index + match[0].length;
    const endMarker = `\n@@${probe.nonce}-rc ${index} `;
    const end = stdout.indexOf(endMarker, from);
    if (end < 0) break;
    const rcText = stdout.slice(end + endMarker.length, stdout.indexOf('\n', end + endMarker.length));
    const key = probe.keys[index];
    if (key !== undefined) out.set(key, { stdout: stdout.slice(from, end), code: Number(rcText) });
    start.lastIndex = end;
  }
  const missing = probe.keys.filter((k) => !out.has(k));
  if (missing.length > 0) throw new Error(`internal: probe output lacks facts ${missing.join(', ')}`);
  return out;
}
