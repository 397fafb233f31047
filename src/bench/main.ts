/**
 * `npm run bench`: measures pgprov on the lab, as a benchmark (numbers printed, nothing asserted).
 *   - first apply of the etcd role on 3 bare hosts (packages through the lab's apt proxy)
 *   - the no-op re-apply (median of several), and SSH round trips per host for each
 * Environment: BENCH_REPEAT (default 5), BENCH_SKIP_FRESH=1 to reuse running hosts for the first apply.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectEvents } from '../core/events.js';
import type { Recap } from '../core/events.js';
import { runApply } from '../engine/run.js';
import { labDown, labUp } from '../lab/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INVENTORY = join(ROOT, 'inventory', 'lab.yaml');

async function timedApply(tags: string[]): Promise<{ seconds: number; recap: Recap; failed: boolean }> {
  const { sink } = collectEvents();
  const started = process.hrtime.bigint();
  const result = await runApply({ inventoryFile: INVENTORY, check: false, diff: false, sink, tags });
  return {
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    recap: result.recap,
    failed: result.failed,
  };
}

const perHost = (recap: Recap, key: 'roundTrips' | 'changed') =>
  Object.entries(recap)
    .map(([h, r]) => `${h}=${r[key]}`)
    .join(' ');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

async function main(): Promise<void> {
  const repeat = Number(process.env.BENCH_REPEAT ?? 5);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log('pgprov benchmark: etcd role on 3 lab hosts (systemd-nspawn, this machine)');
  if (process.env.BENCH_SKIP_FRESH !== '1') await labDown();
  await labUp({ hosts: 3 });

  const first = await timedApply(['etcd']);
  if (first.failed) throw new Error('first apply failed');
  log(
    `first apply (bare hosts)    ${first.seconds.toFixed(2)} s   changed: ${perHost(first.recap, 'changed')}`,
  );
  log(`                            round trips: ${perHost(first.recap, 'roundTrips')}`);

  const noop: number[] = [];
  let last: Recap = {};
  for (let i = 0; i < repeat; i++) {
    const run = await timedApply(['etcd']);
    if (run.failed) throw new Error('no-op apply failed');
    const changed = Object.values(run.recap).reduce((n, r) => n + r.changed, 0);
    if (changed !== 0) throw new Error(`no-op apply changed ${changed} task(s)`);
    noop.push(run.seconds);
    last = run.recap;
  }
  log(
    `no-op re-apply (median of ${repeat}) ${median(noop).toFixed(3)} s   min ${Math.min(...noop).toFixed(3)} s, max ${Math.max(...noop).toFixed(3)} s (target < 1 s)`,
  );
  log(`                            round trips: ${perHost(last, 'roundTrips')}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
