/**
 * A standby cluster's primary ("upstream"), read on the controller from the primary's own inventory and state
 * folder (or, for a primary this machine does not apply, from the endpoint and CA file the inventory gives): where to stream from (its virtual IP and HAProxy replication port), which CAs to trust for that (the
 * primary's, every one it knows mid-rotation), and the passwords of the roles inside PostgreSQL (a standby's
 * data is a copy of the primary's, roles included).
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { EnvironmentError, InputError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import type { Inventory, Vars } from '../inventory/model.js';
import { loadInventory } from '../inventory/load.js';
import { parseCertificate } from '../pki/inspect.js';
import { knownCas, rotationFiles, trustBundle } from '../pki/rotation.js';

/** The inventory variable naming the primary: its inventory file, or a remote endpoint. */
export const STANDBY_OF = 'standby_of';

export interface Upstream {
  /** The primary's inventory, when this machine applies it too; undefined for a remote endpoint. */
  inventory?: Inventory;
  /** Its cluster_name. */
  clusterName: string;
  /** Where the standby leader streams from: the primary's virtual IP and HAProxy replication port. */
  host: string;
  port: number;
  /** The primary's CA certificates (PEM, concatenated). */
  caPem: string;
}

/** A primary this machine does not apply: where it answers for replication and the CA of its certificate. */
export interface RemotePrimary {
  host: string;
  port?: number;
  /** PEM file of the CA that signed the primary's server certificate, relative to this inventory's folder. */
  ca_file: string;
  cluster_name?: string;
}

export type StandbyOf = { file: string } | { remote: RemotePrimary };

/** The inventory's `standby_of`: the primary's inventory file (resolved against this one's folder) or endpoint. */
export function standbyOf(inventory: Inventory): StandbyOf | undefined {
  const values = new Map<string, unknown>();
  for (const h of inventory.hosts) {
    const v = h.vars[STANDBY_OF];
    if (v !== undefined) values.set(JSON.stringify(v), v);
  }
  if (values.size === 0) return undefined;
  if (values.size > 1) {
    throw new InputError('the inventory names more than one primary cluster', [
      {
        ...inventory.locate(['all']),
        message: `${STANDBY_OF} has different values on different hosts`,
        hint: `a cluster follows one primary: set ${STANDBY_OF} once, in the vars of 'all'`,
      },
    ]);
  }
  const [value] = values.values();
  if (typeof value === 'object' && value !== null) return { remote: value as RemotePrimary };
  return { file: resolve(dirname(inventory.file), String(value)) };
}

/** Reads the primary a standby inventory names (`standby_of`); undefined for a primary cluster. */
export async function loadUpstream(inventory: Inventory): Promise<Upstream | undefined> {
  const of = standbyOf(inventory);
  if (!of) return undefined;
  if ('remote' in of) return remoteUpstream(inventory, of.remote);
  const file = of.file;
  if (file === resolve(inventory.file)) {
    throw new InputError('a cluster cannot be a standby of itself', [
      {
        ...inventory.locate(['all', 'vars', STANDBY_OF]),
        message: `${STANDBY_OF} names this inventory`,
        hint: "name the primary cluster's inventory file",
      },
    ]);
  }
  const primary = await loadInventory(file);
  const vars: Vars = primary.hosts[0]?.vars ?? {};
  if (standbyOf(primary)) {
    throw new InputError('cascading standby clusters are not supported', [
      {
        ...inventory.locate(['all', 'vars', STANDBY_OF]),
        message: `${file} is itself a standby cluster`,
        hint: 'follow the primary cluster it follows',
      },
    ]);
  }
  const host = typeof vars.cluster_vip === 'string' ? vars.cluster_vip : undefined;
  if (!host) {
    throw new InputError('the primary cluster has no virtual IP to stream from', [
      {
        ...inventory.locate(['all', 'vars', STANDBY_OF]),
        message: `${file} sets no cluster_vip`,
        hint: 'a standby follows its primary through the virtual IP and HAProxy: give the primary a cluster_vip',
      },
    ]);
  }
  const cas = await knownCas(rotationFiles(primary.stateDir));
  if (cas.length === 0) {
    throw new EnvironmentError(`the primary cluster's CA is not in ${primary.stateDir}`, {
      hint: `apply the primary first (\`pgprov apply ${file}\`) from this machine, so its state folder is here`,
    });
  }
  return {
    inventory: primary,
    clusterName: String(vars.cluster_name ?? 'pgprov'),
    host,
    port: Number(vars.haproxy_replication_port ?? 5002),
    caPem: trustBundle(cas),
  };
}

/**
 * A primary given as an endpoint (another team's cluster, one built by other tools): its CA comes from a file,
 * and nothing is read from or recorded in its state (there is none here).
 */
async function remoteUpstream(inventory: Inventory, remote: RemotePrimary): Promise<Upstream> {
  const where = inventory.locate(['all', 'vars', STANDBY_OF, 'ca_file']);
  const file = resolve(dirname(inventory.file), remote.ca_file);
  const refuse = (message: string) =>
    new InputError("the primary's CA file cannot be used", [
      {
        ...where,
        message,
        hint: "give the PEM file of the CA that signed the primary's server certificate (relative to this inventory)",
      },
    ]);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw refuse(`${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) throw refuse(`${file} holds no PEM certificate`);
  for (const pem of pems) {
    let isCa = false;
    try {
      isCa = parseCertificate(pem).isCa;
    } catch (error) {
      throw refuse(`${file}: ${(error as Error).message}`);
    }
    if (!isCa) throw refuse(`${file} holds a certificate that is not a CA's`);
  }
  return {
    clusterName: remote.cluster_name ?? remote.host,
    host: remote.host,
    port: remote.port ?? 5432,
    caPem: trustBundle(pems.map((p) => `${p}\n`)),
  };
}

/**
 * The variables a standby's roles read (below the inventory's own: `standby_upstream_host` may be set by hand,
 * say a NAT address for the primary's VIP). Empty for a primary cluster.
 */
export function upstreamVars(upstream: Upstream | undefined, ownTrustPem: string): Vars {
  if (!upstream) return {};
  return {
    standby_upstream_cluster: upstream.clusterName,
    standby_upstream_host: upstream.host,
    standby_upstream_port: upstream.port,
    // The primary's CAs alone: what its repository host's certificate is checked against (roles/standby).
    standby_upstream_ca: upstream.caPem,
    // libpq takes one root file: the standby's own CAs (its cascade replicas) and the primary's (its leader).
    standby_replication_ca: trustBundle([ownTrustPem, upstream.caPem]),
  };
}

/**
 * The passwords a standby takes from its primary (roles inside PostgreSQL): given in the standby's own inventory
 * too, they must be the same.
 */
export function inheritedSecrets(
  inventory: Inventory,
  names: readonly string[],
  primary: Readonly<Record<string, Secret>>,
): Record<string, Secret> {
  const out: Record<string, Secret> = {};
  const issues = [];
  for (const name of names) {
    const value = primary[name];
    if (!value) continue;
    const own = inventory.hosts.map((h) => h.vars[name]).find((v) => v !== undefined);
    const text = own === undefined ? undefined : own instanceof Secret ? own.reveal() : String(own);
    if (text !== undefined && text !== value.reveal()) {
      issues.push({
        ...inventory.locate(['all', 'vars', name]),
        message: `${name} differs from the primary cluster's`,
        hint: `a standby's data is a copy of its primary's, roles included: remove ${name} from this inventory`,
      });
    }
    out[name] = value;
  }
  if (issues.length > 0) throw new InputError("the inventory contradicts its primary's passwords", issues);
  return out;
}
