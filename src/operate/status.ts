import {
  type Assessment,
  assess,
  type ClusterSnapshot,
  type Durability,
  type MemberSnapshot,
  type Problem,
  type Thresholds,
  type WatchdogMode,
} from '../cluster/health.js';
import { certificatesFact } from '../facts/certificate.js';
import { etcdHealthFact } from '../facts/etcd.js';
import { type FactRequest, request } from '../facts/fact.js';
import { haproxyFact } from '../facts/haproxy.js';
import { clusterViewFact, memberFact, serverFact } from '../facts/member.js';
import { addressesFact } from '../facts/network.js';
import { stanzaFact } from '../facts/pgbackrest.js';
import { unitCommandFact } from '../facts/systemd.js';
import { watchdogFact } from '../facts/watchdog.js';
import { readPromotions } from '../standby/promotion.js';
import type { HostRead, Session } from './session.js';

/**
 * Reads the whole cluster in one round trip per host, all hosts at once: each member's Patroni and PostgreSQL,
 * each etcd member's health, each balancer's addresses and HAProxy, the backups on the repository host and every
 * certificate pgprov placed. A host that does not answer is part of the snapshot, not an error.
 */
export async function readCluster(
  session: Session,
  scope: 'all' | 'members' = 'all',
): Promise<ClusterSnapshot> {
  const requests = new Map<string, FactRequest[]>();
  const add = (host: string, r: FactRequest) => {
    const list = requests.get(host) ?? [];
    list.push(r);
    requests.set(host, list);
  };
  const all = scope === 'all';
  const members = session.group('postgres_cluster');
  const etcd = all ? session.group('etcd_cluster') : [];
  const balancers = all ? session.group('balancers') : [];
  const repository = all ? session.group('pgbackrest')[0] : undefined;
  const api = (host: string) => {
    const v = session.vars(host);
    return {
      url: `https://${session.host(host).connection.address}:${String(v.patroni_restapi_port)}`,
      cacert: `${String(v.patroni_pki_dir)}/ca.crt`,
    };
  };
  for (const h of members) {
    const v = session.vars(h.name);
    add(h.name, request(memberFact, api(h.name)));
    add(h.name, request(clusterViewFact, { ...api(h.name), cluster: session.clusterName }));
    add(h.name, request(serverFact, { port: Number(v.postgresql_port) }));
    add(h.name, request(watchdogFact, {}));
    add(h.name, request(unitCommandFact, { name: 'patroni' }));
  }
  for (const h of etcd) {
    const v = session.vars(h.name);
    const dir = String(v.etcd_pki_dir);
    add(h.name, request(etcdHealthFact, etcdTls(h.connection.address, v, dir, h.name)));
  }
  for (const h of balancers) {
    add(h.name, request(addressesFact, {}));
    add(h.name, request(haproxyFact, { port: Number(session.vars(h.name).haproxy_stats_port) }));
  }
  if (repository) add(repository.name, request(stanzaFact, { stanza: session.clusterName }));
  const certified = all ? session.inventory.hosts : [];
  for (const h of certified) {
    add(h.name, request(certificatesFact, { paths: certificatePaths(session, h.name) }));
  }

  const reads = new Map<string, HostRead>(
    await Promise.all(
      [...requests].map(async ([host, list]) => [host, await session.read(host, list)] as const),
    ),
  );
  const facts = (host: string) => {
    const r = reads.get(host);
    return r?.reachable ? r.facts : undefined;
  };
  const unreachable: Record<string, string> = {};
  for (const [host, r] of reads) if (!r.reachable) unreachable[host] = r.why;

  const vip = session.setting('cluster_vip');
  const promotedStandbys = all ? await readPromotions(session.inventory.stateDir) : [];
  return {
    cluster: session.clusterName,
    at: new Date(),
    unreachable,
    members: members.map((h): MemberSnapshot => {
      const f = facts(h.name);
      const v = session.vars(h.name);
      if (!f) return { host: h.name, address: h.connection.address };
      const view = f.get(clusterViewFact, { ...api(h.name), cluster: session.clusterName });
      return {
        host: h.name,
        address: h.connection.address,
        patroni: f.get(memberFact, api(h.name)),
        server: f.get(serverFact, { port: Number(v.postgresql_port) }),
        watchdog: f.get(watchdogFact, {}),
        ...patroniCommand(f.get(unitCommandFact, { name: 'patroni' }).command),
        ...(view.answered ? { view: view.members } : {}),
      };
    }),
    etcd: etcd.map((h) => {
      const f = facts(h.name);
      if (!f) return { host: h.name, healthy: false, why: 'host unreachable' };
      const v = session.vars(h.name);
      return {
        host: h.name,
        ...f.get(etcdHealthFact, etcdTls(h.connection.address, v, String(v.etcd_pki_dir), h.name)),
      };
    }),
    balancers: balancers.map((h) => {
      const f = facts(h.name);
      if (!f) return { host: h.name, holdsVip: false };
      return {
        host: h.name,
        holdsVip: typeof vip === 'string' && f.get(addressesFact, {}).includes(vip),
        haproxy: f.get(haproxyFact, { port: Number(session.vars(h.name).haproxy_stats_port) }),
      };
    }),
    ...(typeof vip === 'string' ? { vip } : {}),
    ...(repository
      ? {
          backups: {
            host: repository.name,
            ...(facts(repository.name)
              ? { info: facts(repository.name)?.get(stanzaFact, { stanza: session.clusterName }) }
              : {}),
          },
        }
      : {}),
    certificates: certified.map((h) => ({
      host: h.name,
      files: facts(h.name)?.get(certificatesFact, { paths: certificatePaths(session, h.name) }) ?? [],
    })),
    ...(promotedStandbys.length > 0 ? { promotedStandbys } : {}),
    settings: {
      maximumLagBytes: Number(session.setting('patroni_maximum_lag_on_failover') ?? 1048576),
      durability: durabilityOf(session.setting('patroni_durability')),
      watchdog: watchdogModeOf(session.setting('patroni_watchdog_mode')),
    },
  };
}

