import { EnvironmentError, InputError, type InputIssue, UsageError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import { Secret } from '../core/secret.js';
import type { Project } from '../roles/model.js';
import { resolveSecrets } from '../secrets/store.js';
import { loadInventory } from '../inventory/load.js';
import { withoutHosts } from '../inventory/without.js';
import type { Inventory, InventoryHost, Vars } from '../inventory/model.js';
import { acceptableTrustFiles, trustBundle } from '../pki/rotation.js';
import { ensurePki } from '../pki/store.js';
import { loadAssets } from '../roles/assets.js';
import { loadProject } from '../roles/load.js';
import { connect } from '../transport/ssh.js';
import type { Transport } from '../transport/transport.js';
import { type ApplyResult, applyPlan } from './apply.js';
import { checkSelection, type RunPlan, planRun } from './plan.js';
import { hostPlatforms } from './platform.js';
import {
  inheritedSecrets,
  loadUpstream,
  STANDBY_OF,
  type Upstream,
  upstreamVars,
} from '../standby/upstream.js';
import { readPromotions } from '../standby/promotion.js';
import {
  registerStandby,
  registeredStandbys,
  repositoryVars,
  standbyClientName,
  upstreamRepository,
} from '../standby/repository.js';

export interface ApplyRequest {
  inventoryFile: string;
  tags?: string[];
  skipTags?: string[];
  limit?: string[];
  extraVars?: Vars;
  check: boolean;
  diff: boolean;
  forks?: number;
  sink: EventSink;
  signal?: AbortSignal;
  /** A YAML file of secrets (name: value), e.g. written by a vault agent. */
  secretsFile?: string;
  /** Replaces the SSH transport (benchmarks count round trips through it). */
  connect?: (host: InventoryHost, inventory: Inventory) => Promise<Transport>;
  now?: Date;
  /** Hosts to leave out, as if the inventory did not list them (`pgprov remove` converges the others). */
  without?: string[];
  /**
   * Certificates to reissue beyond the inventory's renewal policy (`pgprov certs`); `rotation`: this apply is a
   * step of `pgprov certs --rotate-ca`, which says so itself (no warning that a rotation is under way).
   */
  renew?: { withinDays?: number; all?: boolean; rotation?: boolean };
}

/** Opens each host's connection once for the whole run: reading its release, then applying. */
type Connections = (host: InventoryHost, inventory: Inventory) => Promise<Transport>;

/**
 * load -> validate -> PKI -> each host's release -> plan (pure) -> apply. The only place that wires the real
 * world to the engine.
 */
export async function prepareRun(
  request: ApplyRequest,
  open: Connections,
): Promise<{ inventory: Inventory; plan: RunPlan }> {
  const loaded = await loadInventory(request.inventoryFile, { extraVars: request.extraVars ?? {} });
  const inventory = request.without?.length ? withoutHosts(loaded, request.without) : loaded;
  const project = await loadProject();
  const assets = await loadAssets(project);
  const selection = {
    ...(request.tags ? { tags: request.tags } : {}),
    ...(request.skipTags ? { skipTags: request.skipTags } : {}),
    ...(request.limit ? { limit: request.limit } : {}),
    ...(request.extraVars ? { extraVars: request.extraVars } : {}),
  };
  // Usage mistakes stop the run before anything is written, locally or on a host.
  const selected = checkSelection(project, inventory, selection);
  const clusterName = String(inventory.hosts[0]?.vars.cluster_name ?? 'pgprov');
  const setting = (name: string, fallback: unknown): unknown =>
    request.extraVars?.[name] ??
    inventory.hosts[0]?.vars[name] ??
    project.roles.get('certificates')?.defaults[name] ??
    fallback;
  const pki = await ensurePki({
    leafValidityDays: days(setting('pgprov_certificate_days', 365), 'pgprov_certificate_days'),
    renewWithinDays: Math.max(
      days(setting('pgprov_certificate_renew_days', 30), 'pgprov_certificate_renew_days'),
      request.renew?.withinDays ?? 0,
    ),
    ...(request.renew?.all ? { renewAll: true } : {}),
    ...(request.renew?.rotation ? { rotating: true } : {}),
    stateDir: inventory.stateDir,
    clusterName,
    // Clients reach PostgreSQL through the virtual IP too, so it is a name of every host's certificate.
    hosts: inventory.hosts.map((h) => ({
      name: h.name,
      address: h.connection.address,
      ...(typeof h.vars.cluster_vip === 'string' ? { extraNames: [h.vars.cluster_vip] } : {}),
    })),
    now: request.now ?? new Date(),
  });
  for (const message of pki.changes) request.sink({ type: 'log', level: 'info', message: `pki: ${message}` });
  for (const message of pki.warnings)
    request.sink({ type: 'log', level: 'warn', message: `pki: ${message}` });
  const upstream = await loadUpstream(inventory);
  const secrets = await roleSecrets(project, inventory, request.secretsFile, true, upstream);
  const standbyVars = upstream
    ? await upstreamRepositoryVars(request, project, inventory, upstream, clusterName)
    : {};
  const standbys = await registeredStandbys(inventory.stateDir);
  for (const name of secrets.generated) {
    request.sink({
      type: 'log',
      level: 'info',
      message: `secrets: generated ${name} (stored in ${inventory.stateDir}/secrets.yaml)`,
    });
  }
  const platforms = await hostPlatforms({
    project,
    hosts: inventory.hosts.filter((h) => selected.has(h.name)),
    open: (host) => open(host, inventory),
    stateDir: inventory.stateDir,
    forks: request.forks ?? 10,
    refresh: true,
  });
  const plan = planRun(
    {
      inventory,
      project,
      platforms,
      secrets: secrets.secrets,
      derived: {
        ...upstreamVars(upstream, trustBundle(pki.trust)),
        ...standbyVars,
        // The standby clusters recorded here read WAL from this cluster's repository host.
        pgbackrest_standby_clients: standbys.map((s) => s.client),
      },
      ...assets,
      tls: (host) => {
        const leaf = pki.hosts[host];
        if (!leaf) throw new Error(`no certificate for ${host}`);
        return {
          caPem: trustBundle(pki.trust),
          certPem: leaf.certPem,
          keyPem: leaf.keyPem,
          acceptedCaPems: acceptableTrustFiles(pki.known),
        };
      },
    },
    selection,
  );
  plan.masker.add(pki.ca.keyPem, ...Object.values(pki.hosts).map((h) => h.keyPem));
  return { inventory, plan };
}

/**
 * A standby cluster reads WAL from its primary's repository host when streaming breaks: a client certificate from
 * the primary's CA (kept in the primary's state folder, renewed like a host's), and a record there that makes
 * the primary's next apply accept it. `--check` records nothing.
 */
async function upstreamRepositoryVars(
  request: ApplyRequest,
  project: Project,
  inventory: Inventory,
  upstream: Upstream,
  clusterName: string,
): Promise<Vars> {
  const log = (level: 'info' | 'warn', message: string) =>
    request.sink({ type: 'log', level, message: `standby: ${message}` });
  const primaryInventory = upstream.inventory;
  if (!primaryInventory) {
    log('info', `a remote primary (${upstream.host}:${upstream.port}): WAL by streaming only`);
    return {};
  }
  const found = upstreamRepository(primaryInventory, project.roles.get('pgbackrest')?.defaults ?? {});
  if ('reason' in found) {
    log('warn', `no WAL from the primary's repository when streaming breaks: ${found.reason}`);
    return {};
  }
  const name = standbyClientName(clusterName);
  const pki = await ensurePki({
    stateDir: primaryInventory.stateDir,
    clusterName: upstream.clusterName,
    hosts: [{ name, address: '127.0.0.1' }],
    now: request.now ?? new Date(),
    renewWithinDays: 30,
  });
  for (const message of pki.changes) log('info', `primary's pki: ${message}`);
  const client = pki.hosts[name];
  if (!client) throw new Error(`internal: no certificate for ${name}`);
  // A promoted standby reads no more WAL from it: its record goes with `pgprov promote`, and stays gone.
  const promoted = (await readPromotions(primaryInventory.stateDir)).some((p) => p.cluster === clusterName);
  if (!request.check && !promoted) {
    const registration = { cluster: clusterName, inventory: inventory.file, client: name };
    if (await registerStandby(primaryInventory.stateDir, registration)) {
      log(
        'info',
        `recorded in ${primaryInventory.stateDir}/standbys/: apply the primary ` +
          `(\`pgprov apply ${primaryInventory.file} --tags pgbackrest\`) so that its repository host ` +
          `${found.repository.host} lets this cluster read WAL`,
      );
    }
  }
  const primary = await roleSecrets(project, primaryInventory, undefined, false);
  const cipherPass = primary.secrets.pgbackrest_cipher_pass;
  if (found.repository.cipherType !== 'none' && !cipherPass) {
    throw new EnvironmentError(
      "the primary's repository passphrase (pgbackrest_cipher_pass) is not known here",
      {
        hint:
          `the standby decrypts the WAL it reads from ${found.repository.host}: apply it from the machine that ` +
          `applied the primary (its ${primaryInventory.stateDir}/secrets.yaml), or set PGPROV_SECRET_PGBACKREST_CIPHER_PASS`,
      },
    );
  }
  return repositoryVars(found.repository, { name, ...client }, cipherPass);
}

function days(value: unknown, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    throw new UsageError(`${name} must be a number of days, got '${String(value)}'`);
  }
  return n;
}

