import { randomBytes } from 'node:crypto';
import type { Command } from '../core/command.js';
import { join, raw, sh } from '../core/command.js';
import { type FactOutput, type FactRequest, requestKey } from './fact.js';

/**
 * Many facts in one round trip: each fact's command (or one command for all requests of a fact that batches)
 * runs in its own subshell between markers, and the combined output is split back per fact. The marker carries a random nonce so no fact output can forge one.
 */
export interface Probe {
  command: Command;
  /** Every fact read, by request key. */
  keys: string[];
  /** One background job each: a single fact, or a batch of one fact's requests. */
  jobs: ProbeJob[];
  nonce: string;
}

interface ProbeJob {
  keys: string[];
  /** For a batch: the output of each request, from the batch's. */
  split?: (output: FactOutput) => FactOutput[];
}

export function buildProbe(requests: readonly FactRequest[], nonce = randomBytes(6).toString('hex')): Probe {
  const unique = new Map<string, FactRequest>();
  for (const r of requests) unique.set(requestKey(r), r);
  // Requests of a fact that batches share one job; the others run one job each.
  const groups = new Map<unknown, FactRequest[]>();
  const jobs: (ProbeJob & { command: Command })[] = [];
  for (const r of unique.values()) {
    if (r.fact.batch) {
      const group = groups.get(r.fact);
      if (group) group.push(r);
      else groups.set(r.fact, [r]);
    } else jobs.push({ keys: [requestKey(r)], command: r.fact.command(r.args) });
  }
  for (const group of groups.values()) {
    const first = group[0] as FactRequest;
    const batch = first.fact.batch as NonNullable<FactRequest['fact']['batch']>;
    if (group.length === 1) {
      jobs.push({ keys: [requestKey(first)], command: first.fact.command(first.args) });
      continue;
    }
    const args = group.map((r) => r.args);
    jobs.push({
      keys: group.map(requestKey),
      command: batch.command(args),
      split: (output) => batch.split(output, args),
    });
  }
  // Jobs are read-only, so they run side by side, each writing its framed output to its own file; one cat
  // prints them in order (names are zero-padded indexes).
  const runs = jobs.map((job, i) => {
    const n = raw(String(i));
    const file = raw(String(i).padStart(6, '0'));
    return sh`{ printf '\n@@${raw(nonce)} ${n}\n'; (${job.command}) 2>/dev/null </dev/null; printf '\n@@${raw(nonce)}-rc ${n} %d\n' $?; } >"$d/${file}" &`;
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
  return {
    command,
    keys: [...unique.keys()],
    jobs: jobs.map(({ keys, split }) => (split ? { keys, split } : { keys })),
    nonce,
  };
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
    const job = probe.jobs[index];
    if (job) {
      const output = { stdout: stdout.slice(from, end), code: Number(rcText) };
      const outputs = job.split ? job.split(output) : [output];
      job.keys.forEach((key, i) => {
        const o = outputs[i];
        if (o) out.set(key, o);
      });
    }
    start.lastIndex = end;
  }
  const missing = probe.keys.filter((k) => !out.has(k));
  if (missing.length > 0) throw new Error(`internal: probe output lacks facts ${missing.join(', ')}`);
  return out;
}
