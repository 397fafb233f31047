import { describe, expect, it } from 'vitest';
import { FILE, issues, show, valid, yaml } from './helpers.js';

describe('stage 2: the schema', () => {
  it('reports a port that is not a number with its path, line, column and what to write', () => {
    const found = issues(yaml`
      all:
        children:
          etcd_cluster:
            hosts:
              pg1:
                ansible_port: "22x"
    `);
    expect(found.map(show)).toEqual([
      `${FILE}:6:25 all.children.etcd_cluster.hosts.pg1.ansible_port: ansible_port must be an integer, not the string "22x" ` +
        '(write the port as a number from 1 to 65535, without quotes)',
    ]);
  });

  it('reports every schema error at once, in line order', () => {
    const found = issues(yaml`
      all:
        vars:
          ssh_port: 70000
          become: yes
        hosts:
          pg1:
            ansible_host: ""
            cluster_name: "my cluster"
    `);
    expect(found.map((i) => [i.line, i.path, i.message])).toEqual([
      [3, 'all.vars.ssh_port', 'ssh_port must be from 1 to 65535, not 70000'],
      [4, 'all.vars.become', 'become must be true or false, not the string "yes"'],
      [7, 'all.hosts.pg1.ansible_host', 'ansible_host must not be empty'],
      [8, 'all.hosts.pg1.cluster_name', 'cluster_name "my cluster" contains characters that are not allowed'],
    ]);
    expect(found[1]?.hint).toBe(
      'write true or false without quotes (pgprov reads YAML 1.2, where yes and no are strings)',
    );
  });

  it('reports a durability that is not one of the three, with the choices', () => {
    const [issue] = issues(yaml`
      all:
        vars:
          patroni_durability: synchronous
    `);
    expect(issue).toMatchObject({ line: 3, path: 'all.vars.patroni_durability' });
    expect(show(issue!)).toContain('one of async, sync, strict');
  });

  it('reports bad PgBouncer and monitoring settings at their line, saying what to write', () => {
    const found = issues(yaml`
      all:
        vars:
          pgbouncer_pool_mode: pooled
          pgbouncer_databases:
            - { name: app, pool_size: 0 }
            - { pool_mode: session }
          monitoring_alert_for: 2 minutes
          prometheus_alertmanagers: [alertmanager]
    `);
    expect(found.map((i) => [i.line, i.path])).toEqual([
      [3, 'all.vars.pgbouncer_pool_mode'],
      [5, 'all.vars.pgbouncer_databases.0.pool_size'],
      [6, 'all.vars.pgbouncer_databases.1'],
      [7, 'all.vars.monitoring_alert_for'],
      [8, 'all.vars.prometheus_alertmanagers.0'],
    ]);
    expect(found.map((i) => i.hint)).toEqual([
      'one of session, transaction, statement (see roles/pgbouncer/defaults.yaml)',
      'write a whole number of 1 or more, without quotes',
      'a database takes name (required), pool_size, pool_mode, reserve_pool and max_db_connections',
      'a duration such as 30s, 2m or 1h',
      'write each as host:port, e.g. alertmanager.example.com:9093',
    ]);
  });

  it('reports a variable written directly under a group, at its key', () => {
    const [issue] = issues(yaml`
      all:
        ansible_user: deploy
        hosts:
          pg1:
    `);
    expect(issue).toMatchObject({
      line: 2,
      column: 3,
      path: 'all.ansible_user',
      message: 'unknown key "ansible_user" in group all',
      hint: 'a group holds only hosts:, vars: and children:; put variables under vars:',
    });
  });

  it('reports hosts given as a list', () => {
    const [issue] = issues(yaml`
      all:
        children:
          etcd_cluster:
            hosts: [pg1, pg2, pg3]
    `);
    expect(issue).toMatchObject({
      line: 4,
      path: 'all.children.etcd_cluster.hosts',
      message: 'hosts of group etcd_cluster must be a map (or empty), not a list',
      hint: 'list each host as a key ending in a colon (`pg1:`), optionally followed by its variables',
    });
  });

  it('reports a host name with a port or a range in it', () => {
    const found = issues('all:\n  hosts:\n    pg1:2222:\n    pg[1:3]:\n');
    expect(found.map((i) => [i.line, i.column, i.path, i.message])).toEqual([
      [3, 5, 'all.hosts.pg1:2222', '"pg1:2222" is not a valid host name'],
      [4, 5, 'all.hosts["pg[1:3]"]', '"pg[1:3]" is not a valid host name'],
    ]);
    expect(found[0]?.hint).toContain('set a port with ansible_port');
  });

  it('reports a group that is not a map, and an invalid group name', () => {
    const found = issues('all:\n  children:\n    etcd_cluster: pg1\n    "db servers":\n');
    expect(found.map((i) => i.message)).toEqual([
      'group etcd_cluster must be a map (or empty), not the string "pg1"',
      '"db servers" is not a valid group name',
    ]);
  });

  it('reports hosts: at the top level, where `all:` was forgotten', () => {
    const [issue, ...rest] = issues('hosts:\n  pg1:\n    ansible_host: 10.0.0.1\n');
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({
      line: 1,
      message: '"hosts:" cannot be at the top level of the inventory',
      hint: 'indent it under `all:`: the top level holds only groups',
    });
  });

  it('reports an empty file and a file that is not a map', () => {
    expect(issues('').map((i) => i.message)).toEqual(['the inventory must be a map, not empty']);
    expect(issues('- pg1\n').map(show)).toEqual([
      `${FILE}:1:1: the inventory must be a map, not a list ` +
        '(start the file with `all:`, then put hosts under `all.hosts` and groups under `all.children`)',
    ]);
  });

  it('checks group_vars/ and host_vars/ files and points into them', () => {
    const found = issues('all:\n  hosts:\n    pg1:\n', {
      groupVars: { 'all.yaml': 'ansible_port: "2222"\n' },
      hostVars: { 'pg1.yaml': '- ansible_user: deploy\n' },
    });
    expect(found.map(show)).toEqual([
      '/srv/pgprov/inventory/group_vars/all.yaml:1:15 ansible_port: ansible_port must be an integer, not the string "2222" ' +
        '(write the port as a number from 1 to 65535, without quotes)',
      '/srv/pgprov/inventory/host_vars/pg1.yaml:1:1: host_vars/pg1.yaml must be a map (or empty), not a list ' +
        '(variables are a map of `name: value` pairs)',
    ]);
  });

  it('checks extra vars', () => {
    const [issue] = issues('all:\n  hosts:\n    pg1:\n', { extraVars: { ansible_become: 'yes' } });
    expect(issue).toMatchObject({ file: '<command line>', path: 'ansible_become' });
  });

  it('allows any other variable, empty groups, hosts and vars, and top-level groups besides all', () => {
    const inventory = valid(yaml`
      all:
        vars:
        hosts:
          pg1:
        children:
          empty:
          monitoring:
            vars:
              anything: [1, 2, { deep: true }]
      dc_east:
        hosts:
          pg1:
    `);
    expect(inventory.groups).toEqual({ all: ['pg1'], empty: [], monitoring: [], dc_east: ['pg1'] });
    expect(inventory.hosts[0]?.groups).toEqual(['all', 'dc_east']);
  });
});
