/**
 * An exclusive lock between pgprov processes on one machine: a file created with 'wx' holding who took it, removed
 * when the work ends. The state stores (PKI, secrets) and the lab's image builds share it.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnvironmentError, LockError } from './errors.js';

export interface LockOptions {
  /** How long to wait for another process to release the lock before giving up. */
  timeoutMs: number;
  pollMs?: number;
  /** File mode of the lock file (default 0600). */
  mode?: number;
  /** Take over a lock whose holder was a process of this machine that no longer exists (default: report it). */
  takeOverStale?: boolean;
  /** Told once, when the lock is held by another process and this one starts waiting: who holds it. */
  onWait?: (holder: string) => void;
  /** What to tell the user when waiting timed out (default: wait for the holder, or delete a stale lock). */
  hint?: string;
}

/**
 * Runs `work` while holding `lockFile`. Another holder is waited for; after `timeoutMs` the error says who holds
 * it and since when.
 */
export async function withLock<T>(
  lockFile: string,
  options: LockOptions,
  work: () => Promise<T>,
): Promise<T> {
  await acquire(lockFile, options);
  try {
    return await work();
  } finally {
    await rm(lockFile, { force: true });
  }
}

interface Holder {
  pid: number;
  host: string;
  since: string;
}

async function acquire(lockFile: string, options: LockOptions): Promise<void> {
  const started = Date.now();
  const me: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  let told = false;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx', options.mode ?? 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(me)}\n`, 'utf8');
      } finally {
        await handle.close();
      }
      return;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') {
        throw new EnvironmentError(`cannot create the lock file ${lockFile}: ${reason(error)}`, {
          hint: `Check that ${dirname(lockFile)} exists and that you own it.`,
          cause: error,
        });
      }
    }
    const holder = await readHolder(lockFile);
    if (options.takeOverStale && holder && isStale(holder)) {
      // Another waiter may take it over at the same moment: 'wx' above lets only one of them create the new one.
      await rm(lockFile, { force: true });
      continue;
    }
    if (Date.now() - started >= options.timeoutMs) {
      throw new LockError(lockFile, describeHolder(holder), {
        hint:
          options.hint ??
          `Wait for that run to finish. If no pgprov run is using this state folder, delete ${lockFile}.`,
      });
    }
    if (!told) {
      options.onWait?.(describeHolder(holder));
      told = true;
    }
    const poll = options.pollMs ?? 100;
    await sleep(poll / 2 + Math.random() * poll);
  }
}

async function readHolder(lockFile: string): Promise<Partial<Holder> | undefined> {
  try {
    return JSON.parse(await readFile(lockFile, 'utf8')) as Partial<Holder>;
  } catch {
    return undefined;
  }
}

function isStale(holder: Partial<Holder>): boolean {
  return holder.host === hostname() && typeof holder.pid === 'number' && !isAlive(holder.pid);
}

/** "pid 4242 on ctl since 2026-01-02T03:04:05.000Z (12 min ago); that process no longer exists". */
function describeHolder(holder: Partial<Holder> | undefined): string {
  if (!holder) return 'holder unknown: the lock file is empty or unreadable';
  const since = holder.since ? new Date(holder.since) : undefined;
  const age =
    since && !Number.isNaN(since.getTime()) ? Math.round((Date.now() - since.getTime()) / 60_000) : undefined;
  let text = `pid ${holder.pid ?? '?'} on ${holder.host ?? '?'}`;
  if (since && age !== undefined) text += ` since ${since.toISOString()} (${age} min ago)`;
  if (isStale(holder)) text += '; that process no longer exists, so the lock is stale';
  return text;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

function errorCode(error: unknown): string | undefined {
  return error && typeof error === 'object' && 'code' in error ? String(error.code) : undefined;
}

function reason(error: unknown): string {
  return errorCode(error) ?? (error instanceof Error ? error.message : String(error));
}
