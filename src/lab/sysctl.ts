import { readFile, writeFile } from 'node:fs/promises';
import { EnvironmentError } from '../core/errors.js';

/**
 * Kernel settings the lab raises while it runs, restored by `down`. Each booted systemd holds ~10 inotify
 * instances, all counted for root, and the default of 128 stops the lab at ~20 hosts (LAB-NOTES trap 4).
 */

export const INOTIFY_INSTANCES = 'fs.inotify.max_user_instances';

/** Instances to allow for a lab of `hosts` hosts: ~10 per host, and room for this machine's own. */
export function inotifyInstancesFor(hosts: number): number {
  return Math.max(1024, 256 + 16 * hosts);
}

function procPath(key: string): string {
  return `/proc/sys/${key.replace(/\./g, '/')}`;
}

export async function readSysctl(key: string): Promise<string> {
  return (await readFile(procPath(key), 'utf8')).trim();
}

export async function writeSysctl(key: string, value: string): Promise<void> {
  try {
    await writeFile(procPath(key), `${value}\n`);
  } catch (cause) {
    throw new EnvironmentError(`lab: cannot set ${key} to ${value}`, {
      hint: `set it yourself (\`sysctl -w ${key}=${value}\`) and run the command again`,
      cause,
    });
  }
}

/**
 * Raises a numeric sysctl to at least `minimum`. Returns what to restore later (undefined when nothing changed,
 * or when an earlier raise is already recorded in `recorded`).
 */
export async function raiseSysctl(
  key: string,
  minimum: number,
  recorded?: { original: string; set: string },
): Promise<{ original: string; set: string } | undefined> {
  const current = await readSysctl(key);
  if (Number(current) >= minimum) return recorded;
  await writeSysctl(key, String(minimum));
  return { original: recorded?.original ?? current, set: String(minimum) };
}

/** Restores a sysctl the lab changed, unless someone changed it since (then theirs stands). */
export async function restoreSysctl(
  key: string,
  change: { original: string; set: string },
): Promise<boolean> {
  if ((await readSysctl(key)) !== change.set) return false;
  await writeSysctl(key, change.original);
  return true;
}