/**
 * Resolves every secret the roles declare: the inventory's value, else PGPROV_SECRET_<NAME>, else the secrets
 * file, else the stored one, else a new one (stored 0600 beside the PKI). Secrets are cluster-wide, so the
 * inventory value is taken from the hosts' vars and must be the same on every host.
 */
export async function roleSecrets(
  project: Project,
  inventory: Inventory,
  file: string | undefined,
  generate = true,
  upstream?: Upstream,
) {
  const declared = [...project.roles.values()].flatMap((r) => r.secrets);
  const inventoryValues: Record<string, string | Secret | undefined> = {};
  const inDatabase = declared.filter((d) => d.in_database).map((d) => d.name);
  if (upstream?.inventory) {
    // A standby cluster: the roles inside PostgreSQL are its primary's, passwords included.
    const primary = await roleSecrets(project, upstream.inventory, undefined, false);
    Object.assign(inventoryValues, inheritedSecrets(inventory, inDatabase, primary.secrets));
  }
  const issues: InputIssue[] = [];
  for (const { name } of declared) {
    const values = new Set(inventory.hosts.map((h) => h.vars[name]).filter((v) => v !== undefined));
    if (values.size > 1) {
      issues.push({
        ...inventory.locate(['all']),
        message: `${name} has different values on different hosts`,
        hint: `a secret is cluster-wide: set ${name} once, in the vars of 'all'`,
      });
    }
    const [value] = values;
    if (value !== undefined && !(name in inventoryValues))
      inventoryValues[name] = value instanceof Secret ? value : String(value);
  }
  if (issues.length > 0) throw new InputError('the inventory gives conflicting secrets', issues);
  if (upstream && !upstream.inventory && generate) {
    // A remote primary's passwords are not here to take: new ones would lock Patroni out of its own copy.
    await resolveSecrets({
      stateDir: inventory.stateDir,
      names: inDatabase,
      inventoryValues,
      env: process.env,
      ...(file ? { file } : {}),
      generate: false,
    }).catch((error: unknown) => {
      if (!(error instanceof EnvironmentError)) throw error;
      throw new InputError("the remote primary's passwords are not given", [
        {
          ...inventory.locate(['all', 'vars', STANDBY_OF]),
          message: `a standby's roles inside PostgreSQL are its primary's, passwords included: ${error.message}`,
          hint: "give the primary's values in the inventory (encrypted), a --secrets-file, or PGPROV_SECRET_<NAME>",
        },
      ]);
    });
  }
  return resolveSecrets({
    stateDir: inventory.stateDir,
    names: declared.map((d) => d.name),
    inventoryValues,
    env: process.env,
    ...(file ? { file } : {}),
    generate,
  });
}

