import { describe, expect, it } from 'vitest';
import { mergeVars, resolveHostVars } from '../../src/inventory/precedence.js';
import { valid, yaml } from './helpers.js';

const vars = (text: string, extra: Parameters<typeof valid>[1] = {}, host = 'pg1') =>
  valid(text, extra).hosts.find((h) => h.name === host)?.vars ?? {};

describe('variable precedence', () => {
  const inventory = yaml`
    all:
      vars: { level: all }
      hosts:
        pg1: { level: host }
        pg2:
      children:
        postgres_cluster:
          vars: { level: group }
          hosts: { pg1: , pg2: }
  `;

  it('role defaults < group vars < host vars < extra vars', () => {
    const [pg1, pg2] = valid(inventory).hosts;
    const roleDefaults = { level: 'role', only_in_role: true };
    expect(resolveHostVars({ roleDefaults, host: pg2! })).toMatchObject({
      level: 'group',
      only_in_role: true,
    });
    expect(resolveHostVars({ roleDefaults, host: pg1! })).toMatchObject({ level: 'host' });
    expect(resolveHostVars({ roleDefaults, host: pg1!, extraVars: { level: 'extra' } })).toMatchObject({
      level: 'extra',
      only_in_role: true,
    });
  });

  it('all < parent group < child group, whatever the order in the file', () => {
    const text = yaml`
      child:
        vars: { level: child }
        hosts: { pg1: }
      parent:
        vars: { level: parent }
        children: { child: }
      all:
        vars: { level: all, from_all: yes }
    `;
    expect(vars(text)).toEqual({ level: 'child', from_all: 'yes' });
  });

  it('orders groups by depth (the longest chain from all), then by name', () => {
    const text = yaml`
      all:
        children:
          b_sibling: { vars: { level: b }, hosts: { pg1: } }
          a_sibling: { vars: { level: a }, hosts: { pg1: } }
          deep:
            children:
              deeper: { vars: { level: deeper }, children: { a_sibling: } }
    `;
    // a_sibling is also a grandchild of `deep`, so it is deeper than b_sibling and wins.
    expect(vars(text).level).toBe('a');
    expect(vars(text.replace('children: { a_sibling: }', 'hosts: {}')).level).toBe('b');
  });

  it('within one group: the inventory file < group_vars/<group>.yaml < .yml < group_vars/<group>/* by name', () => {
    const groupVars = {
      'postgres_cluster.yaml': 'level: file-yaml\na: file-yaml\n',
      'postgres_cluster.yml': 'level: file-yml\nb: file-yml\n',
      'postgres_cluster/10-base.yaml': 'level: dir-10\nc: dir-10\n',
      'postgres_cluster/20-site.yaml': 'level: dir-20\n',
    };
    expect(vars(inventory, { groupVars }, 'pg2')).toEqual({
      level: 'dir-20',
      a: 'file-yaml',
      b: 'file-yml',
      c: 'dir-10',
    });
    expect(vars(inventory, { groupVars: { 'postgres_cluster.yaml': 'x: 1\n' } }, 'pg2').level).toBe('group');
  });

  it('within host vars: the inventory file < host_vars/<host>.yaml < host_vars/<host>/* by name', () => {
    expect(vars(inventory, { hostVars: { 'pg1.yaml': 'level: host_vars\n' } })).toMatchObject({
      level: 'host_vars',
    });
    const hostVars = {
      'pg1.yaml': 'level: host_vars\n',
      'pg1/a.yaml': 'level: dir-a\n',
      'pg1/b.yaml': 'level: dir-b\n',
    };
    expect(vars(inventory, { hostVars }).level).toBe('dir-b');
  });

  it('ranks a child group in the file above group_vars/all (unlike Ansible)', () => {
    expect(vars(inventory, { groupVars: { 'all.yaml': 'level: group_vars-all\n' } }, 'pg2').level).toBe(
      'group',
    );
  });

  it('replaces maps and lists whole, without merging them', () => {
    const text = 'all:\n  vars: { opts: { a: 1, b: 2 } }\n  hosts:\n    pg1: { opts: { b: 3 } }\n';
    expect(vars(text).opts).toEqual({ b: 3 });
  });

  it('treats the two names of a connection variable as one variable across levels', () => {
    const host = valid('all:\n  hosts:\n    pg1: { ssh_user: admin }\n', {
      groupVars: { 'all.yaml': 'ansible_user: deploy\n' },
    }).hosts[0];
    expect(host?.connection.user).toBe('admin');
    expect(host?.vars).toEqual({ ansible_user: 'admin', ssh_user: 'admin' });
    expect(resolveHostVars({ host: host!, extraVars: { ansible_user: 'ops' } })).toEqual({
      ansible_user: 'ops',
      ssh_user: 'ops',
    });
  });

  it('mergeVars applies maps in order', () => {
    expect(mergeVars([{ a: 1, b: 1 }, { b: 2 }, { c: 3 }])).toEqual({ a: 1, b: 2, c: 3 });
    expect(mergeVars([{ ansible_port: 22 }, { ssh_port: 2222 }])).toEqual({
      ansible_port: 2222,
      ssh_port: 2222,
    });
  });
});
