import type pg from 'pg';
import { until } from '../core/until.js';
import { sh } from '../core/command.js';
import { connectHost } from '../engine/run.js';
import type { Inventory } from '../inventory/model.js';
import { Session } from '../operate/session.js';

/** A Patroni member as `patronictl list -f json` prints it. */
export interface ListedMember {
  Member: string;
  Role: string;
  State: string;
  TL?: number;
}

/** A member as PostgreSQL sees itself (not Patroni's "running"): primary or standby, timeline, WAL receiver. */
export interface PostgresView {
  member: string;
  /** `leader`, `replica`, or `down` when PostgreSQL did not answer. */
  role: string;
  timeline: number | undefined;
  /** pg_stat_wal_receiver's status (`streaming`), `-` on a primary. */
  receiver: string;
}

/** One member in `etcdctl endpoint status -w json` (ids are uint64: equal ids parse to equal numbers). */
interface EndpointStatus {
  Endpoint: string;
  Status: { header: { member_id: number }; leader: number };
}

/**
 * What a drill needs from a cluster pgprov deployed: connections through its VIP with the generated passwords
 * and the cluster CA, and commands on its hosts over SSH. Reads the inventory's state folder; prints nothing.
 */
export class DrillCluster {
  #session: Promise<Session> | undefined;

  constructor(readonly inventory: Inventory) {}

  /** A client through the virtual IP with the cluster's stored passwords and CA (see Session.client). */
  async connect(
    port: number,
    user: 'app' | 'admin' = 'app',
    timeouts: { connectMs?: number; queryMs?: number } = {},
  ): Promise<pg.Client> {
    this.#session ??= Session.open(this.inventory.file);
    return (await this.#session).client(port, user, timeouts);
  }

  /** A new, empty table for a drill writer's numbered rows, made by the admin role once the VIP takes writes. */
  async writesTable(table: string): Promise<void> {
    const admin = await until(
      'the VIP to accept writes',
      () => this.connect(5000, 'admin'),
      () => true,
    );
    try {
      await admin.query(`DROP TABLE IF EXISTS ${table}`);
      await admin.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY)`);
    } finally {
      await admin.end();
    }
  }

  /** The ids a drill writer's table holds, read back through the VIP by the admin role. */
  async presentIds(table: string): Promise<number[]> {
    const reader = await this.connect(5000, 'admin');
    try {
      const { rows } = await reader.query<{ id: string }>(`SELECT id FROM ${table}`);
      return rows.map((r) => Number(r.id));
    } finally {
      await reader.end();
    }
  }

  /** Runs a shell script on a host (as the inventory's user; use sudo inside), returns its stdout. */
  onHost(host: string, script: string): Promise<string> {
    return runOnHost(this.inventory, host, script);
  }

  /** A member as PostgreSQL sees itself. */
  async postgresView(member: string): Promise<PostgresView> {
    // A leader's timeline is its current WAL file's; a replica's, the one its WAL receiver follows.
    const sql =
      "SELECT CASE WHEN pg_is_in_recovery() THEN 'replica' ELSE 'leader' END, " +
      'CASE WHEN pg_is_in_recovery() THEN (SELECT received_tli FROM pg_stat_wal_receiver) ' +
      "ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END, " +
      "coalesce((SELECT status FROM pg_stat_wal_receiver), '-')";
    const out = await this.onHost(member, `sudo -u postgres psql -XAtF' ' -c ${JSON.stringify(sql)}`).catch(
      () => 'down',
    );
    const [role = 'down', timeline, receiver = '-'] = out.trim().split(' ');
    return { member, role, timeline: Number(timeline) || undefined, receiver };
  }

  /** The host whose etcd member leads the raft group, read on the first etcd host that answers (or none). */
  async etcdLeader(): Promise<string | undefined> {
    const hosts = this.inventory.hosts.filter((h) => h.groups.includes('etcd_cluster'));
    // The operators' etcdctl environment the etcd role installs.
    const status =
      'sudo sh -c ". /etc/profile.d/pgprov-etcdctl.sh; etcdctl endpoint status --cluster -w json"';
    for (const host of hosts) {
      const out = await this.onHost(host.name, status).catch(() => '');
      if (!out.trim()) continue;
      const endpoints = JSON.parse(out) as EndpointStatus[];
      const url = endpoints.find((e) => e.Status.header.member_id === e.Status.leader)?.Endpoint;
      if (url === undefined) continue;
      return hosts.find((h) => new URL(url).hostname === h.connection.address)?.name;
    }
    return undefined;
  }

  /** `patronictl list` read on one host. */
  async members(host: string): Promise<ListedMember[]> {
    const out = await this.onHost(host, 'sudo patronictl -c /etc/patroni/config.yml list -f json');
    return (JSON.parse(out) as ListedMember[]).sort((a, b) => a.Member.localeCompare(b.Member));
  }
}

/** Runs a shell script on an inventory host over pgprov's own transport; throws with its stderr if it fails. */
export async function runOnHost(inventory: Inventory, host: string, script: string): Promise<string> {
  const h = inventory.hosts.find((x) => x.name === host);
  if (!h) throw new Error(`no host ${host} in ${inventory.file}`);
  const t = await connectHost(h, inventory);
  try {
    const r = await t.exec(sh`sh -c ${script}`);
    if (r.code !== 0) throw new Error(`${host}: '${script}' exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  } finally {
    await t.close();
  }
}
