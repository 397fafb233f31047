import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, type InputIssue } from '../core/errors.js';
import { schemaValidator, validateSource } from '../core/schema.js';
import { parseYaml, type YamlSource } from '../core/yaml-source.js';
import {
  MODULES,
  type ModuleName,
  type Phase,
  type Platform,
  type Project,
  type Role,
  type Task,
} from './model.js';

/** Where pgprov's own roles/, templates/ and schemas/ live (two levels above this file, in src/ or dist/). */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const HINT_TASK = 'see schemas/role.schema.json for the modules and their arguments';

/** Loads roles/site.yaml and every role it names; all problems are reported together. */
export async function loadProject(
  root = PROJECT_ROOT,
  schemasDir = join(PROJECT_ROOT, 'schemas'),
): Promise<Project> {
  const issues: InputIssue[] = [];
  const sitePath = join(root, 'roles', 'site.yaml');
  const site = await readSource(sitePath, issues);
  const phases: Phase[] = [];
  if (site) {
    issues.push(
      ...validateSource(
        schemaValidator(join(schemasDir, 'site.schema.json')),
        site,
        'each phase needs phase, hosts and roles',
      ),
    );
    if (issues.length === 0) {
      for (const p of site.value as { phase: string; hosts: string; roles: string[]; tags?: string[] }[]) {
        phases.push({ name: p.phase, hosts: p.hosts, roles: p.roles, tags: p.tags ?? [] });
      }
    }
  }
  const platforms = await loadPlatforms(root, schemasDir, issues);
  const roles = new Map<string, Role>();
  for (const name of new Set(phases.flatMap((p) => p.roles))) {
    const role = await loadRole(root, schemasDir, name, platforms, issues);
    if (role) roles.set(name, role);
  }
  if (issues.length > 0) throw new InputError(`pgprov's roles have ${issues.length} problem(s)`, issues);
  return { root, phases, roles, platforms, templatesDir: join(root, 'templates') };
}

async function loadPlatforms(root: string, schemasDir: string, issues: InputIssue[]): Promise<Platform[]> {
  const source = await readSource(join(root, 'roles', 'platforms.yaml'), issues);
  if (!source) return [];
  const found = validateSource(
    schemaValidator(join(schemasDir, 'platforms.schema.json')),
    source,
    'each release needs codename, name and version',
  );
  issues.push(...found);
  return found.length === 0 ? (source.value as Platform[]) : [];
}

/** roles/<role>/platforms/<codename>.yaml: maps of variables, each for a release of roles/platforms.yaml. */
async function loadPlatformDefaults(
  dir: string,
  platforms: readonly Platform[],
  issues: InputIssue[],
): Promise<Role['platformDefaults']> {
  const out: Role['platformDefaults'] = {};
  const folder = join(dir, 'platforms');
  if (!existsSync(folder)) return out;
  for (const file of (await readdir(folder)).sort()) {
    const path = join(folder, file);
    const codename = file.replace(/\.yaml$/, '');
    if (!file.endsWith('.yaml') || !platforms.some((p) => p.codename === codename)) {
      issues.push({
        file: path,
        message: `${file} names no release of roles/platforms.yaml`,
        hint: `name it <codename>.yaml, one of: ${platforms.map((p) => p.codename).join(', ')}`,
      });
      continue;
    }
    const value = await readVarsFile(path, issues);
    if (value) out[codename] = value;
  }
  return out;
}

async function readVarsFile(
  file: string,
  issues: InputIssue[],
): Promise<Record<string, unknown> | undefined> {
  const source = await readSource(file, issues);
  const value = source?.value ?? {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    issues.push({ file, message: 'must be a map of variable: value' });
    return undefined;
  }
  return value as Record<string, unknown>;
}

