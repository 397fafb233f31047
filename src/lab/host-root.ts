import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sh } from '../core/command.js';
import { EnvironmentError } from '../core/errors.js';
import { etcHosts } from './host-files.js';
import { ensureHostKey } from './keys.js';
import type { LabLayout } from './layout.js';
import { run } from './local.js';
import { mounts } from './mounts.js';
import { LAB_USER, type LabHost } from './topology.js';

/**
 * A host's root filesystem: an overlay of its own upper layer over the shared image, mounted at hosts/<name>/root.
 * Its identity (machine-id, SSH host key) is written once, before its first boot, and survives stop and start.
 */

export async function isMounted(path: string): Promise<boolean> {
  return (await mounts()).some((m) => m.mountPoint === path);
}

/** Mounts the host's overlay unless it is mounted. Returns true if it mounted it. */
export async function mountHostRoot(layout: LabLayout, host: LabHost, suite: string): Promise<boolean> {
  const dirs = layout.host(host.name);
  if (await isMounted(dirs.root)) return false;
  for (const d of [dirs.upper, dirs.work, dirs.root]) await mkdir(d, { recursive: true });
  const options = `lowerdir=${layout.image(suite)},upperdir=${dirs.upper},workdir=${dirs.work}`;
  await run(sh`mount -t overlay overlay -o ${options} ${dirs.root}`, {
    step: `${host.name}: mount its root filesystem`,
    hint: 'check that this kernel has overlayfs (`grep overlay /proc/filesystems`)',
  });
  return true;
}

/** Writes a file atomically (beside it, then renamed over it): a running host never reads half a file. */
async function place(path: string, content: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.pgprov-tmp`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

/** /etc/hosts naming every lab host; rewritten on running hosts too when the lab grows. */
export async function writeEtcHosts(root: string, hosts: readonly LabHost[]): Promise<boolean> {
  const path = join(root, 'etc/hosts');
  const text = etcHosts(hosts);
  if ((await readFile(path, 'utf8').catch(() => '')) === text) return false;
  await place(path, text);
  return true;
}

/**
 * Gives a host its identity before boot: hostname, /etc/hosts, machine-id and SSH host key (both kept if present),
 * and the lab login key for the vagrant user.
 */
export async function writeHostIdentity(
  root: string,
  host: LabHost,
  hosts: readonly LabHost[],
  loginKey: string,
): Promise<void> {
  await place(join(root, 'etc/hostname'), `${host.name}\n`);
  await writeEtcHosts(root, hosts);
  const machineId = join(root, 'etc/machine-id');
  const current = await readFile(machineId, 'utf8').catch(() => '');
  if (!/^[0-9a-f]{32}\s*$/.test(current))
    await place(machineId, `${randomBytes(16).toString('hex')}\n`, 0o444);
  await ensureHostKey(root, host.name);

  const { uid, gid, home } = await passwdEntry(root, LAB_USER);
  const sshDir = join(root, home, '.ssh');
  await mkdir(sshDir, { recursive: true, mode: 0o700 });
  await chown(sshDir, uid, gid);
  const authorized = join(sshDir, 'authorized_keys');
  await place(authorized, loginKey.endsWith('\n') ? loginKey : `${loginKey}\n`, 0o600);
  await chown(authorized, uid, gid);
}

async function passwdEntry(root: string, user: string): Promise<{ uid: number; gid: number; home: string }> {
  const passwd = await readFile(join(root, 'etc/passwd'), 'utf8');
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid, , home] = line.split(':');
    if (name === user && uid && gid && home) return { uid: Number(uid), gid: Number(gid), home };
  }
  throw new EnvironmentError(`lab: the image at ${root} has no ${user} user`, {
    hint: 'rebuild the image: `pgprov lab down`, then `pgprov lab up --rebuild-image`',
  });
}
