import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isScalar, parseDocument } from 'yaml';
import { InputError, type InputIssue } from '../core/errors.js';
import type { Vars } from './model.js';
import { mergeVars } from './precedence.js';
import { checkVarsShape } from './schema.js';
import { commandLineSource, parseSource, type Parsed, type Source } from './source.js';
import { fail } from './validate.js';

/** What parsing `-e` needs from the outside world (parseExtraVars gives the real one; tests a fake). */
export interface ExtraVarsIO {
  /** `@file` paths are relative to it. */
  cwd: string;
  /** Reads a file's text; throws if it cannot. */
  readFile(path: string): string;
}

const FILE = '<command line>';
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FORMS = 'write -e name=value, -e @vars.yaml or -e \'{"name": value}\'';

/**
 * Parses `-e` arguments for the CLI (see parseExtraVarArgs); throws one InputError with every problem. This and
 * load.ts are the only inventory modules that read files (here: `-e @file`, through ExtraVarsIO).
 */
export function parseExtraVars(args: readonly string[], io: ExtraVarsIO = nodeIO()): Vars {
  const result = parseExtraVarArgs(args, io);
  if (result.ok) return result.value;
  const count = result.issues.length === 1 ? '1 problem' : `${result.issues.length} problems`;
  throw new InputError(`${count} in the extra vars (-e)`, result.issues, { hint: FORMS });
}

const nodeIO = (): ExtraVarsIO => ({ cwd: process.cwd(), readFile: (path) => readFileSync(path, 'utf8') });

/**
 * Parses `-e` arguments, later ones winning:
 *   `name=value`  one variable; the value is typed as a YAML scalar (`5432` a number, `"5432"` a string,
 *                 `true` a boolean, `null` null, anything else the text as given, including spaces and further
 *                 `=`: one variable per -e, unlike Ansible's `-e "a=1 b=2"`; `name=` is '').
 *   `@file.yaml`  a YAML (or JSON) map of variables, relative to the current folder.
 *   `{...}`       a YAML flow (or JSON) map of variables.
 * Known pgprov variables are checked against the schema; every problem is reported.
 */
export function parseExtraVarArgs(args: readonly string[], io: ExtraVarsIO): Parsed<Vars> {
  const issues: InputIssue[] = [];
  const maps: Vars[] = [];
  const take = (source: Source, what: string): void => {
    const problems = checkVarsShape(source, what);
    issues.push(...problems);
    if (problems.length === 0) maps.push((source.value ?? {}) as Vars);
  };
  const parseMap = (file: string, text: string, what: string): void => {
    const parsed = parseSource(file, text);
    if (parsed.ok) take(parsed.value, what);
    else issues.push(...parsed.issues);
  };
  for (const arg of args) {
    if (arg.startsWith('@')) {
      const path = resolve(io.cwd, arg.slice(1));
      let text: string;
      try {
        text = io.readFile(path);
      } catch (error) {
        issues.push({
          file: path,
          message: `-e ${arg}: cannot read ${path} (${(error as Error).message})`,
          hint: 'check the path after @; it is relative to the current folder',
        });
        continue;
      }
      parseMap(path, text, arg.slice(1));
    } else if (arg.trimStart().startsWith('{')) {
      parseMap(FILE, arg, `-e ${arg}`);
    } else {
      const eq = arg.indexOf('=');
      const name = arg.slice(0, Math.max(eq, 0));
      if (eq < 0) issues.push({ file: FILE, message: `-e ${arg}: expected name=value`, hint: FORMS });
      else if (!NAME.test(name)) {
        issues.push({
          file: FILE,
          message: `-e ${arg}: "${name}" is not a variable name`,
          hint: 'variable names are letters, digits and _, and start with a letter or _',
        });
      } else take(commandLineSource({ [name]: scalar(arg.slice(eq + 1)) }), `-e ${arg}`);
    }
  }
  return issues.length > 0 ? fail(issues) : { ok: true, value: mergeVars(maps) };
}

const SCALAR_TYPES = new Set(['PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE']);

/** A value typed as a YAML scalar (`'5432'` in quotes is a string); anything else stays the text given. */
export function scalar(text: string): unknown {
  if (text.trim() === '') return text;
  const doc = parseDocument(text);
  const node = doc.contents;
  if (doc.errors.length > 0 || !isScalar(node) || !SCALAR_TYPES.has(node.type ?? '')) return text;
  // `a # b` would lose its comment: only a scalar that spans the whole text is typed.
  return node.range?.[0] === 0 && node.range[1] === text.trimEnd().length ? node.toJSON() : text;
}