async function loadRole(
  root: string,
  schemasDir: string,
  name: string,
  platforms: readonly Platform[],
  issues: InputIssue[],
): Promise<Role | undefined> {
  const dir = join(root, 'roles', name);
  if (!existsSync(join(dir, 'tasks.yaml'))) {
    issues.push({
      file: join(root, 'roles', 'site.yaml'),
      message: `role '${name}' has no ${dir}/tasks.yaml`,
    });
    return undefined;
  }
  const tasks = await loadTaskList(root, schemasDir, name, join(dir, 'tasks.yaml'), issues);
  const handlers = existsSync(join(dir, 'handlers.yaml'))
    ? await loadTaskList(root, schemasDir, name, join(dir, 'handlers.yaml'), issues)
    : [];
  const defaults = existsSync(join(dir, 'defaults.yaml'))
    ? ((await readVarsFile(join(dir, 'defaults.yaml'), issues)) ?? {})
    : {};
  const platformDefaults = await loadPlatformDefaults(dir, platforms, issues);
  const secrets: Role['secrets'] = [];
  if (existsSync(join(dir, 'secrets.yaml'))) {
    const source = await readSource(join(dir, 'secrets.yaml'), issues);
    if (source) {
      const found = validateSource(
        schemaValidator(join(schemasDir, 'secrets.schema.json')),
        source,
        'each secret needs a name (lower_snake_case) and a description',
      );
      issues.push(...found);
      if (found.length === 0 && Array.isArray(source.value)) {
        for (const s of source.value as { name: string; description: string; in_database?: boolean }[])
          secrets.push({ ...s, role: name });
      }
    }
  }
  issues.push(...runOnceIssues(name, tasks, handlers));
  const handlerNames = new Set(handlers.map((h) => h.name));
  for (const task of tasks) {
    for (const n of task.notify) {
      if (!handlerNames.has(n)) {
        issues.push({
          ...task.source,
          message: `task '${task.name}' notifies '${n}', which is not a handler of role ${name}`,
          hint: `define it in roles/${name}/handlers.yaml or fix the name (known: ${[...handlerNames].join(', ') || 'none'})`,
        });
      }
    }
  }
  return { name, tasks, handlers, defaults, platformDefaults, secrets };
}

/**
 * `run_once` tasks run after the whole phase, so a role lists them last: the file reads in the order things
 * happen. Handlers run per host and cannot be run_once.
 */
function runOnceIssues(role: string, tasks: Task[], handlers: Task[]): InputIssue[] {
  const issues: InputIssue[] = [];
  const firstOnce = tasks.findIndex((t) => t.runOnce);
  if (firstOnce >= 0) {
    for (const t of tasks.slice(firstOnce + 1).filter((x) => !x.runOnce)) {
      issues.push({
        ...t.source,
        message: `task '${t.name}' of role ${role} follows the run_once task '${tasks[firstOnce]?.name}'`,
        hint: 'run_once tasks run after every host has finished the phase: move them to the end of tasks.yaml',
      });
    }
  }
  for (const h of handlers.filter((x) => x.runOnce)) {
    issues.push({
      ...h.source,
      message: `handler '${h.name}' of role ${role} is run_once`,
      hint: 'handlers run on each host that notified them; make the work a run_once task at the end of tasks.yaml',
    });
  }
  return issues;
}

async function loadTaskList(
  root: string,
  schemasDir: string,
  role: string,
  file: string,
  issues: InputIssue[],
): Promise<Task[]> {
  const source = await readSource(file, issues);
  if (!source) return [];
  const schemaIssues = validateSource(
    schemaValidator(join(schemasDir, 'role.schema.json')),
    source,
    HINT_TASK,
  );
  issues.push(...schemaIssues);
  if (schemaIssues.length > 0 || !Array.isArray(source.value)) return [];
  const tasks: Task[] = [];
  source.value.forEach((raw: Record<string, unknown>, index: number) => {
    const location = source.locate([index]);
    const modules = Object.keys(raw).filter((k): k is ModuleName =>
      (MODULES as readonly string[]).includes(k),
    );
    if (modules.length !== 1) {
      issues.push({
        ...location,
        path: String(index),
        message: `task '${String(raw.name)}' names ${modules.length === 0 ? 'no module' : `${modules.length} modules (${modules.join(', ')})`}`,
        hint: `give exactly one of: ${MODULES.join(', ')}`,
      });
      return;
    }
    const module = modules[0] as ModuleName;
    if (
      (module === 'template' || module === 'copy') &&
      typeof (raw[module] as { src?: unknown }).src === 'string'
    ) {
      const src = (raw[module] as { src: string }).src;
      const base = module === 'template' ? join(root, 'templates') : join(root, 'roles', role, 'files');
      if (!src.includes('{{') && !existsSync(join(base, src))) {
        issues.push({
          ...source.locate([index, module, 'src']),
          message: `${module} source ${join(base, src)} does not exist`,
        });
      }
    }
    tasks.push({
      role,
      name: raw.name as string,
      module,
      args: raw[module] as Record<string, unknown>,
      tags: list(raw.tags),
      notify: list(raw.notify),
      ...(typeof raw.when === 'string' ? { when: raw.when } : {}),
      ...(typeof raw.become === 'boolean' ? { become: raw.become } : {}),
      ...(typeof raw.throttle === 'number' ? { throttle: raw.throttle } : {}),
      ...(raw.run_once === true ? { runOnce: true } : {}),
      source: location,
    });
  });
  return tasks;
}

async function readSource(file: string, issues: InputIssue[]): Promise<YamlSource | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    issues.push({ file, message: `cannot read: ${(error as Error).message}` });
    return undefined;
  }
  const parsed = parseYaml(file, text);
  issues.push(...parsed.issues);
  return parsed.source;
}

const list = (v: unknown): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)];
