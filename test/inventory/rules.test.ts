import { describe, expect, it } from 'vitest';
import { FILE, issues, show, THREE_HOSTS, valid, yaml } from './helpers.js';

/** THREE_HOSTS with its etcd_cluster hosts replaced. */
const withEtcd = (hosts: string[]): string =>
  THREE_HOSTS.replace(
    /etcd_cluster:\n {6}hosts:\n( {8}pg\d:\n)+/,
    `etcd_cluster:\n      hosts:\n${hosts.map((h) => `        ${h}:\n`).join('')}`,
  );

describe('stage 4: semantic rules', () => {
  describe('etcd_cluster has an odd number of members', () => {
    it('rejects two members, at the group, saying why', () => {
      expect(issues(withEtcd(['pg1', 'pg2'])).map(show)).toEqual([
        `${FILE}:10:5 all.children.etcd_cluster: etcd_cluster has 2 members (pg1, pg2); etcd needs an odd number: 1, 3 or 5 ` +
          '(an even number of etcd members tolerates no more failures than one fewer: add or remove one member)',
      ]);
    });

    it('counts members given through child groups', () => {
      const found = issues(yaml`
        all:
          children:
            etcd_cluster:
              children:
                dc1:
                  hosts: { a: , b: }
                dc2:
                  hosts: { c: , d: }
      `);
      expect(found.map((i) => i.message)).toEqual([
        'etcd_cluster has 4 members (a, b, c, d); etcd needs an odd number: 1, 3 or 5',
      ]);
    });

    it('accepts 1, 3 and 5 members, and no etcd_cluster at all', () => {
      valid(withEtcd(['pg1']));
      valid(THREE_HOSTS);
      valid(withEtcd(['pg1', 'pg2', 'pg3', 'pg4', 'pg5']));
      valid('all:\n  hosts:\n    pg1:\n');
    });
  });

  describe('postgres_cluster and etcd_cluster are not empty when present', () => {
    it('rejects empty groups', () => {
      const found = issues(
        'all:\n  hosts:\n    pg1:\n  children:\n    postgres_cluster:\n    etcd_cluster:\n      hosts:\n',
      );
      expect(found.map(show)).toEqual([
        `${FILE}:5:5 all.children.postgres_cluster: postgres_cluster has no hosts ` +
          '(list at least one host under all.children.postgres_cluster.hosts (e.g. `pg1:`), or remove the group)',
        `${FILE}:6:5 all.children.etcd_cluster: etcd_cluster has no hosts ` +
          '(list at least one host under all.children.etcd_cluster.hosts (e.g. `pg1:`), or remove the group)',
      ]);
    });

    it('allows other groups to be empty', () => {
      valid(THREE_HOSTS.replace('  children:\n', '  children:\n    balancers:\n    pgbackrest:\n'));
    });
  });

  describe('host names are unique', () => {
    it('rejects names that differ only in case', () => {
      const [issue] = issues('all:\n  hosts:\n    pg1:\n    PG1:\n      ansible_host: 10.0.0.2\n');
      expect(issue).toMatchObject({
        line: 4,
        path: 'all.hosts.PG1',
        message: 'hosts pg1 and PG1 differ only in letter case',
      });
    });
  });

  describe('a host listed in several groups is one host', () => {
    it('rejects two values for one variable, naming both places', () => {
      const [issue, ...rest] = issues(yaml`
        all:
          hosts:
            pg1:
              ansible_host: 10.0.0.1
          children:
            postgres_cluster:
              hosts:
                pg1:
                  address: 10.0.0.9
      `);
      expect(rest).toEqual([]);
      expect(show(issue!)).toBe(
        `${FILE}:9:20 all.children.postgres_cluster.hosts.pg1.address: ` +
          'host pg1 sets address to the string "10.0.0.9" here, but ansible_host to the string "10.0.0.1" at all.hosts.pg1.ansible_host (line 4) ' +
          "(give each host's variables in one place (e.g. under all.hosts) and list it bare (`pg1:`) in its other groups)",
      );
    });

    it('accepts bare mentions and the same value twice', () => {
      valid(
        'all:\n  hosts:\n    pg1: { ansible_port: 22 }\n  children:\n    x:\n      hosts:\n        pg1: { ssh_port: 22 }\n',
      );
    });
  });

  describe('address:port pairs are unique', () => {
    it('rejects two hosts on one address and port, at the second address', () => {
      const found = issues(THREE_HOSTS.replace('10.0.0.13', '10.0.0.11'));
      expect(found.map((i) => [i.line, i.path, i.message])).toEqual([
        [8, 'all.hosts.pg3.ansible_host', 'hosts pg1 and pg3 both connect to 10.0.0.11:22'],
      ]);
      expect(found[0]?.hint).toContain('give pg3 its own ansible_host (or ansible_port)');
    });

    it('compares defaulted addresses (the host name) too', () => {
      const [issue] = issues('all:\n  hosts:\n    db1:\n    db2:\n      address: db1\n');
      expect(issue?.message).toBe('hosts db1 and db2 both connect to db1:22');
    });

    it('accepts one address with two ports (hosts behind NAT)', () => {
      valid(
        'all:\n  hosts:\n    a: { ansible_host: 203.0.113.5, ansible_port: 2201 }\n    b: { ansible_host: 203.0.113.5, ansible_port: 2202 }\n',
      );
    });
  });

  describe('a group is not named like a host', () => {
    it('rejects the clash at the group', () => {
      const [issue] = issues('all:\n  hosts:\n    pg1:\n  children:\n    pg1:\n      hosts:\n        pg1:\n');
      expect(issue).toMatchObject({
        line: 5,
        path: 'all.children.pg1',
        message: '"pg1" is both a group and a host',
      });
    });
  });

  describe('both names of a connection variable in one place agree', () => {
    it('rejects different values', () => {
      const [issue, ...rest] = issues(
        'all:\n  hosts:\n    pg1:\n      ansible_port: 22\n      ssh_port: 2222\n',
      );
      expect(rest).toEqual([]);
      expect(show(issue!)).toBe(
        `${FILE}:5:7 all.hosts.pg1.ssh_port: ansible_port (the number 22) and ssh_port (the number 2222) are the same setting but differ ` +
          '(keep one of the two names)',
      );
    });

    it('accepts equal values', () => {
      valid('all:\n  hosts:\n    pg1:\n      ansible_user: deploy\n      ssh_user: deploy\n');
    });
  });

  describe('impossible values of pgprov variables', () => {
    it('rejects become: false for a user other than root', () => {
      const [issue] = issues(
        'all:\n  vars:\n    ansible_user: deploy\n    ansible_become: false\n  hosts:\n    pg1:\n',
      );
      expect(issue).toMatchObject({
        line: 4,
        path: 'all.vars.ansible_become',
        message:
          'host pg1 logs in as deploy with ansible_become: false, but pgprov must run commands as root',
        hint: 'remove ansible_become (it defaults to true for users other than root) or log in as root',
      });
      valid('all:\n  vars:\n    ansible_user: root\n    ansible_become: false\n  hosts:\n    pg1:\n');
    });

    it('reports a group variable once, naming every host it affects', () => {
      const found = issues('all:\n  hosts:\n    pg1:\n    pg2:\n', {
        groupVars: { 'all.yaml': 'ssh_user: deploy\nbecome: false\nssh_private_key_file: id.pub\n' },
      });
      expect(found.map((i) => [i.line, i.message])).toEqual([
        [2, 'hosts pg1, pg2 log in as deploy with become: false, but pgprov must run commands as root'],
        [3, 'ssh_private_key_file points to a public key (id.pub)'],
      ]);
    });

    it('rejects an address with a user, a port, a scheme or spaces', () => {
      const found = issues(yaml`
        all:
          hosts:
            a: { ansible_host: deploy@10.0.0.1 }
            b: { ansible_host: "10.0.0.2:2222" }
            c: { address: "ssh://10.0.0.3" }
            d: { address: "10.0.0.4 10.0.0.5" }
      `);
      expect(found.map((i) => `${i.message} (${i.hint})`)).toEqual([
        'ansible_host "deploy@10.0.0.1" contains a user (set ansible_user: deploy and keep only the address)',
        'ansible_host "10.0.0.2:2222" contains a port (set ansible_port: 2222 and keep only the address)',
        'address "ssh://10.0.0.3" is a URL (give only the IP address or DNS name)',
        'address "10.0.0.4 10.0.0.5" contains spaces (give one IP address or DNS name)',
      ]);
      valid(
        'all:\n  hosts:\n    a: { ansible_host: "fd00::1" }\n    b: { ansible_host: db-2.example.com }\n',
      );
    });

    it('rejects a public key given as the private key', () => {
      const [issue] = issues('all:\n  hosts:\n    pg1:\n      ssh_private_key_file: ~/.ssh/id_ed25519.pub\n');
      expect(issue?.message).toBe('ssh_private_key_file points to a public key (~/.ssh/id_ed25519.pub)');
    });

    it('rejects pgprov_known_hosts anywhere but all (and extra vars)', () => {
      const found = issues('all:\n  hosts:\n    pg1:\n      pgprov_known_hosts: kh\n', {
        groupVars: { 'postgres_cluster.yaml': 'pgprov_known_hosts: kh\n' },
      });
      expect(found.map((i) => `${i.file.replace(/.*inventory\//, '')}:${i.line} ${i.message}`)).toEqual([
        'group_vars/postgres_cluster.yaml:1 pgprov_known_hosts is set for group postgres_cluster, but it applies to the whole inventory',
        'test.yaml:4 pgprov_known_hosts is set for host pg1, but it applies to the whole inventory',
      ]);
      valid('all:\n  vars: { pgprov_known_hosts: kh }\n  hosts:\n    pg1:\n', {
        groupVars: { 'all.yaml': 'pgprov_known_hosts: kh\n' },
        extraVars: { pgprov_known_hosts: 'kh' },
      });
    });

    it('rejects Ansible variables pgprov would ignore, unless they hold what pgprov does anyway', () => {
      const found = issues(yaml`
        all:
          vars:
            ansible_ssh_host: 10.0.0.1
            ansible_password: secret
            ansible_connection: local
          hosts:
            pg1:
      `);
      expect(found.map((i) => `${i.path}: ${i.message} (${i.hint})`)).toEqual([
        'all.vars.ansible_ssh_host: pgprov does not support ansible_ssh_host (rename it to ansible_host (or address))',
        'all.vars.ansible_password: pgprov does not support ansible_password ' +
          '(pgprov logs in with SSH keys only: set ansible_ssh_private_key_file or use an agent)',
        'all.vars.ansible_connection: pgprov does not support ansible_connection (pgprov always connects over SSH: remove ansible_connection)',
      ]);
      valid(
        'all:\n  vars:\n    ansible_connection: ssh\n    ansible_become_user: root\n  hosts:\n    pg1:\n',
      );
    });
  });

  describe('group structure', () => {
    it('rejects all as a child group', () => {
      const [issue] = issues('all:\n  children:\n    x:\n      children:\n        all:\n');
      expect(issue).toMatchObject({
        line: 5,
        path: 'all.children.x.children.all',
        message: 'group all cannot be a child of another group',
      });
    });

    it('rejects groups that contain each other', () => {
      const found = issues('a:\n  children:\n    b:\nb:\n  children:\n    a:\n      hosts:\n        pg1:\n');
      expect(found.map((i) => [i.line, i.message])).toEqual([
        [3, 'groups contain each other in a loop: a -> b -> a'],
      ]);
    });
  });

  it('reports the problems of every rule at once', () => {
    const found = issues(withEtcd(['pg1', 'pg2']).replace('10.0.0.13', '10.0.0.11'));
    expect(found.map((i) => i.line)).toEqual([8, 10]);
  });
});
