/**
 * The known_hosts file on disk. Reads it, and records first-contact keys by appending one line (O_APPEND, one
 * write), never rewriting what is there. Appends from this process are serialized per file, and each re-checks
 * the file under that lock, so hosts connecting in parallel never lose each other's entries.
 */
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnvironmentError } from '../core/errors.js';
import {
  checkHostKey,
  knownHostsLine,
  parseKnownHosts,
  type HostKey,
  type HostKeyCheck,
  type KnownHostEntry,
} from './known-hosts.js';

/** The entries of a known_hosts file; a missing file has none. */
export async function loadKnownHosts(file: string): Promise<KnownHostEntry[]> {
  return parseKnownHosts(await readText(file));
}

/**
 * Records a host's key on first contact. Returns the check made under the lock: `unknown` means the key was
 * appended now; `known` means someone recorded the same key meanwhile; `changed`/`revoked` must be refused.
 */
export function recordHostKey(file: string, name: string, key: HostKey): Promise<HostKeyCheck> {
  return serialized(file, async () => {
    const text = await readText(file);
    const check = checkHostKey(parseKnownHosts(text), name, key);
    if (check.status !== 'unknown') return check;
    const separator = text !== '' && !text.endsWith('\n') ? '\n' : '';
    await append(file, separator + knownHostsLine(name, key));
    return check;
  });
}

// The file is shared by every connection of the process, so its lock is process-wide state.
const queues = new Map<string, Promise<unknown>>();

function serialized<T>(file: string, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(file) ?? Promise.resolve();
  const next = previous.then(task, task);
  const settled = next.catch(() => undefined);
  queues.set(file, settled);
  void settled.then(() => {
    if (queues.get(file) === settled) queues.delete(file);
  });
  return next;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new EnvironmentError(`cannot read the known_hosts file ${file}: ${(error as Error).message}`, {
      hint: 'check the file permissions, or point known_hosts in the inventory to a readable file',
      cause: error,
    });
  }
}

async function append(file: string, text: string): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const handle = await open(file, 'a', 0o600);
    try {
      await handle.write(text);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new EnvironmentError(`cannot record a host key in ${file}: ${(error as Error).message}`, {
      hint: 'check that the directory and file are writable by the user running pgprov',
      cause: error,
    });
  }
}
