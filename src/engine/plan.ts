import { InputError, type InputIssue, UsageError } from '../core/errors.js';
import { Masker, type Secret } from '../core/secret.js';
import type { Inventory, InventoryHost, Vars } from '../inventory/model.js';
import { mergeVars } from '../inventory/precedence.js';
import type { Operation } from '../ops/operation.js';
import { operations } from '../ops/registry.js';
import type { Phase, Platform, Project, Task } from '../roles/model.js';
import { type HostTls, prepareModule, renderArgs } from '../roles/prepare.js';
import { resolveVarReferences } from '../roles/render.js';
import { evaluateWhen, lookupIn } from '../roles/when.js';

/** A task made concrete for one host: its operation and typed arguments. */
export interface HostTask {
  name: string;
  role: string;
  op: Operation<unknown>;
  args: unknown;
  notify: string[];
  become?: boolean;
  task: Task;
}

export interface HostPlan {
  host: InventoryHost;
  tasks: HostTask[];
  /** run_once tasks, made for this host in case it is the one that runs them (see applyPlan). */
  once: HostTask[];
  /** Handlers by name, ready to run when notified. */
  handlers: Map<string, HostTask>;
}

export interface PhasePlan {
  name: string;
  hosts: HostPlan[];
}

export interface RunPlan {
  phases: PhasePlan[];
  /** Every host that takes part, in inventory order. */
  hosts: InventoryHost[];
  /** Masks every secret known to this run. */
  masker: Masker;
}

export interface SelectOptions {
  tags?: string[];
  skipTags?: string[];
  /** Host or group names. */
  limit?: string[];
  extraVars?: Vars;
}

export interface PlanInputs {
  inventory: Inventory;
  project: Project;
  templates: ReadonlyMap<string, string>;
  files: ReadonlyMap<string, string>;
  tls(host: string): HostTls;
  /** Secrets the roles declared, resolved (inventory, environment, file, stored or generated). */
  secrets?: Record<string, Secret>;
  /** Variables the controller derives (a standby's primary): above role defaults, below the inventory's. */
  derived?: Vars;
  /** Each host's release (read from the host before planning); a host not in it plans for the oldest supported. */
  platforms?: ReadonlyMap<string, Platform>;
}

/**
 * Pure: turns inventory + roles + options into the tasks each host will run, phase by phase. Nothing here reads
 * a host; every variable, condition and template is resolved now, so input mistakes stop the run before any
 * host is touched.
 */
export function planRun(inputs: PlanInputs, options: SelectOptions = {}): RunPlan {
  const { inventory, project } = inputs;
  const limited = checkSelection(project, inventory, options);
  const masker = new Masker();
  const secrets = inputs.secrets ?? {};
  const defaults = new Map<string, Vars>();
  const defaultsFor = (platform: Platform): Vars => {
    let d = defaults.get(platform.codename);
    if (!d) defaults.set(platform.codename, (d = roleDefaults(project, platform)));
    return d;
  };
  const issues: InputIssue[] = [];
  const phases: PhasePlan[] = [];

  for (const phase of project.phases) {
    const members = (inventory.groups[phase.hosts] ?? []).filter((h) => limited.has(h));
    const hostPlans: HostPlan[] = [];
    for (const name of members) {
      const host = inventory.hosts.find((h) => h.name === name) as InventoryHost;
      let vars: Vars;
      try {
        const platform = platformOf(inputs, name);
        vars = resolveVarReferences(
          hostVars(inventory, host, {
            defaults: defaultsFor(platform),
            extraVars: options.extraVars ?? {},
            secrets,
            platform,
            ...(inputs.derived ? { derived: inputs.derived } : {}),
          }),
        );
      } catch (error) {
        issues.push({ file: inventory.file, message: `${name}: ${(error as Error).message}` });
        continue;
      }
      masker.collect(vars);
      const make = (task: Task): HostTask | undefined => {
        try {
          const args = renderArgs(task.args, vars, `${task.role}/${task.name}`);
          const prepared = prepareModule(task.module, args, {
            host: name,
            vars,
            templates: inputs.templates,
            files: inputs.files,
            role: task.role,
            tls: inputs.tls,
          });
          const op = operations[prepared.module] as Operation<unknown>;
          return {
            name: task.name,
            role: task.role,
            op,
            args: prepared.args,
            notify: task.notify,
            ...(task.become === undefined ? {} : { become: task.become }),
            task,
          };
        } catch (error) {
          issues.push(taskIssue(task, name, error));
          return undefined;
        }
      };
      const tasks: HostTask[] = [];
      const once: HostTask[] = [];
      const handlers = new Map<string, HostTask>();
      for (const roleName of phase.roles) {
        const role = project.roles.get(roleName);
        if (!role) continue;
        for (const task of role.tasks) {
          if (!selected(task, phase, options)) continue;
          if (task.when !== undefined) {
            try {
              if (!evaluateWhen(task.when, lookupIn(vars))) continue;
            } catch (error) {
              issues.push(taskIssue(task, name, error, `when: ${task.when}`));
              continue;
            }
          }
          const hostTask = make(task);
          if (hostTask) (task.runOnce ? once : tasks).push(hostTask);
        }
        for (const handler of role.handlers) {
          const hostTask = make(handler);
          if (hostTask) handlers.set(handler.name, hostTask);
        }
      }
      if (tasks.length + once.length > 0) hostPlans.push({ host, tasks, once, handlers });
    }
    if (hostPlans.length > 0) phases.push({ name: phase.name, hosts: hostPlans });
  }
  if (issues.length > 0) throw new InputError(`${issues.length} task(s) cannot be prepared`, issues);
  const used = new Set(phases.flatMap((p) => p.hosts.map((h) => h.host.name)));
  return { phases, hosts: inventory.hosts.filter((h) => used.has(h.name)), masker };
}

