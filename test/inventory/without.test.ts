import { describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/inventory/model.js';
import { withoutHosts } from '../../src/inventory/without.js';

describe('an inventory without some hosts', () => {
  it('drops them from the hosts and from every group, and keeps the rest as it was', () => {
    const host = (name: string) => ({
      name,
      connection: { address: `10.0.0.${name.slice(2)}`, port: 22, user: 'root', become: false },
      groups: ['all', 'postgres_cluster'],
      vars: { cluster_name: 'lab' },
    });
    const inventory: Inventory = {
      file: '/x/lab.yaml',
      stateDir: '/x/.pgprov/lab',
      knownHostsFile: '/x/.pgprov/lab/known_hosts',
      hosts: ['pg1', 'pg2', 'pg4'].map(host),
      groups: { all: ['pg1', 'pg2', 'pg4'], postgres_cluster: ['pg1', 'pg2', 'pg4'], etcd_cluster: ['pg1'] },
      locate: () => ({ file: '/x/lab.yaml' }),
    };
    const rest = withoutHosts(inventory, ['pg4']);
    expect(rest.hosts.map((h) => h.name)).toEqual(['pg1', 'pg2']);
    expect(rest.groups).toEqual({
      all: ['pg1', 'pg2'],
      postgres_cluster: ['pg1', 'pg2'],
      etcd_cluster: ['pg1'],
    });
    expect(rest.stateDir).toBe(inventory.stateDir);
    expect(inventory.hosts).toHaveLength(3);
  });
});
