/**
 * The few file operations on the local state folder (`inventory/.pgprov/<name>/`) that the PKI and secrets stores
 * share: private folders, atomic writes, optional reads and an exclusive lock between pgprov processes.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnvironmentError, LockError } from '../core/errors.js';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
export const PUBLIC_FILE_MODE = 0o644;

/** Creates a folder (and its parents) readable by the owner only, if it does not exist. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (error) {
    throw fileError('create the folder', dir, error);
  }
}

/** The file's text, or undefined if it does not exist. Any other failure is an error naming the file. */
export async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw fileError('read', file, error);
  }
}

/**
 * Writes a file so that readers see the old content or the new, never a part: write beside it with the final
 * mode, flush, then rename over it.
 */
export async function writeFileAtomic(file: string, data: string, mode: number): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.chmod(mode); // open's mode is filtered by the umask
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw fileError('write', file, error);
  }
  await syncDir(dirname(file));
}

/** Flushes a folder's entries, so a rename survives a crash. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface LockOptions {
  /** How long to wait for another process to release the lock before giving up. */
  timeoutMs: number;
  pollMs?: number;
}

/**
 * Runs `work` while holding `lockFile`, created exclusively ('wx') and removed afterwards. Another holder is waited
 * for; after `timeoutMs` the error says who holds it and since when.
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
  const holder: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx', PRIVATE_FILE_MODE);
      try {
        await handle.writeFile(`${JSON.stringify(holder)}\n`, 'utf8');
      } finally {
        await handle.close();
      }
      return;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw fileError('create the lock file', lockFile, error);
    }
    if (Date.now() - started >= options.timeoutMs) {
      throw new LockError(lockFile, await describeHolder(lockFile), {
        hint: `Wait for that run to finish. If no pgprov run is using this state folder, delete ${lockFile}.`,
      });
    }
    const poll = options.pollMs ?? 100;
    await sleep(poll / 2 + Math.random() * poll);
  }
}

/** "pid 4242 on ctl since 2026-01-02T03:04:05.000Z (12 min ago); that process no longer exists". */
async function describeHolder(lockFile: string): Promise<string> {
  let holder: Partial<Holder>;
  try {
    holder = JSON.parse(await readFile(lockFile, 'utf8')) as Partial<Holder>;
  } catch {
    return 'holder unknown: the lock file is empty or unreadable';
  }
  const since = holder.since ? new Date(holder.since) : undefined;
  const age =
    since && !Number.isNaN(since.getTime()) ? Math.round((Date.now() - since.getTime()) / 60_000) : undefined;
  let text = `pid ${holder.pid ?? '?'} on ${holder.host ?? '?'}`;
  if (since && age !== undefined) text += ` since ${since.toISOString()} (${age} min ago)`;
  if (holder.host === hostname() && typeof holder.pid === 'number' && !isAlive(holder.pid)) {
    text += '; that process no longer exists, so the lock is stale';
  }
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

/** An EnvironmentError for a failed file operation, naming the file and the system's reason. */
export function fileError(action: string, file: string, error: unknown): EnvironmentError {
  const reason = errorCode(error) ?? (error instanceof Error ? error.message : String(error));
  return new EnvironmentError(`cannot ${action} ${file}: ${reason}`, {
    hint: `Check that ${dirname(file)} exists and that you own it.`,
    cause: error,
  });
}
