import { isDeepStrictEqual } from 'node:util';
import type { InputIssue } from '../../core/errors.js';
import { ALIASES } from '../known-vars.js';
import { describe } from '../schema.js';
import { locateOrigin, type Origin } from '../source.js';
import { formatPath } from '../yaml-path.js';
import { hostKey, issueAt, type Rule } from './rule.js';

/** Rules about groups and hosts: what runs where. */

/** etcd needs a majority to agree: an even member count adds a member that can fail without adding tolerance. */
export const etcdMemberCountIsOdd: Rule = ({ tree, groups }) => {
  const members = groups.get('etcd_cluster');
  const at = tree.groups.get('etcd_cluster')?.declaredAt[0];
  if (!members || members.length % 2 === 1 || members.length === 0 || !at) return [];
  return [
    issueAt(
      { source: tree.source, path: at },
      [],
      'key',
      `etcd_cluster has ${members.length} members (${members.join(', ')}); etcd needs an odd number: 1, 3 or 5`,
      `an even number of etcd members tolerates no more failures than one fewer: add or remove one member`,
    ),
  ];
};

/** postgres_cluster and etcd_cluster, when present, must hold at least one host. */
export const clusterGroupsNotEmpty: Rule = ({ tree, groups }) =>
  ['postgres_cluster', 'etcd_cluster'].flatMap((name) => {
    const at = tree.groups.get(name)?.declaredAt[0];
    if (!at || (groups.get(name)?.length ?? 0) > 0) return [];
    return [
      issueAt(
        { source: tree.source, path: at },
        [],
        'key',
        `${name} has no hosts`,
        `list at least one host under ${formatPath([...at, 'hosts'])} (e.g. \`pg1:\`), or remove the group`,
      ),
    ];
  });

/** Host names are DNS names: `pg1` and `PG1` would be two hosts in pgprov but one machine. */
export const hostNamesUnique: Rule = ({ hosts }) => {
  const seen = new Map<string, string>();
  return hosts.flatMap((host) => {
    const key = host.name.toLowerCase();
    const other = seen.get(key);
    seen.set(key, other ?? host.name);
    const at = hostKey(host);
    if (other === undefined || !at) return [];
    return [
      issueAt(
        at,
        [],
        'key',
        `hosts ${other} and ${host.name} differ only in letter case`,
        'host names are not case-sensitive: spell the host the same way everywhere',
      ),
    ];
  });
};

/**
 * A host listed under several groups is one host: its variables may be given in any of its entries, but one
 * variable may not get two different values there (the connection names count as one variable).
 */
export const hostDefinedOnce: Rule = ({ hosts }) =>
  hosts.flatMap((host) => {
    const first = new Map<string, { origin: Origin; name: string; value: unknown }>();
    const issues: InputIssue[] = [];
    for (const { origin, vars } of host.entries) {
      for (const [name, value] of Object.entries(vars)) {
        const key = canonical(name);
        const earlier = first.get(key);
        if (!earlier) first.set(key, { origin, name, value });
        else if (earlier.origin !== origin && !isDeepStrictEqual(earlier.value, value)) {
          const there = locateOrigin(earlier.origin, [earlier.name]);
          issues.push(
            issueAt(
              origin,
              [name],
              'value',
              `host ${host.name} sets ${name} to ${describe(value)} here, but ${earlier.name} to ${describe(earlier.value)} at ${there.path ?? ''} (line ${there.line ?? '?'})`,
              `give each host's variables in one place (e.g. under all.hosts) and list it bare (\`${host.name}:\`) in its other groups`,
            ),
          );
        }
      }
    }
    return issues;
  });

const canonical = (name: string): string =>
  ALIASES.has(name) && name.startsWith('ansible_') ? (ALIASES.get(name) ?? name) : name;

/** `pg1` as both a group and a host makes `hosts: pg1` ambiguous. */
export const groupNamesDifferFromHosts: Rule = ({ tree, hosts }) =>
  hosts.flatMap((host) => {
    const group = tree.groups.get(host.name);
    if (!group) return [];
    const path = group.declaredAt[0];
    const origin = path ? { source: tree.source, path } : hostKey(host);
    if (!origin) return [];
    return [
      issueAt(
        origin,
        [],
        'key',
        `"${host.name}" is both a group and a host`,
        'rename the group or the host: a name must mean one thing',
      ),
    ];
  });
