import { isDeepStrictEqual } from 'node:util';
import Handlebars from 'handlebars';
import { isSecret } from '../core/secret.js';

/**
 * Templates are rendered on the controller with Handlebars in strict mode (a missing variable is an error, not an
 * empty string) and without HTML escaping (these are config files, not web pages).
 */
const hb = Handlebars.create();

// Strict mode checks plain {{var}} lookups but not the arguments of helpers: `{{#each missing}}` would render
// nothing. Every built-in block helper and ours refuse an undefined argument instead.
type HelperOptions = { loc?: { start?: { line?: number; column?: number } }; name?: string };
const strictArgs = (name: string, helper: (...args: unknown[]) => unknown) =>
  function (this: unknown, ...args: unknown[]): unknown {
    const options = args[args.length - 1] as HelperOptions;
    if (args.slice(0, -1).some((a) => a === undefined)) {
      const at = options?.loc?.start;
      throw new Error(`"${name}" argument not defined${at?.line ? ` - ${at.line}:${at.column ?? 0}` : ''}`);
    }
    return helper.apply(this, args);
  };
for (const name of ['each', 'if', 'unless', 'with']) {
  hb.registerHelper(name, strictArgs(name, hb.helpers[name] as (...args: unknown[]) => unknown));
}

hb.registerHelper(
  'join',
  strictArgs('join', (items: unknown, separator: unknown) =>
    Array.isArray(items) ? items.join(typeof separator === 'string' ? separator : ',') : '',
  ),
);
hb.registerHelper(
  'eq',
  strictArgs('eq', (a: unknown, b: unknown) => a === b),
);
hb.registerHelper(
  'or',
  strictArgs('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean)),
);
// `(has groups.postgres_cluster name)`: the list holds that value, or a host of that name.
hb.registerHelper(
  'has',
  strictArgs('has', (items: unknown, value: unknown) =>
    Array.isArray(items)
      ? items.some(
          (x) => x === value || (typeof x === 'object' && x !== null && 'name' in x && x.name === value),
        )
      : false,
  ),
);
hb.registerHelper(
  'json',
  strictArgs('json', (value: unknown) => JSON.stringify(value)),
);
hb.registerHelper('lookup_or', (obj: unknown, key: unknown, fallback: unknown) =>
  obj && typeof obj === 'object' && typeof key === 'string' && key in obj
    ? (obj as Record<string, unknown>)[key]
    : fallback,
);

const cache = new Map<string, HandlebarsTemplateDelegate>();

/** A template problem: where (line, column if known) and what. */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
  }
}

/** Renders template text with variables; Secrets inside the variables are revealed (callers mask output). */
export function renderTemplate(key: string, text: string, vars: Record<string, unknown>): string {
  return renderRevealed(key, text, revealAll(vars));
}

/** renderTemplate with the variables' secrets already revealed (revealAll): one reveal for many renders. */
function renderRevealed(key: string, text: string, revealed: unknown): string {
  let template = cache.get(key);
  try {
    if (!template) {
      template = hb.compile(text, { strict: true, noEscape: true });
      cache.set(key, template);
    }
    return template(revealed);
  } catch (error) {
    const message = (error as Error).message;
    const pos = /(?:on line (\d+)|- (\d+):(\d+))/.exec(message);
    const line = pos ? Number(pos[1] ?? pos[2]) : undefined;
    const column = pos?.[3] ? Number(pos[3]) + 1 : undefined;
    const what = /"([^"]+)" not defined/.exec(message);
    const helperArg = /"([^"]+)" argument not defined/.exec(message);
    throw new TemplateError(
      helperArg
        ? `a variable given to {{${helperArg[1] === 'each' || helperArg[1] === 'if' || helperArg[1] === 'unless' || helperArg[1] === 'with' ? '#' : ''}${helperArg[1]}}} is not defined`
        : what
          ? `variable '${what[1]}' is not defined`
          : (message.split('\n')[0] ?? message),
      line,
      column,
    );
  }
}

/** Whether a string holds template syntax and so needs rendering. */
export const isTemplated = (text: string): boolean => text.includes('{{');

function revealAll(value: unknown): unknown {
  if (isSecret(value)) return value.reveal();
  if (Array.isArray(value)) return value.map(revealAll);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revealAll(v)]));
  }
  return value;
}

/**
 * Variables may refer to other variables (`etcd_data_dir: /var/lib/etcd/{{cluster_name}}`), as in Ansible.
 * Every round renders each variable's own text again with the previous round's values, until nothing changes: a
 * condition on a variable that is itself still a template (`{{#if other}}`, where `other` renders empty) is decided
 * again once that variable is resolved, instead of staying decided on the template's text. A cycle or a missing
 * variable is an error naming the variable.
 */
export function resolveVarReferences(vars: Record<string, unknown>): Record<string, unknown> {
  let current = vars;
  for (let round = 0; round < 10; round++) {
    let changed = false;
    const next: Record<string, unknown> = {};
    const revealed = revealAll(current);
    for (const [name, value] of Object.entries(vars)) {
      next[name] = mapStrings(value, (text) => {
        if (!isTemplated(text)) return text;
        try {
          return renderRevealed(`var:${text}`, text, revealed);
        } catch (error) {
          throw new TemplateError(`in variable '${name}': ${(error as Error).message}`);
        }
      });
      if (!changed && !isDeepStrictEqual(next[name], current[name])) changed = true;
    }
    current = next;
    if (!changed) return current;
  }
  throw new TemplateError('variables refer to each other in a cycle');
}

function mapStrings(value: unknown, fn: (text: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  }
  return value;
}
