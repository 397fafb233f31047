import pg from 'pg';
import type { Command } from '../core/command.js';
import { RemoteCommandError, tail, UsageError } from '../core/errors.js';
import { Masker, Secret } from '../core/secret.js';
import { hostVars, roleDefaults } from '../engine/plan.js';
import { hostPlatforms } from '../engine/platform.js';
import { connectHost, roleSecrets } from '../engine/run.js';
import { endRun, lockCommand, newHolder, releaseLock, settleLock, startRun } from '../engine/lock.js';
import { type FactRequest, GatheredFacts } from '../facts/fact.js';
import { buildProbe, parseProbe } from '../facts/probe.js';
import { loadInventory } from '../inventory/load.js';
import { withoutHosts } from '../inventory/without.js';
import type { Inventory, InventoryHost, Vars } from '../inventory/model.js';
import { knownCas, rotationFiles } from '../pki/rotation.js';
import { loadProject } from '../roles/load.js';
import { resolveVarReferences } from '../roles/render.js';
import { loadUpstream } from '../standby/upstream.js';
import type { ExecOptions, ExecResult, Transport } from '../transport/transport.js';

export interface SessionOptions {
  extraVars?: Vars;
  secretsFile?: string;
  /** How long to wait for a host's SSH before counting it unreachable (default 5 s: a day-2 command reads state). */
  connectTimeoutMs?: number;
  /** Hosts to leave out, as if the inventory did not list them. */
  without?: string[];
}

/**
 * Asks the user to confirm a plan that discards data: shows the lines, then wants `word` (a cluster or host name)
 * typed back. Throws a SafetyError when not confirmed: the command then has changed nothing.
 */
export type Confirm = (plan: readonly string[], word: string) => Promise<void>;

/** What a read of one host gave: its facts, or why it could not be read. */
export type HostRead = { reachable: true; facts: GatheredFacts } | { reachable: false; why: string };

/**
 * A day-2 command's hold on a cluster pgprov deployed: the inventory with every host's variables resolved as
 * `apply` resolves them (role defaults, inventory, secrets, -e), one SSH connection per host opened on first
 * use, and the cluster's clients through its virtual IP. Reads the secrets pgprov stored; never makes new ones.
 */
export class Session {
  readonly masker = new Masker();
  readonly #transports = new Map<string, Promise<Transport>>();
  readonly #locked: Transport[] = [];
  readonly #holder = newHolder();

  private constructor(
    readonly inventory: Inventory,
    private readonly hostVars: ReadonlyMap<string, Vars>,
    private readonly connectTimeoutMs: number,
  ) {}

  get clusterName(): string {
    return String(this.setting('cluster_name') ?? 'pgprov');
  }

  static async open(inventoryFile: string, options: SessionOptions = {}): Promise<Session> {
    const extraVars = options.extraVars ?? {};
    const loaded = await loadInventory(inventoryFile, { extraVars });
    const inventory = options.without?.length ? withoutHosts(loaded, options.without) : loaded;
    const project = await loadProject();
    const upstream = await loadUpstream(inventory);
    const { secrets } = await roleSecrets(project, inventory, options.secretsFile, false, upstream);
    const vars = new Map<string, Vars>();
    const session = new Session(inventory, vars, options.connectTimeoutMs ?? 5_000);
    // The releases apply recorded; a host it never reached is read now (the only read before the command's own).
    const platforms = await hostPlatforms({
      project,
      hosts: inventory.hosts,
      open: (host) => session.transport(host.name),
      stateDir: inventory.stateDir,
      forks: 10,
      refresh: false,
    });
    for (const h of inventory.hosts) {
      const platform = platforms.get(h.name);
      const defaults = roleDefaults(project, platform);
      const resolved = resolveVarReferences(
        hostVars(inventory, h, { defaults, extraVars, secrets, ...(platform ? { platform } : {}) }),
      );
      vars.set(h.name, resolved);
      session.masker.collect(resolved);
    }
    return session;
  }

  /** A host of the inventory by name; a usage error naming the known ones otherwise. */
  host(name: string): InventoryHost {
    const host = this.inventory.hosts.find((h) => h.name === name);
    if (!host) {
      throw new UsageError(`${name} is not a host of ${this.inventory.file}`, {
        hint: `hosts: ${this.inventory.hosts.map((h) => h.name).join(', ')}`,
      });
    }
    return host;
  }

