/** Bodies of Patroni's REST API recorded on the lab (Patroni 3.0.2, synchronous mode on). */

/** GET /cluster */
export const CLUSTER_BODY =
  '{"members": [{"name": "pg1", "role": "leader", "state": "running", "api_url": "https://10.231.0.11:8008/patroni", "host": "10.231.0.11", "port": 5432, "timeline": 2}, {"name": "pg2", "role": "replica", "state": "running", "api_url": "https://10.231.0.12:8008/patroni", "host": "10.231.0.12", "port": 5432, "timeline": 2, "lag": 0}, {"name": "pg3", "role": "sync_standby", "state": "running", "api_url": "https://10.231.0.13:8008/patroni", "host": "10.231.0.13", "port": 5432, "timeline": 2, "lag": 0}]}';

/** GET /config */
export const CONFIG_BODY =
  '{"ttl": 30, "loop_wait": 10, "retry_timeout": 10, "maximum_lag_on_failover": 1048576, "synchronous_mode": true, "postgresql": {"use_pg_rewind": true, "use_slots": true, "parameters": {"wal_level": "replica", "hot_standby": "on", "wal_log_hints": "on", "max_connections": 100, "max_wal_senders": 10, "max_replication_slots": 10, "wal_keep_size": "256MB", "max_worker_processes": 8}}}';

/** The /cluster body with members changed (pending restart, state, lag...), for cases the lab showed less often. */
export function clusterBody(change: Record<string, Record<string, unknown>> = {}): string {
  const body = JSON.parse(CLUSTER_BODY) as { members: Record<string, unknown>[] };
  return JSON.stringify({
    members: body.members.map((m) => ({ ...m, ...(change[m.name as string] ?? {}) })),
  });
}

/** What patroniFact's command prints: each body followed by curl's %{http_code} line, split by a marker. */
export const factOutput = (cluster = CLUSTER_BODY, config = CONFIG_BODY, status = 200, configStatus = 200) =>
  `${cluster}\n${status}\n--- pgprov: config ---\n${config}\n${configStatus}\n`;
