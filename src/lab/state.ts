import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnvironmentError } from '../core/errors.js';
import { withLock } from '../core/file-lock.js';
import type { LabLayout } from './layout.js';
import type { ProcessRecord } from './processes.js';
import { labHostNamed, type LabHost } from './topology.js';

/**
 * state.json: what the running lab is made of, so `down`, `status`, `stop` and `start` (in other processes) act
 * on exactly what `up` created. Written atomically after every change; one lab command at a time holds the lock.
 */

export interface HostState {
  /** The systemd-nspawn process supervising the host, while it runs. */
  nspawn?: ProcessRecord;
  /** The Debian suite of the image under the host's overlay (absent in older states: the lab's suite). */
  suite?: string;
}

export interface LabState {
  version: 1;
  /** The suite of the lab's first hosts: the default for hosts added without one. */
  suite: string;
  /** Every host the lab has (running or stopped), by name. */
  hosts: Record<string, HostState>;
  /** Our apt-cacher-ng process. */
  proxy?: ProcessRecord;
  /** sysctls the lab changed, with the values to restore on `down`. */
  sysctls: Record<string, { original: string; set: string }>;
}

/** The lab's hosts, by index, from its state. */
export function stateHosts(state: LabState): LabHost[] {
  return Object.keys(state.hosts)
    .map(labHostNamed)
    .sort((a, b) => a.index - b.index);
}

/** The Debian suite a host of the lab runs. */
export function hostSuite(state: LabState, name: string): string {
  return state.hosts[name]?.suite ?? state.suite;
}

export function emptyState(suite: string): LabState {
  return { version: 1, suite, hosts: {}, sysctls: {} };
}

export async function readState(layout: LabLayout): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await readFile(layout.state, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const state = JSON.parse(text) as LabState;
    if (state.version !== 1) throw new Error(`version ${String(state.version)}`);
    return state;
  } catch (cause) {
    throw new EnvironmentError(`lab: ${layout.state} is not a lab state file this pgprov can read`, {
      hint: 'run `pgprov lab down` to clean the lab up (it also works from what it finds on this machine)',
      cause,
    });
  }
}

export async function writeState(layout: LabLayout, state: LabState): Promise<void> {
  await mkdir(dirname(layout.state), { recursive: true });
  const tmp = `${layout.state}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n');
  await rename(tmp, layout.state);
}

export async function removeState(layout: LabLayout): Promise<void> {
  await rm(layout.state, { force: true });
}

/** How long a lab command waits for another one (booting hosts, building an image) before giving up. */
export const LAB_LOCK_WAIT_MS = 20 * 60_000;

/**
 * Runs `fn` holding the lab lock (core/file-lock: a file naming the holder). A live holder is waited for (`onWait`
 * is told once), up to `waitMs`; a lock left by a process that has ended is taken over.
 */
export async function withLabLock<T>(
  layout: LabLayout,
  fn: () => Promise<T>,
  options: { waitMs?: number; onWait?: (message: string) => void } = {},
): Promise<T> {
  try {
    await mkdir(dirname(layout.lock), { recursive: true });
  } catch (cause) {
    throw new EnvironmentError(`lab: cannot take the lab lock ${layout.lock}`, {
      hint: 'check that /var/lib/pgprov is writable (the lab runs as root)',
      cause,
    });
  }
  return withLock(
    layout.lock,
    {
      timeoutMs: options.waitMs ?? LAB_LOCK_WAIT_MS,
      pollMs: 250,
      takeOverStale: true,
      onWait: (holder) => options.onWait?.(`waiting for another pgprov lab command to finish (${holder})`),
      hint: 'another pgprov lab command is still running: wait for it to finish, then try again',
    },
    fn,
  );
}
