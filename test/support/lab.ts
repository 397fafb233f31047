import { join } from 'node:path';
import { collectEvents, type RunEvent } from '../../src/core/events.js';
import type { ApplyResult } from '../../src/engine/apply.js';
import { type ApplyRequest, runApply } from '../../src/engine/run.js';
import { loadInventory } from '../../src/inventory/load.js';
import { runOnHost } from '../../src/drill/lab.js';
import { labDown, labStatus, labUp } from '../../src/lab/index.js';
import { Session } from '../../src/operate/session.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const LAB_INVENTORY = join(ROOT, 'inventory', 'lab.yaml');
/**
 * The Debian release of the lab the e2e files share (`PGPROV_LAB_SUITE=trixie npm test` runs them on Debian 13);
 * trixie.test.ts brings up its own Debian 13 lab in any case.
 */
export const LAB_SUITE = process.env.PGPROV_LAB_SUITE ?? 'bookworm';

/** The main lane's hosts (test/support/order.ts): the lab's cluster, the scaling example's pg4, the standby's. */
const MAIN_HOSTS = ['pg1', 'pg2', 'pg3', 'pg4', 'pg5', 'pg6'];
const first = (n: number): string[] => Array.from({ length: n }, (_, i) => `pg${i + 1}`);

/** Lab hosts an inventory's cluster runs on, and their Debian release. */
export interface LabHosts {
  hosts: string[];
  suite: string;
}

/**
 * The inventory the helpers below act on (apply, onHost, the drill cluster, ensureStack) and the lab hosts it
 * names: inventory/lab.yaml on pg1..pg3 unless a file says otherwise (each test file runs in its own module
 * instance).
 */
let current = LAB_INVENTORY;
let currentLab: LabHosts = { hosts: first(3), suite: LAB_SUITE };
export const useInventory = (file: string, lab?: LabHosts): void => {
  current = file;
  if (lab) currentLab = lab;
};
export const currentInventory = (): string => current;

/** Bare hosts pg1..pg<hosts>: the main lane's hosts removed and booted again (new overlays, nothing installed). */
export async function freshLab(hosts = 3): Promise<void> {
  await labDown({ hosts: MAIN_HOSTS });
  await labUp({ names: first(hosts), suite: LAB_SUITE });
}

/** These hosts as they are, booted when not; a host of another release is replaced by a bare one. */
export async function ensureLab(hosts: number | string[], suite = LAB_SUITE): Promise<void> {
  const names = typeof hosts === 'number' ? first(hosts) : hosts;
  const lab = await labStatus();
  const other = lab.hosts.filter((h) => names.includes(h.name) && h.suite !== suite).map((h) => h.name);
  if (other.length) await labDown({ hosts: other });
  await labUp({ names, suite });
}

/** PostgreSQL's data directory and binaries on a lab host, as the roles resolve them for its release. */
export async function postgresPaths(host = 'pg1'): Promise<{ data: string; bin: string }> {
  const session = await Session.open(LAB_INVENTORY);
  try {
    const vars = session.vars(host);
    return { data: String(vars.postgresql_data_dir), bin: String(vars.postgresql_bin_dir) };
  } finally {
    await session.close();
  }
}

/**
 * The whole stack deployed on the lab as it is now (hosts kept when they run, booted when not) and applied with
 * these variables: cheap when it is already there, so files that build on the stack can also run alone. A lab
 * another checkout built is rebuilt from bare hosts.
 */
export async function ensureStack(extraVars: Record<string, unknown> = {}): Promise<Apply> {
  await ensureLab(currentLab.hosts, currentLab.suite);
  let run = await apply({ extraVars });
  // Another checkout (another state folder) built the lab: pgprov refuses to replace its CA. Start afresh.
  const foreign = run.events.some(
    (e) => e.type === 'host-failed' && e.error.message.includes('trusts another CA'),
  );
  if (foreign) {
    if (current === LAB_INVENTORY) await freshLab(3);
    else {
      await labDown({ hosts: currentLab.hosts });
      await ensureLab(currentLab.hosts, currentLab.suite);
    }
    run = await apply({ extraVars });
  }
  const failures = run.events.filter((e) => e.type === 'host-failed');
  if (run.failed) throw new Error(`the stack did not apply: ${JSON.stringify(failures)}`);
  return run;
}

export type Apply = ApplyResult & { events: RunEvent[] };

/** Runs `pgprov apply` in-process and keeps its events, which tests assert on. */
export async function apply(options: Partial<ApplyRequest> = {}): Promise<Apply> {
  const { sink, events } = collectEvents();
  const result = await runApply({
    inventoryFile: current,
    check: false,
    diff: false,
    sink,
    ...options,
  });
  return { ...result, events };
}

export const changedTasks = (run: Apply, host?: string): string[] =>
  run.events
    .filter((e) => e.type === 'task-result' && e.status === 'changed' && (!host || e.host === host))
    .map((e) => (e.type === 'task-result' ? `${e.host}: ${e.task}` : ''));

/** The run's slowest tasks, one line each (`12.3 s  pg1: Install etcd`), for a test to print where time went. */
export const slowestTasks = (run: Apply, count = 8): string[] =>
  run.events
    .flatMap((e) => (e.type === 'task-result' && e.durationMs !== undefined ? [e] : []))
    .sort((a, b) => (b.durationMs ?? 0) - (a.durationMs ?? 0))
    .slice(0, count)
    .map((e) => `${((e.durationMs ?? 0) / 1000).toFixed(1).padStart(6)} s  ${e.host}: ${e.task}`);

export const totalChanged = (run: Apply): number =>
  Object.values(run.recap).reduce((n, r) => n + r.changed, 0);

/** Runs a shell script on a lab host through pgprov's own transport, returning stdout. */
export async function onHost(host: string, script: string, inventoryFile = current): Promise<string> {
  return runOnHost(await loadInventory(inventoryFile), host, script);
}

/** The method Patroni says it created this replica with (its journal), or nothing. */
export const CREATED_BY =
  "sudo journalctl -u patroni --no-pager -o cat | sed -n 's/.*replica has been created using \\([a-z]*\\).*/\\1/p' | tail -n1";
