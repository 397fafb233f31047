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
  // Facts are read-only, so they run side by side (a process start costs ~10 ms on a busy host), each writing
  // its framed output to its own file; one cat prints them in order (names are zero-padded indexes).
  const runs = [...unique.values()].map((r, i) => {
    const n = raw(String(i));
    const file = raw(String(i).padStart(6, '0'));
    return sh`{ printf '\n@@${raw(nonce)} ${n}\n'; (${r.fact.command(r.args)}) 2>/dev/null </dev/null; printf '\n@@${raw(nonce)}-rc ${n} %d\n' $?; } >"$d/${file}" &`;
  });
  const command = join(
    [
      sh`d=$(mktemp -d) || exit 1`,
      ...runs,
      sh`wait`,
      ...(runs.length ? [sh`cat "$d"/*`] : []),
      sh`rm -rf "$d"`,
    ],
    '\n',
  );
  return { command, keys, nonce };
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
