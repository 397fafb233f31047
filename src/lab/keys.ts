import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sh } from '../core/command.js';
import { EnvironmentError } from '../core/errors.js';
import { knownHosts } from './host-files.js';
import type { LabLayout } from './layout.js';
import { run } from './local.js';
import type { LabHost } from './topology.js';

/** SSH keys: the lab's login key (one, generated once) and each host's own ed25519 host key. */

const HOST_KEY = 'etc/ssh/ssh_host_ed25519_key';

/** Generates the lab's login key unless it exists. Returns true if it was generated. */
export async function ensureLabKey(layout: LabLayout): Promise<boolean> {
  if (existsSync(layout.sshKey) && existsSync(layout.sshPublicKey)) return false;
  await mkdir(dirname(layout.sshKey), { recursive: true, mode: 0o700 });
  await rm(layout.sshKey, { force: true });
  await rm(layout.sshPublicKey, { force: true });
  await run(sh`ssh-keygen -q -t ed25519 -N '' -C pgprov-lab -f ${layout.sshKey}`, {
    step: 'generate the lab SSH key',
  });
  return true;
}

export async function labPublicKey(layout: LabLayout): Promise<string> {
  return readFile(layout.sshPublicKey, 'utf8');
}

/** Generates a host's SSH host key inside its root unless it has one. Returns true if it was generated. */
export async function ensureHostKey(root: string, hostname: string): Promise<boolean> {
  const path = join(root, HOST_KEY);
  if (existsSync(path) && existsSync(`${path}.pub`)) return false;
  await rm(path, { force: true });
  await rm(`${path}.pub`, { force: true });
  await run(sh`ssh-keygen -q -t ed25519 -N '' -C ${`root@${hostname}`} -f ${path}`, {
    step: `${hostname}: generate the SSH host key`,
  });
  return true;
}

/** A host's public host key (`ssh-ed25519 AAAA... root@pg1`), read from its root. */
export async function hostPublicKey(root: string, hostname: string): Promise<string> {
  try {
    return await readFile(join(root, `${HOST_KEY}.pub`), 'utf8');
  } catch (cause) {
    throw new EnvironmentError(`lab: ${hostname} has no SSH host key at ${join(root, HOST_KEY)}.pub`, {
      hint: 'run `pgprov lab up` again (it gives every host a key before booting it)',
      cause,
    });
  }
}

/** Rewrites the lab's known_hosts with each host's pinned host key (read from its mounted root). */
export async function writeKnownHosts(
  layout: LabLayout,
  hosts: readonly { host: LabHost; root: string }[],
): Promise<void> {
  const entries = [];
  for (const { host, root } of hosts) entries.push({ host, publicKey: await hostPublicKey(root, host.name) });
  const tmp = `${layout.knownHosts}.tmp`;
  await writeFile(tmp, knownHosts(entries));
  await rename(tmp, layout.knownHosts);
}