function platformOf(inputs: PlanInputs, host: string): Platform {
  const platform = inputs.platforms?.get(host) ?? inputs.project.platforms[0];
  if (!platform) throw new Error('internal: roles/platforms.yaml names no release');
  return platform;
}

/**
 * Every role's defaults, merged (role variable names do not collide: each role prefixes its own), then what the
 * roles set for this release (roles/<role>/platforms/<codename>.yaml).
 */
export const roleDefaults = (project: Project, platform?: Platform): Vars => {
  const roles = [...project.roles.values()];
  const forPlatform = platform ? roles.map((r) => r.platformDefaults[platform.codename] ?? {}) : [];
  return Object.assign({}, ...roles.map((r) => r.defaults), ...forPlatform) as Vars;
};

export interface HostVarsInputs {
  /** Role defaults for the host's release (roleDefaults). */
  defaults: Vars;
  extraVars: Vars;
  secrets?: Record<string, Secret>;
  /** Derived by the controller (a standby's primary); the inventory may override them. */
  derived?: Vars;
  /** The host's release: `os_codename`, `os_version`. */
  platform?: Platform;
}

/**
 * Variables a host sees: role defaults (with its release's values) < what the controller derives (a standby's
 * primary) < inventory group and host vars (already
 * layered by the loader) < resolved secrets (the same values, wrapped so they are masked) < extra vars, plus
 * facts about the host and the inventory (`os_codename`, `os_version`, `inventory_hostname`, `groups`).
 */
export function hostVars(inventory: Inventory, host: InventoryHost, inputs: HostVarsInputs): Vars {
  const { defaults, extraVars, secrets = {}, platform, derived = {} } = inputs;
  const groups = Object.fromEntries(
    Object.entries(inventory.groups).map(([g, names]) => [
      g,
      names.map((n) => {
        const h = inventory.hosts.find((x) => x.name === n) as InventoryHost;
        return { name: h.name, address: h.connection.address };
      }),
    ]),
  );
  return {
    ...mergeVars([defaults, derived, host.vars, secrets, extraVars]),
    ...(platform ? { os_codename: platform.codename, os_version: platform.version } : {}),
    inventory_hostname: host.name,
    host: { name: host.name, address: host.connection.address, groups: host.groups },
    groups,
  };
}

function selected(task: Task, phase: Phase, options: SelectOptions): boolean {
  const tags = new Set([...task.tags, task.role, phase.name, ...phase.tags]);
  if (options.tags?.length && !options.tags.some((t) => tags.has(t))) return false;
  if (options.skipTags?.some((t) => tags.has(t))) return false;
  return true;
}

/** All tags a user may select: phase names and tags, role names and every task's tags. */
export function knownTags(project: Project): string[] {
  const tags = new Set<string>();
  for (const phase of project.phases) {
    tags.add(phase.name);
    phase.tags.forEach((t) => tags.add(t));
    for (const r of phase.roles) {
      tags.add(r);
      project.roles.get(r)?.tasks.forEach((t) => t.tags.forEach((x) => tags.add(x)));
    }
  }
  return [...tags].sort();
}

/** Checks --tags, --skip-tags and --limit against the project and inventory; returns the hosts selected. */
export function checkSelection(project: Project, inventory: Inventory, options: SelectOptions): Set<string> {
  checkTags(project, options);
  return limitHosts(inventory, options.limit);
}

function checkTags(project: Project, options: SelectOptions): void {
  const known = new Set(knownTags(project));
  const unknown = [...(options.tags ?? []), ...(options.skipTags ?? [])].filter((t) => !known.has(t));
  if (unknown.length > 0) {
    throw new UsageError(`unknown tag${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, {
      hint: `known tags: ${[...known].join(', ')}`,
    });
  }
}

function limitHosts(inventory: Inventory, limit: string[] | undefined): Set<string> {
  if (!limit?.length) return new Set(inventory.hosts.map((h) => h.name));
  const out = new Set<string>();
  const unknown: string[] = [];
  for (const item of limit) {
    const group = inventory.groups[item];
    if (group) group.forEach((h) => out.add(h));
    else if (inventory.hosts.some((h) => h.name === item)) out.add(item);
    else unknown.push(item);
  }
  if (unknown.length > 0) {
    throw new UsageError(`--limit names no host or group: ${unknown.join(', ')}`, {
      hint: `hosts: ${inventory.hosts.map((h) => h.name).join(', ')}; groups: ${Object.keys(inventory.groups).join(', ')}`,
    });
  }
  return out;
}

function taskIssue(task: Task, host: string, error: unknown, what?: string): InputIssue {
  const e = error as Error & { line?: number; column?: number };
  return {
    ...task.source,
    message: `task '${task.name}' (role ${task.role}) on ${host}: ${what ? `${what}: ` : ''}${e.message}`,
    hint: 'define the variable in the inventory (group or host vars), in the role defaults, or with -e key=value',
  };
}
