import { dirname, relative } from 'node:path';
import type { InputIssue } from '../core/errors.js';
import type { Inventory, Vars } from './model.js';
import type { VarsLayer } from './precedence.js';
import { resolveInventory, toInventory, type ResolvedInventory } from './resolve.js';
import { checkRules } from './rules/index.js';
import { checkInventoryShape, checkVarsShape } from './schema.js';
import { commandLineSource, parseSource, type Parsed, type Source } from './source.js';
import { buildTree, checkStructure, type InventoryTree } from './tree.js';

/**
 * The pure pipeline, in stages; each stage reports every problem it finds, and a stage runs only when the ones
 * before it passed (a port that is not a number would make every later check guess):
 *   1. parse      every file as YAML with positions         (source.ts)
 *   2. shape      JSON Schema, and groups form a tree        (schema.ts, tree.ts)
 *   3. resolve    precedence and defaults                    (precedence.ts, connection.ts, resolve.ts)
 *   4. rules      small named semantic rules                 (rules/)
 * Files are read by load.ts (and extra-vars.ts for `-e @file`); everything here takes text and returns results.
 */

/** One group_vars/ or host_vars/ file's text; `name` is its group or host. */
export interface VarsText {
  name: string;
  file: string;
  text: string;
}

export interface InventoryInput {
  /** Absolute path of the inventory file, and its text. */
  file: string;
  text: string;
  /** group_vars/ and host_vars/ files, each in load order (see precedence.ts). */
  groupVars?: readonly VarsText[];
  hostVars?: readonly VarsText[];
  /** Already parsed `-e` values (parseExtraVars). */
  extraVars?: Vars;
  /** The home folder, for `~/` in key paths. */
  homeDir: string;
}

/** Every stage, start to end. */
export function validateInventory(input: InventoryInput): Parsed<Inventory> {
  const resolved = resolveInput(input);
  if (!resolved.ok) return resolved;
  const issues = checkRules(resolved.value);
  return issues.length > 0 ? fail(issues) : { ok: true, value: toInventory(resolved.value) };
}

/** Stages 1 to 3: the inventory with defaults applied, and where every value came from. */
export function resolveInput(input: InventoryInput): Parsed<ResolvedInventory> {
  const parsed = parseAll(input);
  if (!parsed.ok) return parsed;
  const { inventory, groupVars, hostVars, extraVars } = parsed.value;
  const shapeIssues = [
    ...checkInventoryShape(inventory),
    ...[...groupVars, ...hostVars].flatMap((l) =>
      checkVarsShape(l.origin.source, label(input.file, l.origin.source)),
    ),
    ...checkVarsShape(extraVars.origin.source, 'the extra vars'),
  ];
  if (shapeIssues.length > 0) return fail(shapeIssues);
  const tree: InventoryTree = buildTree(inventory);
  const structureIssues = checkStructure(tree);
  if (structureIssues.length > 0) return fail(structureIssues);
  return {
    ok: true,
    value: resolveInventory({ tree, groupVars, hostVars, extraVars, homeDir: input.homeDir }),
  };
}

interface ParsedInput {
  inventory: Source;
  groupVars: VarsLayer[];
  hostVars: VarsLayer[];
  extraVars: VarsLayer;
}

/** Stage 1: every file parsed, or every syntax error. */
export function parseAll(input: InventoryInput): Parsed<ParsedInput> {
  const issues: InputIssue[] = [];
  const parse = (file: string, text: string): Source | undefined => {
    const result = parseSource(file, text);
    if (result.ok) return result.value;
    issues.push(...result.issues);
    return undefined;
  };
  const inventory = parse(input.file, input.text);
  const layers = (files: readonly VarsText[] | undefined, kind: 'group' | 'host'): VarsLayer[] =>
    (files ?? []).flatMap(({ name, file, text }) => {
      const source = parse(file, text);
      return source
        ? [{ owner: { kind, name }, origin: { source, path: [] }, vars: (source.value ?? {}) as Vars }]
        : [];
    });
  const groupVars = layers(input.groupVars, 'group');
  const hostVars = layers(input.hostVars, 'host');
  if (!inventory || issues.length > 0) return fail(issues);
  const extra = input.extraVars ?? {};
  const extraVars: VarsLayer = {
    owner: { kind: 'extra' },
    origin: { source: commandLineSource(extra), path: [] },
    vars: extra,
  };
  return { ok: true, value: { inventory, groupVars, hostVars, extraVars } };
}

/** `group_vars/etcd_cluster.yaml`: a vars file named relative to the inventory's folder. */
function label(inventoryFile: string, source: Source): string {
  return relative(dirname(inventoryFile), source.file) || source.file;
}

/** A failed result: issues in file and line order, each once (a group var can fail for each of its hosts). */
export function fail<T>(issues: readonly InputIssue[]): Parsed<T> {
  const seen = new Set<string>();
  const unique = issues.filter((i) => {
    const key = JSON.stringify([i.file, i.line, i.column, i.path, i.message]);
    return seen.has(key) ? false : (seen.add(key), true);
  });
  unique.sort(
    (a, b) =>
      a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  );
  return { ok: false, issues: unique };
}
