import type { Inventory, InventoryHost } from '../../src/inventory/model.js';

/** A small in-memory inventory for planning tests (the loader has its own tests). */
export function fakeInventory(vars: Record<string, unknown> = {}, count = 3): Inventory {
  const hosts: InventoryHost[] = Array.from({ length: count }, (_, i) => ({
    name: `pg${i + 1}`,
    connection: { address: `10.231.0.${11 + i}`, port: 22, user: 'vagrant', become: true },
    groups: ['all', 'balancers', 'etcd_cluster', 'postgres_cluster'],
    vars: { cluster_name: 'test', cluster_vip: '10.231.0.10', ...vars },
  }));
  const names = hosts.map((h) => h.name);
  return {
    file: '/tmp/inventory.yaml',
    stateDir: '/tmp/.pgprov/inventory',
    knownHostsFile: '/tmp/.pgprov/inventory/known_hosts',
    hosts,
    groups: { all: names, etcd_cluster: names, postgres_cluster: names, balancers: names },
    locate: (path) => ({ file: '/tmp/inventory.yaml', path: path.join('.') }),
  };
}
