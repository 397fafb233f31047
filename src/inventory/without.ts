import type { Inventory } from './model.js';

/**
 * The inventory as it will be once these hosts are taken out of it (pure): what `pgprov remove` converges the
 * rest of the cluster to before the user edits the file. Group vars and every other host stay as they are.
 */
export function withoutHosts(inventory: Inventory, names: readonly string[]): Inventory {
  const gone = new Set(names);
  return {
    ...inventory,
    hosts: inventory.hosts.filter((h) => !gone.has(h.name)),
    groups: Object.fromEntries(
      Object.entries(inventory.groups).map(([g, members]) => [g, members.filter((m) => !gone.has(m))]),
    ),
  };
}
