/**
 * A standby cluster's primary ("upstream"), read on the controller from the primary's own inventory and state
 * folder: where to stream from (its virtual IP and HAProxy replication port), which CAs to trust for that (the
 * primary's, every one it knows mid-rotation), and the passwords of the roles inside PostgreSQL (a standby's
 * data is a copy of the primary's, roles included).
 */
import { dirname, resolve } from 'node:path';
import { EnvironmentError, InputError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import type { Inventory, Vars } from '../inventory/model.js';
import { loadInventory } from '../inventory/load.js';
import { knownCas, rotationFiles, trustBundle } from '../pki/rotation.js';

/** The inventory variable naming the primary's inventory file (relative to this inventory's folder). */
export const STANDBY_OF = 'standby_of';

export interface Upstream {
  /** The primary's inventory file, resolved. */
  inventory: Inventory;
  /** Its cluster_name. */
  clusterName: string;
  /** Where the standby leader streams from: the primary's virtual IP and HAProxy replication port. */
  host: string;
  port: number;
  /** The primary's CA certificates (PEM, concatenated). */
  caPem: string;
}

/** The inventory's `standby_of`, resolved against its folder; undefined for a primary cluster. */
export function standbyOf(inventory: Inventory): string | undefined {
  const values = new Set(inventory.hosts.map((h) => h.vars[STANDBY_OF]).filter((v) => v !== undefined));
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
  return resolve(dirname(inventory.file), String([...values][0]));
}

/** Reads the primary a standby inventory names (`standby_of`); undefined for a primary cluster. */
export async function loadUpstream(inventory: Inventory): Promise<Upstream | undefined> {
  const file = standbyOf(inventory);
  if (!file) return undefined;
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
