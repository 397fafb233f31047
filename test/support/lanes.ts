/**
 * Setup file of the e2e project: each file takes its lanes (test/support/order.ts) before its own hooks run and
 * gives them back after. Two workers run e2e files; a file whose lane is busy waits here, and of two files
 * waiting for one lane the earlier in the order goes first, so each lane keeps its order whichever worker
 * dequeued what. The locks are files under /run/lock/pgprov-e2e holding the PID; a dead holder's are ignored.
 */
import { mkdirSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll } from 'vitest';
import { type Lane, lanesOf, rankOf } from './order.js';

const DIR = '/run/lock/pgprov-e2e';
/** Long enough for the longest file of a lane to end (a cold lab builds images first). */
const WAIT_MS = 60 * 60_000;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const pidIn = (path: string): number => {
  try {
    return Number(readFileSync(path, 'utf8').trim());
  } catch {
    return NaN;
  }
};

/** Waiting files of a lane ahead of `rank`, whose process still runs. */
function ahead(lane: Lane, rank: number): boolean {
  for (const name of readdirSync(DIR)) {
    const m = new RegExp(`^${lane}\\.wait\\.(\\d+)\\.(\\d+)$`).exec(name);
    if (!m) continue;
    const [, r, pid] = m;
    if (!alive(Number(pid))) rmSync(join(DIR, name), { force: true });
    else if (Number(r) < rank) return true;
  }
  return false;
}

async function take(lane: Lane, rank: number): Promise<void> {
  const lock = join(DIR, `${lane}.lock`);
  const waiting = join(DIR, `${lane}.wait.${rank}.${process.pid}`);
  writeFileSync(waiting, '');
  const since = Date.now();
  try {
    for (;;) {
      if (!ahead(lane, rank)) {
        try {
          const fd = openSync(lock, 'wx');
          writeFileSync(fd, `${process.pid}\n`);
          closeSync(fd);
          return;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
          const holder = pidIn(lock);
          if (!Number.isNaN(holder) && !alive(holder)) rmSync(lock, { force: true });
        }
      }
      if (Date.now() - since > WAIT_MS) throw new Error(`waited an hour for the e2e lane ${lane}`);
      await sleep(250);
    }
  } finally {
    rmSync(waiting, { force: true });
  }
}

function give(lane: Lane): void {
  const lock = join(DIR, `${lane}.lock`);
  if (pidIn(lock) === process.pid) rmSync(lock, { force: true });
}

let held: Lane[] = [];
let file = '';
let tookAt = 0;
let waitedMs = 0;

// vitest reads the first parameter's pattern for fixtures: it must be destructured, and nothing is needed from it.
// eslint-disable-next-line no-empty-pattern
beforeAll(async ({}, suite) => {
  mkdirSync(DIR, { recursive: true });
  file = basename(suite.file.filepath, '.test.ts');
  const since = Date.now();
  for (const lane of lanesOf(file)) {
    await take(lane, rankOf(file));
    held.push(lane);
  }
  tookAt = Date.now();
  waitedMs = tookAt - since;
}, WAIT_MS);

// vitest's duration of a file includes its wait for the lane: this line says what the file itself took.
afterAll(() => {
  const lanes = held.join('+');
  for (const lane of held.reverse()) give(lane);
  held = [];
  console.log(
    `lane ${lanes}: ${file} ran ${((Date.now() - tookAt) / 1000).toFixed(0)} s after waiting ${(waitedMs / 1000).toFixed(0)} s`,
  );
});