export async function runApply(request: ApplyRequest): Promise<ApplyResult> {
  const connections = new Map<string, Promise<Transport>>();
  const open: Connections = (host, inventory) => {
    let transport = connections.get(host.name);
    if (!transport) {
      transport = request.connect ? request.connect(host, inventory) : connectHost(host, inventory);
      transport.catch(() => undefined); // reported by applyPlan, which connects through here again
      connections.set(host.name, transport);
    }
    return transport;
  };
  try {
    const { inventory, plan } = await prepareRun(request, open);
    return await applyPlan(plan, {
      check: request.check,
      diff: request.diff,
      forks: request.forks ?? 10,
      sink: request.sink,
      ...(request.signal ? { signal: request.signal } : {}),
      inventoryFile: inventory.file,
      connect: (host) => open(host, inventory),
    });
  } finally {
    // applyPlan closes the connections of the hosts it planned for; these are the others (and any left open).
    for (const transport of connections.values()) {
      await transport.then((t) => t.close()).catch(() => undefined);
    }
  }
}

export function connectHost(
  host: InventoryHost,
  inventory: Inventory,
  connectTimeoutMs?: number,
): Promise<Transport> {
  const c = host.connection;
  return connect({
    ...(connectTimeoutMs ? { connectTimeoutMs } : {}),
    name: host.name,
    address: c.address,
    port: c.port,
    user: c.user,
    ...(c.privateKeyFile ? { privateKeyFile: c.privateKeyFile } : {}),
    become: c.become,
    knownHostsFile: inventory.knownHostsFile,
  });
}
