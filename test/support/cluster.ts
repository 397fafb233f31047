import type pg from 'pg';
import { until } from '../../src/core/until.js';
import { DrillCluster, type ListedMember } from '../../src/drill/lab.js';
import { lostWrites, startWriter, type Write, type Writer } from '../../src/drill/writer.js';
import { loadInventory } from '../../src/inventory/load.js';
import { currentInventory } from './lab.js';

let cluster: Promise<DrillCluster> | undefined;
/**
 * The cluster of the file's inventory (support/lab.ts `useInventory`) as drills see it: connections through its
 * VIP, commands on its hosts. Loaded once per file.
 */
const lab = (): Promise<DrillCluster> =>
  (cluster ??= loadInventory(currentInventory()).then((inventory) => new DrillCluster(inventory)));

/** Connects as the application (or admin) role to the lab's virtual IP, verifying the server certificate. */
export async function connectVip(
  port: number,
  user: 'app' | 'admin' = 'app',
  timeouts: { connectMs?: number; queryMs?: number } = {},
): Promise<pg.Client> {
  return (await lab()).connect(port, user, timeouts);
}

export type Member = ListedMember & { 'Lag in MB'?: number };

/** `patronictl list` as data, read on a lab host (default: the inventory's first database host). */
export async function patroniMembers(host?: string): Promise<Member[]> {
  const cluster = await lab();
  return cluster.members(host ?? cluster.inventory.groups.postgres_cluster?.[0] ?? 'pg1');
}

/** Waits until a condition holds, polling once a second; throws with the last value seen. */
export const waitFor = until;

const running = (state: string): boolean => ['running', 'streaming'].includes(state);

/** Waits for one leader and two running replicas (a drill or failover of an earlier file settled); returns them. */
export const settled = (timeoutMs?: number): Promise<Member[]> =>
  waitFor(
    'one leader and two running replicas',
    () => patroniMembers(),
    (m) =>
      m.filter((x) => x.Role === 'Leader').length === 1 &&
      m.filter((x) => x.Role !== 'Leader' && running(x.State)).length === 2,
    timeoutMs,
  );

/** Waits for one leader, a synchronous standby and every member running (synchronous mode); returns them. */
export const syncReady = (): Promise<Member[]> =>
  waitFor(
    'a leader and a synchronous standby',
    () => patroniMembers(),
    (m) =>
      m.filter((x) => x.Role === 'Leader').length === 1 &&
      m.some((x) => x.Role === 'Sync Standby' && running(x.State)) &&
      m.every((x) => running(x.State)),
  );

/** A new, empty table for a drill writer, made through the VIP by the admin role. */
export const writesTable = async (table: string): Promise<void> => (await lab()).writesTable(table);

/** A drill writer (numbered rows into `table`) through the VIP's primary port as the application role. */
export const vipWriter = (table: string): Writer =>
  startWriter(() => connectVip(5000, 'app', { connectMs: 2_000, queryMs: 5_000 }), table);

/** Acknowledged writes of a drill writer that the table, read back through the VIP, does not hold. */
export async function lostThroughVip(table: string, writes: readonly Write[]): Promise<number[]> {
  return lostWrites(writes, await (await lab()).presentIds(table));
}
