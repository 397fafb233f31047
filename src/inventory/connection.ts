import { isAbsolute, join, resolve } from 'node:path';
import type { HostConnection } from './model.js';
import { namesOf, type ConnectionField } from './known-vars.js';
import { findVar, type FoundVar, type VarsLayer } from './precedence.js';
import type { PgprovVars } from './vars.generated.js';

export interface PathContext {
  /** The inventory file's folder: relative paths resolve against it. */
  baseDir: string;
  /** `~/` resolves against it. */
  homeDir: string;
}

/**
 * Stage 3 (defaults) for one host's connection. Defaults: address = the host name, port 22, user root,
 * become = (user is not root), no key file (the SSH agent or the default keys).
 */
export function resolveConnection(
  host: string,
  layers: readonly VarsLayer[],
  paths: PathContext,
): { connection: HostConnection; origins: Partial<Record<ConnectionField, FoundVar>> } {
  const origins: Partial<Record<ConnectionField, FoundVar>> = {};
  const get = <K extends keyof PgprovVars>(field: ConnectionField): PgprovVars[K] | undefined => {
    const found = findVar(layers, namesOf(field));
    if (found) origins[field] = found;
    return found?.value as PgprovVars[K] | undefined;
  };
  const address = get<'ansible_host'>('address') ?? host;
  const port = get<'ansible_port'>('port') ?? 22;
  const user = get<'ansible_user'>('user') ?? 'root';
  const become = get<'ansible_become'>('become') ?? user !== 'root';
  const keyFile = get<'ansible_ssh_private_key_file'>('privateKeyFile');
  const connection: HostConnection = { address, port, user, become };
  if (keyFile !== undefined) connection.privateKeyFile = resolvePath(keyFile, paths);
  return { connection, origins };
}

/** `~/x` -> home folder, relative -> the inventory file's folder, absolute stays. */
export function resolvePath(path: string, { baseDir, homeDir }: PathContext): string {
  if (path === '~') return homeDir;
  if (path.startsWith('~/')) return join(homeDir, path.slice(2));
  return isAbsolute(path) ? path : resolve(baseDir, path);
}
