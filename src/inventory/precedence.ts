/**
 * Variable precedence. Sources are applied lowest first; a later source replaces a whole variable set by an
 * earlier one (maps are not merged, as with Ansible's default `hash_behaviour = replace`):
 *
 *   1. role defaults                 roles/<role>/defaults.yaml
 *   2. group vars, one group at a time:
 *        `all` first, then parent groups before their children (ordered by depth: the longest chain of
 *        `children:` from `all`), groups of equal depth by name. Within one group:
 *          a. its `vars:` in the inventory file (in file order when the group is declared twice),
 *          b. group_vars/<group>.yaml, then group_vars/<group>.yml,
 *          c. group_vars/<group>/*.yaml|yml, in file name order.
 *   3. host vars:
 *          a. the host's own entries in the inventory file (`pg1: {ansible_host: ...}`, in file order),
 *          b. host_vars/<host>.yaml, then host_vars/<host>.yml,
 *          c. host_vars/<host>/*.yaml|yml, in file name order.
 *   4. extra vars                    `-e key=value`, `-e @file.yaml`, in command-line order.
 *
 * One difference from Ansible: Ansible ranks every group's vars in the inventory file below all of group_vars/
 * (so group_vars/all.yaml beats `vars:` of a child group in the file). pgprov ranks by group first, so a more
 * specific group always wins, wherever its vars are written.
 *
 * Connection variables have two names (`ansible_user` and `ssh_user`, ...; see known-vars.ts) that are one
 * variable: setting either name overrides both names from lower sources, and the merged vars hold both. One
 * source giving both names different values is an error (rules.ts), not a precedence question.
 *
 * Layers 2 and 3 are computed when the inventory is loaded (InventoryHost.vars); the engine adds 1 and 4 with
 * resolveHostVars.
 */
import type { InventoryHost, Vars } from './model.js';
import { ALIASES } from './known-vars.js';
import type { Origin } from './source.js';
import type { GroupNode, HostEntry } from './tree.js';

/** Who a map of variables is for: a group, a host, or every host (extra vars). */
export type VarsOwner = { kind: 'group' | 'host'; name: string } | { kind: 'extra' };

/** One map of variables, who it is for and where it came from. */
export interface VarsLayer {
  owner: VarsOwner;
  origin: Origin;
  vars: Vars;
}

/** Merges maps of variables, later ones winning, treating both names of a connection variable as one. */
export function mergeVars(layers: readonly Vars[]): Vars {
  const out: Vars = {};
  for (const vars of layers) {
    for (const [name, value] of Object.entries(vars)) {
      out[name] = value;
      const alias = ALIASES.get(name);
      if (alias !== undefined && !(alias in vars)) out[alias] = value;
    }
  }
  return out;
}

/** Groups in precedence order, lowest first: by depth, then by name (code point order, as Ansible). */
export function sortGroups(groups: readonly string[], depths: ReadonlyMap<string, number>): string[] {
  const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...groups].sort((a, b) => (depths.get(a) ?? 0) - (depths.get(b) ?? 0) || byName(a, b));
}

/** Layers 2 and 3 for one host, lowest first. `groups` must already be in precedence order. */
export function hostLayers(input: {
  host: string;
  groups: readonly GroupNode[];
  entries: readonly HostEntry[];
  /** group_vars/ and host_vars/ files, each list in load order. */
  groupVars: readonly VarsLayer[];
  hostVars: readonly VarsLayer[];
}): VarsLayer[] {
  const filesFor = (list: readonly VarsLayer[], name: string): VarsLayer[] =>
    list.filter((f) => f.owner.kind !== 'extra' && f.owner.name === name);
  return [
    ...input.groups.flatMap((g) => [...groupFileLayers(g), ...filesFor(input.groupVars, g.name)]),
    ...input.entries.map((e) => hostEntryLayer(input.host, e)),
    ...filesFor(input.hostVars, input.host),
  ];
}

/** A group's `vars:` maps in the inventory file, as layers. */
export function groupFileLayers(group: GroupNode): VarsLayer[] {
  return group.vars.map((v) => ({ owner: { kind: 'group', name: group.name }, ...v }));
}

/** A host's entry in the inventory file, as a layer. */
export function hostEntryLayer(host: string, entry: HostEntry): VarsLayer {
  return { owner: { kind: 'host', name: host }, origin: entry.origin, vars: entry.vars };
}

/** A variable found in a layer, under one of its names. */
export interface FoundVar {
  layer: VarsLayer;
  name: string;
  value: unknown;
}

/** The highest layer that sets one of `names`, and which name it used (the pgprov name if it gives both). */
export function findVar(layers: readonly VarsLayer[], names: readonly string[]): FoundVar | undefined {
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i] as VarsLayer;
    for (const name of [...names].reverse()) {
      if (name in layer.vars) return { layer, name, value: layer.vars[name] };
    }
  }
  return undefined;
}

/**
 * A host's variables for the engine: role defaults < the host's group and host vars (already merged in
 * `host.vars`) < extra vars.
 */
export function resolveHostVars(input: {
  roleDefaults?: Vars;
  host: Pick<InventoryHost, 'vars'>;
  extraVars?: Vars;
}): Vars {
  return mergeVars([input.roleDefaults ?? {}, input.host.vars, input.extraVars ?? {}]);
}
