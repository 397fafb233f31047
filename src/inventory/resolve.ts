import { basename, dirname, extname, join } from 'node:path';
import type { Inventory, InventoryHost } from './model.js';
import { resolveConnection, resolvePath, type PathContext } from './connection.js';
import { KNOWN_HOSTS_VAR, type ConnectionField } from './known-vars.js';
import {
  type FoundVar,
  findVar,
  groupFileLayers,
  hostEntryLayer,
  hostLayers,
  mergeVars,
  sortGroups,
  type VarsLayer,
} from './precedence.js';
import { expandGroups, groupDepths, type HostEntry, type InventoryTree } from './tree.js';

/** A host with what the semantic rules need to point at the right line. */
export interface ResolvedHost extends InventoryHost {
  /** Its entries under `hosts:` in the inventory file, in file order. */
  entries: HostEntry[];
  /** Group and host vars, lowest first (precedence.ts). */
  layers: VarsLayer[];
  /** Where each connection setting that is not a default came from (extra vars included). */
  origins: Partial<Record<ConnectionField, FoundVar>>;
}

/** Stage 3's result: the inventory with defaults applied, and where everything came from. */
export interface ResolvedInventory {
  file: string;
  stateDir: string;
  knownHostsFile: string;
  tree: InventoryTree;
  hosts: ResolvedHost[];
  groups: Map<string, string[]>;
  /** Every map of variables once: the file's groups and hosts, group_vars/, host_vars/, extra vars. */
  layers: VarsLayer[];
}

export interface ResolveInput {
  tree: InventoryTree;
  /** group_vars/ and host_vars/ files (schema-checked), each list in load order. */
  groupVars: readonly VarsLayer[];
  hostVars: readonly VarsLayer[];
  extraVars: VarsLayer;
  homeDir: string;
}

/** Stage 3: applies precedence and defaults. Pure; assumes stages 1-2 passed. */
export function resolveInventory(input: ResolveInput): ResolvedInventory {
  const { tree } = input;
  const file = tree.source.file;
  const paths: PathContext = { baseDir: dirname(file), homeDir: input.homeDir };
  const stateDir = join(dirname(file), '.pgprov', basename(file, extname(file)));
  const groups = expandGroups(tree);
  const depths = groupDepths(tree);
  const hosts = [...tree.hosts].map(([name, entries]): ResolvedHost => {
    const memberOf = [...groups].filter(([, members]) => members.includes(name)).map(([g]) => g);
    const layers = hostLayers({
      host: name,
      groups: sortGroups(memberOf, depths)
        .map((g) => tree.groups.get(g))
        .filter((g) => g !== undefined),
      entries,
      groupVars: input.groupVars,
      hostVars: input.hostVars,
    });
    const { connection, origins } = resolveConnection(name, [...layers, input.extraVars], paths);
    const vars = mergeVars(layers.map((l) => l.vars));
    return { name, connection, groups: [...memberOf].sort(), vars, entries, layers, origins };
  });
  const all = tree.groups.get('all');
  const allLayers = [
    ...(all ? groupFileLayers(all) : []),
    ...input.groupVars.filter((l) => l.owner.kind === 'group' && l.owner.name === 'all'),
    input.extraVars,
  ];
  const knownHosts = findVar(allLayers, [KNOWN_HOSTS_VAR]);
  return {
    file,
    stateDir,
    knownHostsFile: knownHosts
      ? resolvePath(knownHosts.value as string, paths)
      : join(stateDir, 'known_hosts'),
    tree,
    hosts,
    groups,
    layers: [
      ...[...tree.groups.values()].flatMap(groupFileLayers),
      ...input.groupVars,
      ...[...tree.hosts].flatMap(([host, entries]) => entries.map((e) => hostEntryLayer(host, e))),
      ...input.hostVars,
      input.extraVars,
    ],
  };
}

/** The public, pure-data view. */
export function toInventory(resolved: ResolvedInventory): Inventory {
  const { source } = resolved.tree;
  return {
    file: resolved.file,
    stateDir: resolved.stateDir,
    knownHostsFile: resolved.knownHostsFile,
    hosts: resolved.hosts.map(({ name, connection, groups, vars }) => ({ name, connection, groups, vars })),
    groups: Object.fromEntries(resolved.groups),
    locate: (path) => source.locate(path),
  };
}