  /** The hosts of a group, in inventory order (none when the inventory lacks the group). */
  group(name: string): InventoryHost[] {
    const names = new Set(this.inventory.groups[name] ?? []);
    return this.inventory.hosts.filter((h) => names.has(h.name));
  }

  /** A host's variables, as the roles see them. */
  vars(host: string): Vars {
    const vars = this.hostVars.get(host);
    if (!vars) throw new Error(`internal: no variables for host ${host}`);
    return vars;
  }

  /** The first host's value of a variable: for cluster-wide settings. */
  setting(name: string): unknown {
    return this.vars(this.inventory.hosts[0]?.name ?? '')[name];
  }

  transport(host: string): Promise<Transport> {
    let t = this.#transports.get(host);
    if (!t) {
      t = connectHost(this.host(host), this.inventory, this.connectTimeoutMs);
      // A failed connection is not cached: the next call tries again (a host that was just started).
      t.catch(() => this.#transports.delete(host));
      this.#transports.set(host, t);
    }
    return t;
  }

  /** Reads facts from a host in one round trip; an unreachable host is a result, not an error. */
  async read(host: string, requests: readonly FactRequest[]): Promise<HostRead> {
    let transport: Transport;
    try {
      transport = await this.transport(host);
    } catch (error) {
      return { reachable: false, why: this.masker.mask((error as Error).message) };
    }
    const probe = buildProbe(requests);
    try {
      const result = await transport.exec(probe.command, { timeoutMs: 30_000 });
      return { reachable: true, facts: new GatheredFacts(parseProbe(probe, result.stdout)) };
    } catch (error) {
      this.#transports.delete(host);
      return { reachable: false, why: this.masker.mask((error as Error).message) };
    }
  }

  /** Runs a command on a host; a non-zero exit throws with the tail of its output (secrets masked). */
  async run(host: string, command: Command, step: string, options: ExecOptions = {}): Promise<ExecResult> {
    const transport = await this.transport(host);
    const result = await transport.exec(command, options);
    if (result.code !== 0) {
      throw new RemoteCommandError(
        host,
        step,
        result.code,
        this.masker.mask(tail(`${result.stdout}\n${result.stderr}`.trim())),
        { step },
      );
    }
    return result;
  }

  /**
   * Takes the apply lock of these hosts (the one `pgprov apply` takes), so that no apply or other day-2 command
   * changes them meanwhile. Released by close().
   */
  async lock(hosts: readonly string[]): Promise<void> {
    startRun(this.#holder);
    for (const host of hosts) {
      const transport = await this.transport(host);
      const first = (await transport.exec(lockCommand(this.#holder))).stdout.split('\n')[0] ?? '';
      await settleLock(transport, this.#holder, first);
      this.#locked.push(transport);
    }
  }

  /** A client of the cluster through its virtual IP, as one of the roles the inventory declares. */
  async client(
    port: number,
    user: 'app' | 'admin' = 'app',
    timeouts: { connectMs?: number; queryMs?: number } = {},
  ): Promise<pg.Client> {
    const vip = this.setting('cluster_vip');
    if (typeof vip !== 'string') {
      throw new UsageError('the inventory sets no cluster_vip: clients have no address to connect to');
    }
    const password = this.setting(`${user}_password`);
    const client = new pg.Client({
      host: vip,
      port,
      user: String(this.setting(`postgresql_${user}_username`) ?? user),
      database: String(this.setting('postgresql_app_database') ?? 'app'),
      ...(password === undefined
        ? {}
        : { password: password instanceof Secret ? password.reveal() : String(password) }),
      // Read at every connection: during a CA rotation the cluster's certificates change issuer mid-session.
      ssl: { ca: await knownCas(rotationFiles(this.inventory.stateDir)) },
      connectionTimeoutMillis: timeouts.connectMs ?? 5_000,
      ...(timeouts.queryMs ? { query_timeout: timeouts.queryMs } : {}),
    });
    // A connection the server drops (a switchover, a failover) must not end the process.
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  async close(): Promise<void> {
    await Promise.all(this.#locked.map((t) => releaseLock(t, this.#holder).catch(() => undefined)));
    endRun(this.#holder);
    const transports = await Promise.allSettled(this.#transports.values());
    await Promise.all(
      transports.map((t) => (t.status === 'fulfilled' ? t.value.close().catch(() => undefined) : undefined)),
    );
    this.#transports.clear();
  }
}
