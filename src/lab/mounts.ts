import { readFile } from 'node:fs/promises';
import { sh } from '../core/command.js';
import { run } from './local.js';

/** This machine's mount table, read from /proc/self/mountinfo, and the lab's overlay mounts. */

export interface Mount {
  mountPoint: string;
  fsType: string;
  /** Superblock options (for overlayfs: lowerdir=...,upperdir=...). */
  superOptions: string;
}

/** Parses /proc/self/mountinfo (octal escapes such as \040 decoded). */
export function parseMountInfo(text: string): Mount[] {
  const unescape = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mountPoint = left.split(' ')[4];
    const [fsType, , superOptions] = right.split(' ');
    if (mountPoint === undefined || fsType === undefined) continue;
    mounts.push({ mountPoint: unescape(mountPoint), fsType, superOptions: unescape(superOptions ?? '') });
  }
  return mounts;
}

export async function mounts(): Promise<Mount[]> {
  return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

/** Mount points at or below `dir`, deepest first (the order to unmount them in). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const prefix = dir.replace(/\/+$/, '');
  return (await mounts())
    .map((m) => m.mountPoint)
    .filter((p) => p === prefix || p.startsWith(`${prefix}/`))
    .sort((a, b) => b.length - a.length);
}

/** Overlay mounts whose lower layer is `lowerDir` (hosts running on, or mounted over, an image). */
export async function overlaysOver(lowerDir: string): Promise<string[]> {
  return (await mounts())
    .filter((m) => m.fsType === 'overlay' && m.superOptions.split(',').includes(`lowerdir=${lowerDir}`))
    .map((m) => m.mountPoint);
}

/** Unmounts everything at or below `dir`, deepest first. */
export async function unmountAll(dir: string): Promise<void> {
  for (const point of await mountsUnder(dir)) {
    await run(sh`umount ${point}`, {
      step: `unmount ${point}`,
      hint: `find what still uses it (\`fuser -vm ${point}\`), stop that, and run \`pgprov lab down\` again`,
    });
  }
}
