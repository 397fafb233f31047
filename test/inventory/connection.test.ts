import { describe, expect, it } from 'vitest';
import { HOME, valid, yaml } from './helpers.js';

describe('stage 3: connection settings and defaults', () => {
  it('defaults to root on port 22 at the host name, without sudo', () => {
    const inventory = valid('all:\n  hosts:\n    db1.example.com:\n');
    expect(inventory.hosts[0]?.connection).toEqual({
      address: 'db1.example.com',
      port: 22,
      user: 'root',
      become: false,
    });
  });

  it("reads Ansible's names and pgprov's names alike", () => {
    const ansible = valid(yaml`
      all:
        hosts:
          pg1:
            ansible_host: 10.0.0.11
            ansible_port: 2222
            ansible_user: deploy
            ansible_ssh_private_key_file: /keys/deploy
            ansible_become: true
    `);
    const pgprov = valid(yaml`
      all:
        hosts:
          pg1:
            address: 10.0.0.11
            ssh_port: 2222
            ssh_user: deploy
            ssh_private_key_file: /keys/deploy
            become: true
    `);
    const expected = {
      address: '10.0.0.11',
      port: 2222,
      user: 'deploy',
      privateKeyFile: '/keys/deploy',
      become: true,
    };
    expect(ansible.hosts[0]?.connection).toEqual(expected);
    expect(pgprov.hosts[0]?.connection).toEqual(expected);
  });

  it('uses sudo by default for a user other than root, and allows it for root', () => {
    const inventory = valid('all:\n  hosts:\n    a: { ansible_user: deploy }\n    b: { become: true }\n');
    expect(inventory.hosts.map((h) => h.connection.become)).toEqual([true, true]);
  });

  it('resolves key paths against the inventory folder, ~/ against the home folder', () => {
    const inventory = valid(yaml`
      all:
        hosts:
          a: { ssh_private_key_file: keys/a }
          b: { ssh_private_key_file: ../keys/b }
          c: { ssh_private_key_file: ~/.ssh/c }
          d: { ssh_private_key_file: /etc/pgprov/d }
    `);
    expect(inventory.hosts.map((h) => h.connection.privateKeyFile)).toEqual([
      '/srv/pgprov/inventory/keys/a',
      '/srv/pgprov/keys/b',
      `${HOME}/.ssh/c`,
      '/etc/pgprov/d',
    ]);
  });

  it('keeps state beside the inventory, named after it, with known_hosts there by default', () => {
    const inventory = valid('all:\n  hosts:\n    pg1:\n');
    expect(inventory.file).toBe('/srv/pgprov/inventory/test.yaml');
    expect(inventory.stateDir).toBe('/srv/pgprov/inventory/.pgprov/test');
    expect(inventory.knownHostsFile).toBe('/srv/pgprov/inventory/.pgprov/test/known_hosts');
  });

  it('takes pgprov_known_hosts from all, relative to the inventory folder', () => {
    expect(
      valid('all:\n  vars: { pgprov_known_hosts: ssh/known_hosts }\n  hosts:\n    pg1:\n').knownHostsFile,
    ).toBe('/srv/pgprov/inventory/ssh/known_hosts');
    const fromGroupVars = valid('all:\n  hosts:\n    pg1:\n', {
      groupVars: { 'all.yaml': 'pgprov_known_hosts: /kh\n' },
    });
    expect(fromGroupVars.knownHostsFile).toBe('/kh');
  });

  it('lets extra vars change the connection, but keeps them out of host.vars', () => {
    const inventory = valid('all:\n  hosts:\n    pg1: { ansible_user: deploy }\n', {
      extraVars: { ssh_user: 'admin', pgprov_known_hosts: '/tmp/kh' },
    });
    expect(inventory.hosts[0]?.connection.user).toBe('admin');
    expect(inventory.hosts[0]?.vars).toEqual({ ansible_user: 'deploy', ssh_user: 'deploy' });
    expect(inventory.knownHostsFile).toBe('/tmp/kh');
  });

  it('lists groups (children expanded, any depth) and hosts in file order', () => {
    const inventory = valid(yaml`
      all:
        children:
          dc:
            children:
              rack1:
                children:
                  postgres_cluster:
                    hosts:
                      pg2:
                      pg1:
              rack2:
                hosts:
                  pg3:
        hosts:
          pg1:
    `);
    expect(inventory.hosts.map((h) => h.name)).toEqual(['pg2', 'pg1', 'pg3']);
    expect(inventory.groups).toEqual({
      all: ['pg2', 'pg1', 'pg3'],
      dc: ['pg2', 'pg1', 'pg3'],
      rack1: ['pg2', 'pg1'],
      postgres_cluster: ['pg2', 'pg1'],
      rack2: ['pg3'],
    });
    expect(inventory.hosts[0]?.groups).toEqual(['all', 'dc', 'postgres_cluster', 'rack1']);
  });

  it('can locate a YAML path of the inventory for later stages', () => {
    const inventory = valid('all:\n  hosts:\n    pg1:\n      ansible_host: 10.0.0.1\n');
    expect(inventory.locate(['all', 'hosts', 'pg1', 'ansible_host'])).toEqual({
      file: '/srv/pgprov/inventory/test.yaml',
      line: 4,
      column: 21,
      path: 'all.hosts.pg1.ansible_host',
    });
  });
});
