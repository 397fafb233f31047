import { collectEvents, type Recap } from '../core/events.js';
import type { Vars } from '../inventory/model.js';
import { runApply } from '../engine/run.js';

export interface Timed {
  seconds: number;
  recap: Recap;
  changed: number;
}

/** One `pgprov apply` in-process, timed; a failed run throws with the hosts' errors. */
export async function timedApply(
  inventoryFile: string,
  options: { tags?: string[]; extraVars?: Vars } = {},
): Promise<Timed> {
  const { sink } = collectEvents();
  const started = process.hrtime.bigint();
  const result = await runApply({ inventoryFile, check: false, diff: false, sink, ...options });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.failed) {
    const errors = Object.entries(result.recap).flatMap(([h, r]) => (r.error ? [`${h}: ${r.error}`] : []));
    throw new Error(`apply failed: ${errors.join('; ')}`);
  }
  const changed = Object.values(result.recap).reduce((n, r) => n + r.changed, 0);
  return { seconds, recap: result.recap, changed };
}

/** Applies `repeat` times on an unchanged cluster; each must change nothing. Returns the durations. */
export async function noOpApplies(
  inventoryFile: string,
  repeat: number,
  options: { tags?: string[]; extraVars?: Vars } = {},
): Promise<{ seconds: number[]; last: Timed }> {
  const seconds: number[] = [];
  let last: Timed | undefined;
  for (let i = 0; i < repeat; i++) {
    last = await timedApply(inventoryFile, options);
    if (last.changed !== 0) throw new Error(`a no-op apply changed ${last.changed} task(s)`);
    seconds.push(last.seconds);
  }
  return { seconds, last: last as Timed };
}

export const perHost = (recap: Recap, key: 'roundTrips' | 'changed'): string =>
  Object.entries(recap)
    .map(([h, r]) => `${h}=${r[key]}`)
    .join(' ');

export function stats(xs: readonly number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)] as number, min: s[0] as number, max: s.at(-1) as number };
}
