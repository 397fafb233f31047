import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { InputIssue } from '../core/errors.js';
import type { Source } from './source.js';
import { pointerToPath, type Segment } from './yaml-path.js';

/**
 * Stage 2: the shape of each file, checked against schemas/inventory.schema.json (the one source of truth for
 * the inventory's shape, pgprov's variables, and through `npm run gen:types` their TypeScript types). Every ajv
 * error becomes an issue that names the thing in words, its file, line and path, and the schema's `x-hint`.
 */

export const SCHEMA_FILE = 'schemas/inventory.schema.json';
// A static asset two folders up from both src/inventory/ and dist/inventory/.
export const inventorySchema = createRequire(import.meta.url)('../../schemas/inventory.schema.json') as {
  $id: string;
  $defs: Record<string, Record<string, unknown>>;
};

const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true });
ajv.addKeyword({ keyword: 'x-hint', schemaType: 'string' });
const validateInventory = ajv.compile(inventorySchema);
const validateVars = ajv.getSchema(`${inventorySchema.$id}#/$defs/vars`) as ValidateFunction;

/** Checks an inventory file's shape. */
export function checkInventoryShape(source: Source): InputIssue[] {
  return check(validateInventory, source, 'the inventory');
}

/** Checks a map of variables: a group_vars/ or host_vars/ file, or the extra vars. */
export function checkVarsShape(source: Source, what = 'the file'): InputIssue[] {
  return check(validateVars, source, what);
}

function check(validate: ValidateFunction, source: Source, what: string): InputIssue[] {
  if (validate(source.value)) return [];
  return (validate.errors ?? [])
    .filter((e) => e.keyword !== 'propertyNames') // its inner `pattern` error says the same, with the name
    .map((e) => toIssue(e, source, what));
}

function toIssue(e: ErrorObject, source: Source, what: string): InputIssue {
  const path: Segment[] = pointerToPath(e.instancePath);
  const params = e.params as Record<string, unknown>;
  const hint =
    (e.parentSchema?.['x-hint'] as string | undefined) ?? `see ${SCHEMA_FILE} for the expected shape`;
  const subject = subjectOf(path, what);
  const issue = (at: Segment[], where: 'key' | 'value', message: string, h = hint): InputIssue => ({
    ...source.locate(at, where),
    message,
    hint: h,
  });
  if (e.propertyName !== undefined) {
    const kind = path[path.length - 1] === 'hosts' ? 'host' : 'group';
    return issue([...path, e.propertyName], 'key', `"${e.propertyName}" is not a valid ${kind} name`);
  }
  switch (e.keyword) {
    case 'type':
      return issue(path, 'value', `${subject} must be ${expected(params.type)}, not ${describe(e.data)}`);
    case 'minimum':
    case 'maximum': {
      const range = `from ${String(e.parentSchema?.minimum)} to ${String(e.parentSchema?.maximum)}`;
      return issue(path, 'value', `${subject} must be ${range}, not ${String(e.data)}`);
    }
    case 'minLength':
      return issue(path, 'value', `${subject} must not be empty`);
    case 'pattern':
      return issue(
        path,
        'value',
        `${subject} ${JSON.stringify(e.data)} contains characters that are not allowed`,
      );
    case 'additionalProperties':
      return issue(
        [...path, String(params.additionalProperty)],
        'key',
        `unknown key "${String(params.additionalProperty)}" in ${subject}`,
      );
    case 'minProperties':
      return issue(path, 'value', `${subject} defines no groups`);
    case 'false schema':
      return issue(
        path,
        'key',
        `"${String(path[0])}:" cannot be at the top level of the inventory`,
        'indent it under `all:`: the top level holds only groups',
      );
    default:
      return issue(path, 'value', `${subject} ${e.message ?? `fails ${e.keyword}`}`);
  }
}

/** The thing at a path, in words: `group etcd_cluster`, `hosts of group all`, `host pg1`, `ansible_port`. */
function subjectOf(path: readonly Segment[], what: string): string {
  const last = path[path.length - 1];
  const parent = path[path.length - 2];
  if (last === undefined) return what;
  if (what !== 'the inventory') return String(last);
  if (path.length === 1 || parent === 'children') return `group ${String(last)}`;
  if (parent === 'hosts') return `host ${String(last)}`;
  if (last === 'hosts' || last === 'vars' || last === 'children') return `${last} of group ${String(parent)}`;
  return String(last);
}

function expected(type: unknown): string {
  const names: Record<string, string> = {
    integer: 'an integer',
    number: 'a number',
    boolean: 'true or false',
    string: 'a string',
    object: 'a map',
    array: 'a list',
  };
  const types = Array.isArray(type) ? type.map(String) : [String(type)];
  const words = types.filter((t) => t !== 'null').map((t) => names[t] ?? t);
  return words.join(' or ') + (types.includes('null') ? ' (or empty)' : '');
}

/** A value as a user would name it: `the string "22x"`, `the number 5`, `a list`. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return String(value);
  return Array.isArray(value) ? 'a list' : 'a map';
}
