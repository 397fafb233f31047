import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { InputIssue } from './errors.js';
import type { YamlSource } from './yaml-source.js';

const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
const compiled = new Map<string, ValidateFunction>();

/** Compiles (once) a JSON Schema file from schemas/. */
export function schemaValidator(schemaFile: string): ValidateFunction {
  let validate = compiled.get(schemaFile);
  if (!validate) {
    validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);
    compiled.set(schemaFile, validate);
  }
  return validate;
}

/** Validates a parsed YAML file against a schema; every error becomes an issue with its line and path. */
export function validateSource(validate: ValidateFunction, source: YamlSource, hint: string): InputIssue[] {
  if (validate(source.value)) return [];
  return simplify(validate.errors ?? []).map((e) => {
    const path = e.instancePath
      .split('/')
      .slice(1)
      .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~')));
    // An unknown key is best pointed at by its own line.
    if (e.keyword === 'additionalProperties')
      path.push(String((e.params as { additionalProperty: string }).additionalProperty));
    const loc = source.locate(path);
    return { ...loc, path: path.join('.') || '(top level)', message: describe(e), hint };
  });
}

/** Drops the noise ajv emits around oneOf so the user sees the error that matters. */
function simplify(errors: ErrorObject[]): ErrorObject[] {
  const specific = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if');
  const seen = new Set<string>();
  return (specific.length ? specific : errors).filter((e) => {
    const key = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown key '${String(p.additionalProperty)}'`;
    case 'required':
      return `missing required key '${String(p.missingProperty)}'`;
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'type':
      return `must be ${String(p.type)}`;
    case 'pattern':
      return `must match ${String(p.pattern)}${e.parentSchema?.description ? ` (${String(e.parentSchema.description)})` : ''}`;
    default:
      return e.message ?? e.keyword;
  }
}
