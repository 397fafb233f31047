/**
 * The few file operations on the local state folder (`inventory/.pgprov/<name>/`) that the PKI and secrets stores
 * share: private folders, atomic writes and optional reads (the lock between pgprov processes: core/file-lock.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnvironmentError } from '../core/errors.js';

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
