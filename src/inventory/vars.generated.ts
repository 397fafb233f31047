/*
 * Generated from schemas/inventory.schema.json ($defs/vars) by `npm run gen:types`. Do not edit by hand:
 * change the schema and run `npm run gen:types`.
 */

export type NonEmptyString = string;
export type PoolMode = 'session' | 'transaction' | 'statement';

/**
 * Variables of a group or host (and the content of group_vars/ and host_vars/ files). Only pgprov's own variables are typed; any other variable is allowed.
 */
export interface PgprovVars {
  /**
   * Address (IP or DNS name) to connect to over SSH. Same as `address`. Default: the host name.
   */
  ansible_host?: string;
  /**
   * Address (IP or DNS name) to connect to over SSH. Same as `ansible_host`. Default: the host name.
   */
  address?: string;
  /**
   * SSH port. Same as `ssh_port`. Default: 22.
   */
  ansible_port?: number;
  /**
   * SSH port. Same as `ansible_port`. Default: 22.
   */
  ssh_port?: number;
  /**
   * User to log in as. Same as `ssh_user`. Default: root.
   */
  ansible_user?: string;
  /**
   * User to log in as. Same as `ansible_user`. Default: root.
   */
  ssh_user?: string;
  /**
   * Private key for SSH; a relative path is resolved against the inventory file's folder, `~/` against the home folder. Same as `ssh_private_key_file`.
   */
  ansible_ssh_private_key_file?: string;
  /**
   * Private key for SSH; a relative path is resolved against the inventory file's folder, `~/` against the home folder. Same as `ansible_ssh_private_key_file`.
   */
  ssh_private_key_file?: string;
  /**
   * Run commands through sudo. Same as `become`. Default: true unless the user is root.
   */
  ansible_become?: boolean;
  /**
   * Run commands through sudo. Same as `ansible_become`. Default: true unless the user is root.
   */
  become?: boolean;
  /**
   * known_hosts file used to verify SSH host keys, for the whole inventory (set it under all.vars). Default: `<inventory dir>/.pgprov/<inventory name>/known_hosts`.
   */
  pgprov_known_hosts?: string;
  /**
   * What a failover may lose: `async` (up to patroni_maximum_lag_on_failover bytes of acknowledged writes), `sync` (nothing acknowledged while a synchronous standby exists; the leader goes on alone without one), `strict` (nothing acknowledged; no writes without a synchronous standby). Default: async.
   */
  patroni_durability?: 'async' | 'sync' | 'strict';
  /**
   * Patroni's watchdog: `automatic` (default; armed while leading where the host has /dev/watchdog, softdog loaded where possible), `required` (a member without a usable watchdog never leads), `off`.
   */
  patroni_watchdog_mode?: 'off' | 'automatic' | 'required';
  /**
   * Patroni's failsafe mode: with true, the leader stays writable while etcd has no quorum as long as it reaches every other member. Default: false (the leader demotes itself and writes stop until quorum returns).
   */
  patroni_failsafe_mode?: boolean;
  /**
   * Makes this a standby cluster of another site: the primary cluster's inventory file (relative to this one's folder), applied from this machine first; or, for a primary this machine does not apply, its endpoint (host, port) and the CA file of its server certificate. Its leader streams from the primary with TLS and the primary's replication role; it takes no writes until `pgprov promote`.
   */
  standby_of?:
    | NonEmptyString
    | {
        /**
         * Where the primary answers replication connections: its leader, or an endpoint that follows the leader.
         */
        host: string;
        /**
         * Default: 5432.
         */
        port?: number;
        /**
         * PEM file of the CA that signed the primary's server certificate, relative to this inventory's folder.
         */
        ca_file: string;
        /**
         * The primary's name, for messages. Default: its host.
         */
        cluster_name?: string;
      };
  /**
   * Where a standby cluster reaches its primary. Default: the primary's cluster_vip (set this when the standby site sees it by another address).
   */
  standby_upstream_host?: string;
  /**
   * The primary's HAProxy replication port as the standby site reaches it. Default: the primary's haproxy_replication_port (5002).
   */
  standby_upstream_port?: number;
  /**
   * HAProxy's port for replication connections to the leader's PostgreSQL itself (never PgBouncer): a standby cluster follows this one through it. Default: 5002.
   */
  haproxy_replication_port?: number;
  /**
   * PgBouncer on every PostgreSQL host, with HAProxy routing clients through it. Default: true; false routes HAProxy straight to PostgreSQL.
   */
  pgbouncer_enabled?: boolean;
  /**
   * Port PgBouncer listens on. Default: 6432.
   */
  pgbouncer_port?: number;
  /**
   * When a server connection returns to the pool: `transaction` (default), `session` or `statement`.
   */
  pgbouncer_pool_mode?: 'session' | 'transaction' | 'statement';
  /**
   * Server connections per database and user. Default: 20.
   */
  pgbouncer_default_pool_size?: number;
  /**
   * Client connections PgBouncer accepts in all. Default: 2000.
   */
  pgbouncer_max_client_conn?: number;
  /**
   * The databases clients reach through PgBouncer: each a name, with optional pool settings of its own. Default: the application's database.
   *
   * @minItems 1
   */
  pgbouncer_databases?: [
    {
      name: string;
      /**
       * Server connections of this database's pool.
       */
      pool_size?: number;
      /**
       * Extra server connections when clients wait.
       */
      reserve_pool?: number;
      /**
       * Server connections to this database in all.
       */
      max_db_connections?: number;
      pool_mode?: PoolMode;
    },
    ...{
      name: string;
      /**
       * Server connections of this database's pool.
       */
      pool_size?: number;
      /**
       * Extra server connections when clients wait.
       */
      reserve_pool?: number;
      /**
       * Server connections to this database in all.
       */
      max_db_connections?: number;
      pool_mode?: PoolMode;
    }[],
  ];
  /**
   * The node exporter and pgprov's textfile metrics on every host, the PostgreSQL exporter on the database hosts. Default: true.
   */
  monitoring_enabled?: boolean;
  /**
   * How long an alert's condition must hold before it fires. Default: 2m.
   */
  monitoring_alert_for?: string;
  /**
   * Replication lag (bytes of WAL) over which PostgresReplicationLag fires. Default: 16777216.
   */
  monitoring_lag_bytes?: number;
  /**
   * Age of the newest backup over which PgBackRestBackupTooOld fires. Default: 26.
   */
  monitoring_backup_max_age_hours?: number;
  /**
   * CertificateExpiringSoon fires for a certificate expiring within this many days. Default: 14.
   */
  monitoring_certificate_days?: number;
  /**
   * DiskNearlyFull fires below this share of free space. Default: 10.
   */
  monitoring_disk_free_percent?: number;
  /**
   * How often Prometheus scrapes and evaluates the rules. Default: 15s.
   */
  prometheus_scrape_interval?: string;
  /**
   * Alertmanagers (host:port) Prometheus sends alerts to. Default: none.
   */
  prometheus_alertmanagers?: string[];
  /**
   * Name of the cluster (Patroni scope; also used in etcd keys and file names).
   */
  cluster_name?: string;
  [k: string]: unknown;
}