/** For commands that act on members: they judge replication and leadership, not certificates or backups. */
export const MEMBERS_ONLY: Thresholds = { certificateWarnMs: 0, backupMaxAgeMs: Number.POSITIVE_INFINITY };

/** The cluster read and judged, as a day-2 command that acts on its members needs it. */
export async function readAssessment(session: Session): Promise<Assessment> {
  return assess(await readCluster(session), MEMBERS_ONLY);
}

/**
 * What is wrong with the members alone (leadership, replication, timelines), read in one round trip per member:
 * for `apply`, which names a diverged or stopped member after converging the hosts instead of leaving it to
 * `status`.
 */
export async function memberProblems(session: Session): Promise<Problem[]> {
  const members = new Set(session.group('postgres_cluster').map((h) => h.name));
  const a = assess(await readCluster(session, 'members'), MEMBERS_ONLY, session.inventory.file);
  return a.problems.filter((p) => members.has(p.subject) || p.subject === 'cluster');
}

function etcdTls(address: string, v: Record<string, unknown>, dir: string, host: string) {
  return {
    url: `https://${address}:${String(v.etcd_client_port)}`,
    cacert: `${dir}/ca.crt`,
    cert: `${dir}/${host}.crt`,
    key: `${dir}/${host}.key`,
  };
}

/** The inventory's patroni_durability; anything else is async, the mode that promises least. */
function durabilityOf(value: unknown): Durability {
  return value === 'sync' || value === 'strict' ? value : 'async';
}

/** The inventory's patroni_watchdog_mode (the schema allows these three only). */
function watchdogModeOf(value: unknown): WatchdogMode {
  return value === 'off' || value === 'required' ? value : 'automatic';
}

/** Every copy of the host's certificate and of the CA that pgprov places (each service keeps its own). */
export function certificatePaths(session: Session, host: string): string[] {
  const v = session.vars(host);
  const dirs = [
    'pgprov_tls_dir',
    'etcd_pki_dir',
    'patroni_pki_dir',
    'pgbackrest_pki_dir',
    'pgbouncer_pki_dir',
    'haproxy_pki_dir',
  ]
    .map((name) => v[name])
    .filter((d): d is string => typeof d === 'string');
  return [...new Set(dirs)].flatMap((d) => [`${d}/${host}.crt`, `${d}/ca.crt`]);
}

const patroniCommand = (command: string | undefined) => (command ? { patroniCommand: command } : {});
