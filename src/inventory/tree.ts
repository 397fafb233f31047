import type { InputIssue } from '../core/errors.js';
import type { Vars } from './model.js';
import { locateOrigin, type Origin, type Source } from './source.js';
import type { Segment } from './yaml-path.js';

/** The inventory file's data once the schema accepted it (mirrors schemas/inventory.schema.json). */
type RawGroup = {
  hosts?: Record<string, Vars | null> | null;
  vars?: Vars | null;
  children?: RawChildren;
} | null;
type RawChildren = Record<string, RawGroup> | null;

export interface GroupNode {
  name: string;
  /** Paths of the group's keys in the inventory file, in file order (`all` may have none). */
  declaredAt: Segment[][];
  /** Hosts listed directly under the group's `hosts:`. */
  hosts: string[];
  children: string[];
  parents: string[];
  /** The group's `vars:` maps in the inventory file, in file order. */
  vars: { origin: Origin; vars: Vars }[];
}

/** One appearance of a host under some group's `hosts:`; `origin.path` leads to the host's key. */
export interface HostEntry {
  group: string;
  origin: Origin;
  vars: Vars;
}

/** The groups and hosts of an inventory file, as declared (children not expanded yet). */
export interface InventoryTree {
  source: Source;
  groups: Map<string, GroupNode>;
  /** Host name -> its entries, in file order. Map order is the order hosts first appear in the file. */
  hosts: Map<string, HostEntry[]>;
}

/** Walks the (schema-checked) inventory file; a group declared in several places is one group. */
export function buildTree(source: Source): InventoryTree {
  const tree: InventoryTree = { source, groups: new Map(), hosts: new Map() };
  const group = (name: string): GroupNode => {
    let node = tree.groups.get(name);
    if (!node)
      tree.groups.set(
        name,
        (node = { name, declaredAt: [], hosts: [], children: [], parents: [], vars: [] }),
      );
    return node;
  };
  const onPath = new Set<object>(); // YAML aliases could make a group contain itself
  const visit = (name: string, raw: RawGroup, path: Segment[], parent: string | undefined): void => {
    const node = group(name);
    node.declaredAt.push(path);
    if (parent !== undefined) {
      addOnce(group(parent).children, name);
      addOnce(node.parents, parent);
    }
    if (!raw || onPath.has(raw)) return;
    onPath.add(raw);
    // In the file's key order, so that hosts keep the order in which they first appear.
    for (const key of Object.keys(raw)) {
      if (key === 'hosts') {
        for (const [host, vars] of Object.entries(raw.hosts ?? {})) {
          addOnce(node.hosts, host);
          const entries = tree.hosts.get(host) ?? [];
          entries.push({ group: name, origin: { source, path: [...path, 'hosts', host] }, vars: vars ?? {} });
          tree.hosts.set(host, entries);
        }
      } else if (key === 'vars' && raw.vars) {
        node.vars.push({ origin: { source, path: [...path, 'vars'] }, vars: raw.vars });
      } else if (key === 'children') {
        for (const [child, group] of Object.entries(raw.children ?? {})) {
          visit(child, group, [...path, 'children', child], name);
        }
      }
    }
    onPath.delete(raw);
  };
  group('all');
  for (const [name, raw] of Object.entries((source.value ?? {}) as Record<string, RawGroup>)) {
    visit(name, raw, [name], name === 'all' ? undefined : 'all');
  }
  return tree;
}

/** `all` must stay the root, and no group may be its own ancestor. */
export function checkStructure(tree: InventoryTree): InputIssue[] {
  const issues: InputIssue[] = [];
  for (const path of tree.groups.get('all')?.declaredAt ?? []) {
    if (path.length > 1) {
      issues.push({
        ...locateOrigin({ source: tree.source, path }, [], 'key'),
        message: 'group all cannot be a child of another group',
        hint: '`all` is the root that holds every host and group: use another name for this group',
      });
    }
  }
  const reported = new Set<string>();
  for (const node of tree.groups.values()) {
    const cycle = findCycle(tree, node.name, [node.name]);
    const key = [...new Set(cycle ?? [])].sort().join();
    if (!cycle || reported.has(key)) continue;
    reported.add(key);
    const [first, second] = cycle;
    const at = tree.groups.get(second ?? '')?.declaredAt.find((p) => p[p.length - 3] === first);
    issues.push({
      ...(at ? locateOrigin({ source: tree.source, path: at }, [], 'key') : { file: tree.source.file }),
      message: `groups contain each other in a loop: ${cycle.join(' -> ')}`,
      hint: `remove ${String(second)} from the children of ${String(first)}, or the other way round`,
    });
  }
  return issues;
}

function findCycle(tree: InventoryTree, start: string, trail: string[]): string[] | undefined {
  const last = trail[trail.length - 1] ?? start;
  for (const child of tree.groups.get(last)?.children ?? []) {
    if (child === 'all') continue; // reported on its own
    if (child === start) return [...trail, child];
    if (trail.includes(child)) continue;
    const found = findCycle(tree, start, [...trail, child]);
    if (found) return found;
  }
  return undefined;
}

/** A group's depth: `all` is 0, any other group one more than its deepest parent (as Ansible orders groups). */
export function groupDepths(tree: InventoryTree): Map<string, number> {
  const depths = new Map<string, number>([['all', 0]]);
  const depth = (name: string, seen: ReadonlySet<string>): number => {
    const known = depths.get(name);
    if (known !== undefined) return known;
    const parents = (tree.groups.get(name)?.parents ?? []).filter((p) => !seen.has(p));
    const d = 1 + Math.max(0, ...parents.map((p) => depth(p, new Set([...seen, name]))));
    depths.set(name, d);
    return d;
  };
  for (const name of tree.groups.keys()) depth(name, new Set());
  return depths;
}

/** Group -> every host in it, directly or through children; `all` holds every host. Hosts in file order. */
export function expandGroups(tree: InventoryTree): Map<string, string[]> {
  const order = [...tree.hosts.keys()];
  const collect = (name: string, into: Set<string>, seen: Set<string>): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const node = tree.groups.get(name);
    for (const host of node?.hosts ?? []) into.add(host);
    for (const child of node?.children ?? []) collect(child, into, seen);
  };
  const out = new Map<string, string[]>();
  for (const name of tree.groups.keys()) {
    const members = new Set<string>(name === 'all' ? order : []);
    collect(name, members, new Set());
    out.set(
      name,
      order.filter((h) => members.has(h)),
    );
  }
  return out;
}

function addOnce(list: string[], item: string): void {
  if (!list.includes(item)) list.push(item);
}
