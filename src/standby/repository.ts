/**
 * A standby cluster's second source of WAL: its primary's pgBackRest repository. When streaming from the
 * primary's virtual IP breaks (the link between the sites, the primary's HAProxy), the standby leader's
 * restore_command fetches the archived WAL from the primary's repository host instead, so a standby that fell
 * behind beyond the primary's wal_keep_size still catches up.
 *
 * The repository host's TLS server accepts only the certificate names it lists (tls-server-auth), signed by the
 * primary's CA. A standby therefore gets a client certificate from the primary's CA, named `standby.<cluster>`
 * (never a host name of the primary, so it can never pass for one of its hosts), and records itself in the
 * primary's state folder; the primary's next apply lists that name on its repository host.
 */
import type { Secret } from '../core/secret.js';
import type { Inventory, Vars } from '../inventory/model.js';
import { readRecords, removeRecord, writeRecord } from './records.js';

/** Where the standby reads WAL from: the primary's repository host and its settings. */
export interface UpstreamRepository {
  /** The repository host's inventory name (pgBackRest checks it against the DNS names of its certificate). */
  host: string;
  port: number;
  path: string;
  cipherType: string;
  /** The primary's stanza: its cluster_name. */
  stanza: string;
}

/** The primary's repository, or why it offers none to read WAL from. */
export type RepositoryLookup = { repository: UpstreamRepository } | { reason: string };

/** The certificate name a standby cluster's members present to the primary's repository host. */
export const standbyClientName = (cluster: string): string => `standby.${cluster}`;

/**
 * The primary's repository as its inventory describes it (its own values over the pgbackrest role's defaults).
 * Only a repository on a host is read through; an S3 bucket would need the standby to hold the bucket's keys.
 */
export function upstreamRepository(primary: Inventory, defaults: Vars): RepositoryLookup {
  const repoHost = primary.groups.pgbackrest?.[0];
  if (!repoHost) return { reason: 'the primary has no pgbackrest group' };
  const vars: Vars = { ...defaults, ...primary.hosts.find((h) => h.name === repoHost)?.vars };
  if (String(vars.pgbackrest_repo_type ?? 'posix') !== 'posix') {
    return {
      reason: `the primary's repository is of type ${String(vars.pgbackrest_repo_type)}; a standby reads WAL only from a repository host`,
    };
  }
  return {
    repository: {
      host: repoHost,
      port: Number(vars.pgbackrest_tls_port ?? 8432),
      path: String(vars.pgbackrest_repo_path ?? '/var/lib/pgbackrest'),
      cipherType: String(vars.pgbackrest_cipher_type ?? 'aes-256-cbc'),
      stanza: String(vars.cluster_name ?? 'pgprov'),
    },
  };
}

/** The variables the standby role and Patroni's standby_cluster section read. */
export function repositoryVars(
  repository: UpstreamRepository,
  client: { name: string; certPem: string; keyPem: Secret },
  cipherPass: Secret | undefined,
): Vars {
  return {
    standby_upstream_repo_host: repository.host,
    standby_upstream_repo_port: repository.port,
    standby_upstream_repo_path: repository.path,
    standby_upstream_repo_cipher_type: repository.cipherType,
    ...(cipherPass ? { standby_upstream_repo_cipher_pass: cipherPass } : {}),
    standby_upstream_repo_cert: client.certPem,
    standby_upstream_repo_key: client.keyPem,
  };
}

/** A standby cluster as its primary's state folder records it. */
export interface StandbyRegistration {
  /** The standby's cluster_name. */
  cluster: string;
  /** Its inventory file, for people reading the folder. */
  inventory: string;
  /** The certificate name its members present to the repository host. */
  client: string;
}

const KIND = 'standbys';

/** Records a standby in its primary's state folder; true when the record is new or changed. */
export async function registerStandby(
  primaryStateDir: string,
  registration: StandbyRegistration,
): Promise<boolean> {
  return (await writeRecord(primaryStateDir, KIND, registration.cluster, registration)).written;
}

/** Forgets a standby (promoted: it reads no more WAL from this primary). */
export async function unregisterStandby(primaryStateDir: string, cluster: string): Promise<void> {
  await removeRecord(primaryStateDir, KIND, cluster);
}

/** The standbys recorded in this (primary) cluster's state folder, by cluster name. */
export async function registeredStandbys(stateDir: string): Promise<StandbyRegistration[]> {
  const out: StandbyRegistration[] = [];
  // A damaged record authorizes nothing; the standby's next apply writes it again.
  for (const { parsed } of await readRecords(stateDir, KIND)) {
    const r = (parsed ?? {}) as Partial<StandbyRegistration>;
    if (typeof r.cluster === 'string' && typeof r.client === 'string') {
      out.push({ cluster: r.cluster, inventory: String(r.inventory ?? '?'), client: r.client });
    }
  }
  return out;
}
