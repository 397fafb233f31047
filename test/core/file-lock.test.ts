import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withLock } from '../../src/core/file-lock.js';
import { LockError } from '../../src/core/errors.js';

/** A PID above Linux's pid_max default range: no such process. */
const GONE_PID = 2 ** 22 + 7;

describe('withLock', () => {
  let dir: string;
  let lock: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pgprov-lock-'));
    lock = join(dir, '.lock');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs holders one at a time: a second waits, is told who holds it, then runs', async () => {
    const events: string[] = [];
    const waits: string[] = [];
    const first = withLock(lock, { timeoutMs: 5000, pollMs: 20 }, async () => {
      events.push('first in');
      await sleep(200);
      events.push('first out');
    });
    await sleep(20);
    const second = withLock(lock, { timeoutMs: 5000, pollMs: 20, onWait: (h) => waits.push(h) }, async () => {
      events.push('second in');
      return 42;
    });
    await first;
    expect(await second).toBe(42);
    expect(events).toEqual(['first in', 'first out', 'second in']);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toContain(`pid ${process.pid} on ${hostname()}`);
    expect(existsSync(lock)).toBe(false);
  });

  it('releases the lock when the work throws', async () => {
    await expect(
      withLock(lock, { timeoutMs: 1000 }, () => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a lock left by a process of this machine that is gone, when asked to', async () => {
    await writeFile(
      lock,
      JSON.stringify({ pid: GONE_PID, host: hostname(), since: new Date().toISOString() }),
    );
    const held = await withLock(lock, { timeoutMs: 1000, takeOverStale: true }, async () =>
      JSON.parse(await readFile(lock, 'utf8')),
    );
    expect(held).toMatchObject({ pid: process.pid, host: hostname() });
  });

  it("never takes over a live holder or another machine's lock: it times out naming the holder", async () => {
    for (const holder of [
      { pid: process.pid, host: hostname() },
      { pid: GONE_PID, host: 'another-controller' },
    ]) {
      await writeFile(lock, JSON.stringify({ ...holder, since: new Date().toISOString() }));
      const error = await withLock(
        lock,
        { timeoutMs: 150, pollMs: 20, takeOverStale: true, hint: 'wait for the build' },
        () => Promise.resolve('ran'),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockError);
      expect((error as Error).message).toContain(`pid ${holder.pid} on ${holder.host}`);
      expect((error as LockError).hint).toBe('wait for the build');
      expect(existsSync(lock)).toBe(true);
    }
  });
});
