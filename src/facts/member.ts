import { sh } from '../core/command.js';
import { type Member, parseCluster } from '../cluster/member.js';
import { defineFact } from './fact.js';

/** One member as its own Patroni reports it (`GET /patroni`). */
export type MemberReport =
  | {
      answered: true;
      /** running, starting, stopped, crashed, creating replica, ... */
      state: string;
      /** Patroni's own word: master/primary, replica, standby_leader. */
      role: string;
      timeline?: number;
      systemId?: string;
      patroniVersion?: string;
      pendingRestart: boolean;
      /** On the leader: who streams from it, and how (async, sync, quorum). */
      replication: { name: string; state: string; sync: string }[];
    }
  | { answered: false; why: string };

/**
 * Read from the member's own REST API, verifying its certificate. A stopped Patroni, or one that does not answer
 * in 3 s, is a result with the reason, not an error.
 */
export const memberFact = defineFact<{ url: string; cacert: string }, MemberReport>({
  name: 'patroni-member',
  key: ({ url, cacert }) => `${url} ${cacert}`,
  command: ({ url, cacert }) =>
    sh`curl -sS --max-time 3 --cacert ${cacert} -w '\n%{http_code}\n' ${`${url}/patroni`} 2>&1`,
  parse: ({ stdout, code }, { url }) => {
    const lines = stdout.trim().split('\n');
    const status = Number(lines.pop());
    const body = lines.join('\n');
    if (code !== 0) {
      const why = lines.find((l) => l.startsWith('curl:')) ?? `curl exited ${code}`;
      return { answered: false, why: `${url}: ${why.replace(/^curl: \(\d+\) /, '')}` };
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return { answered: false, why: `GET ${url}/patroni answered ${status} with what is not JSON` };
    }
    // 503 is a member that is not running PostgreSQL: the body still says why.
    const replication = Array.isArray(json.replication)
      ? (json.replication as Record<string, unknown>[])
      : [];
    const patroni = (json.patroni ?? {}) as Record<string, unknown>;
    return {
      answered: true,
      state: String(json.state ?? 'unknown'),
      role: String(json.role ?? 'unknown'),
      ...(typeof json.timeline === 'number' ? { timeline: json.timeline } : {}),
      ...(json.database_system_identifier ? { systemId: String(json.database_system_identifier) } : {}),
      ...(patroni.version ? { patroniVersion: String(patroni.version) } : {}),
      pendingRestart: json.pending_restart === true,
      replication: replication.map((r) => ({
        name: String(r.application_name ?? ''),
        state: String(r.state ?? ''),
        sync: String(r.sync_state ?? ''),
      })),
    };
  },
});

/** PostgreSQL's own view of its recovery: what Patroni's "running" does not say. */
export type ServerReport =
  | {
      answered: true;
      inRecovery: boolean;
      /** A replica's WAL receiver: streaming, or absent (not receiving: restore_command only, or broken). */
      receiver?: {
        status: string;
        timeline: number;
        /** Where it streams from, `host:port` (a standby cluster's leader: its primary's VIP). */
        sender?: string;
        /** WAL the sender had written by its last message that this member has not replayed yet, in bytes. */
        behindSenderBytes?: number;
        /** Seconds since the last message from the sender. */
        silentSeconds?: number;
      };
      /** Bytes received but not replayed yet, on a replica. */
      replayLagBytes?: number;
    }
  | { answered: false; why: string };

// latest_end_lsn is the sender's WAL end as its last message reported it: behind it = how far this member
// trails its sender, without asking the sender.
const QUERY = [
  'select pg_is_in_recovery()',
  "coalesce((select status from pg_stat_wal_receiver), '')",
  'coalesce((select received_tli from pg_stat_wal_receiver), 0)',
  'coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)',
  "coalesce((select sender_host || ':' || sender_port from pg_stat_wal_receiver), '')",
  "coalesce((select pg_wal_lsn_diff(latest_end_lsn, pg_last_wal_replay_lsn())::text from pg_stat_wal_receiver), '')",
  "coalesce((select extract(epoch from now() - last_msg_receipt_time)::text from pg_stat_wal_receiver), '')",
].join(', ');

/** Asked over the local socket as the postgres user (peer authentication): no password involved. */
export const serverFact = defineFact<{ port: number }, ServerReport>({
  name: 'postgres-server',
  key: ({ port }) => String(port),
  command: ({ port }) =>
    sh`runuser -u postgres -- psql -XAtq -F '|' -p ${port} -h /var/run/postgresql -d postgres -c ${QUERY} 2>&1`,
  parse: ({ stdout, code }) => {
    const out = stdout.trim();
    if (code !== 0) {
      const line = out.split('\n').at(-1) ?? '';
      return {
        answered: false,
        why: `PostgreSQL does not answer: ${line.replace(/^psql: (error: )?/, '') || `psql exited ${code}`}`,
      };
    }
    const [recovery = '', status = '', tli = '0', lag = '0', sender = '', behind = '', silent = ''] =
      out.split('|');
    const inRecovery = recovery === 't';
    const receiver = {
      status,
      timeline: Number(tli),
      ...(sender ? { sender } : {}),
      ...(behind ? { behindSenderBytes: Math.max(0, Number(behind)) } : {}),
      ...(silent ? { silentSeconds: Math.max(0, Number(silent)) } : {}),
    };
    return {
      answered: true,
      inRecovery,
      ...(status ? { receiver } : {}),
      ...(inRecovery ? { replayLagBytes: Number(lag) } : {}),
    };
  },
});

/**
 * Every member as one member's Patroni sees them (`GET /cluster`), with replication lag. Unlike patroniFact
 * (apply's), it does not wait for a Patroni that was just started: status reads what is there now.
 */
export const clusterViewFact = defineFact<
  { url: string; cacert: string; cluster: string },
  { answered: true; members: Member[] } | { answered: false; why: string }
>({
  name: 'patroni-cluster-view',
  key: ({ url, cacert }) => `${url} ${cacert}`,
  command: ({ url, cacert }) => sh`curl -sS --fail --max-time 3 --cacert ${cacert} ${`${url}/cluster`} 2>&1`,
  parse: ({ stdout, code }, { url, cluster }) => {
    if (code !== 0)
      return { answered: false, why: `GET ${url}/cluster: ${stdout.trim().split('\n').at(-1) ?? ''}` };
    try {
      return { answered: true, members: parseCluster(stdout, cluster) };
    } catch (error) {
      return { answered: false, why: `GET ${url}/cluster: ${(error as Error).message}` };
    }
  },
});
