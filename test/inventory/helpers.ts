import { expect } from 'vitest';
import type { InputIssue } from '../../src/core/errors.js';
import type { Inventory, Vars } from '../../src/inventory/model.js';
import { validateInventory, type VarsText } from '../../src/inventory/validate.js';

export const FILE = '/srv/pgprov/inventory/test.yaml';
export const HOME = '/home/tester';

export interface Extra {
  groupVars?: Record<string, string>;
  hostVars?: Record<string, string>;
  extraVars?: Vars;
}

/** `group_vars/etcd_cluster.yaml` -> a VarsText named `etcd_cluster` beside FILE (`x/a.yaml` -> named `x`). */
function varsTexts(folder: string, files: Record<string, string> = {}): VarsText[] {
  return Object.entries(files).map(([path, text]) => ({
    name: path.split('/')[0]?.replace(/\.ya?ml$/, '') ?? path,
    file: `/srv/pgprov/inventory/${folder}/${path}`,
    text,
  }));
}

/** Runs every pure stage on YAML text. */
export function check(text: string, extra: Extra = {}) {
  return validateInventory({
    file: FILE,
    text,
    groupVars: varsTexts('group_vars', extra.groupVars),
    hostVars: varsTexts('host_vars', extra.hostVars),
    ...(extra.extraVars ? { extraVars: extra.extraVars } : {}),
    homeDir: HOME,
  });
}

/** The inventory, failing the test (with the issues) if it is not valid. */
export function valid(text: string, extra: Extra = {}): Inventory {
  const result = check(text, extra);
  if (!result.ok) expect.fail(`expected a valid inventory, got:\n${result.issues.map(show).join('\n')}`);
  return result.value;
}

/** The issues, failing the test if the inventory is valid. */
export function issues(text: string, extra: Extra = {}): InputIssue[] {
  const result = check(text, extra);
  if (result.ok) expect.fail('expected issues, the inventory is valid');
  return result.issues;
}

/** An issue as one line, roughly as a person reads it: `file:line:column path: message (hint)`. */
export function show(issue: InputIssue): string {
  const where = [issue.file, issue.line, issue.column].filter((p) => p !== undefined).join(':');
  return `${where}${issue.path ? ` ${issue.path}` : ''}: ${issue.message}${issue.hint ? ` (${issue.hint})` : ''}`;
}

/** Trims a YAML template literal's common indentation. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = strings.reduce((out, s, i) => out + s + (i < values.length ? String(values[i]) : ''), '');
  const lines = text.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)?.[0].length ?? 0));
  return lines.map((l) => l.slice(indent)).join('\n');
}

/** A valid three-host inventory to start from. */
export const THREE_HOSTS = yaml`
  all:
    hosts:
      pg1:
        ansible_host: 10.0.0.11
      pg2:
        ansible_host: 10.0.0.12
      pg3:
        ansible_host: 10.0.0.13
    children:
      etcd_cluster:
        hosts:
          pg1:
          pg2:
          pg3:
      postgres_cluster:
        hosts:
          pg1:
          pg2:
          pg3:
`;
