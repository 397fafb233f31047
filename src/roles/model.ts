import type { SourceLocation } from '../core/errors.js';

export const MODULES = [
  'package',
  'directory',
  'file',
  'template',
  'copy',
  'user',
  'group',
  'service',
  'command',
  'certificate',
  'patroni_config',
  'patroni_rollout',
] as const;

export type ModuleName = (typeof MODULES)[number];

/** One task of a role as written in YAML, validated but not yet rendered for a host. */
export interface Task {
  role: string;
  name: string;
  module: ModuleName;
  /** The module's arguments as written; strings may hold {{ variables }}. */
  args: Record<string, unknown>;
  /** Tags as written plus the role's name and its phase's name (added when the phase is built). */
  tags: string[];
  notify: string[];
  when?: string;
  /** Execution option, kept apart from arguments: run this task with sudo (default: the host's become). */
  become?: boolean;
  /** Execution option: at most this many hosts execute this task's steps at once (1 = rolling). */
  throttle?: number;
  /**
   * Execution option: run on one host of the phase only (the first in inventory order that has not failed), after
   * every host has finished the phase's other tasks and handlers: for work on the cluster as a whole.
   */
  runOnce?: boolean;
  source: SourceLocation;
}

/** A secret a role needs: generated on first apply unless the inventory, environment or a file gives it. */
export interface SecretDeclaration {
  name: string;
  description: string;
  role: string;
  /** A password of a role inside PostgreSQL: a standby cluster takes its primary's (its data is a copy). */
  in_database?: boolean;
}

export interface Role {
  name: string;
  tasks: Task[];
  handlers: Task[];
  defaults: Record<string, unknown>;
  /** Codename -> what differs on that release (roles/<role>/platforms/<codename>.yaml), over the defaults. */
  platformDefaults: Record<string, Record<string, unknown>>;
  secrets: SecretDeclaration[];
}

/** A release pgprov deploys on (roles/platforms.yaml). */
export interface Platform {
  /** os-release's VERSION_CODENAME: `bookworm`. */
  codename: string;
  /** For messages: `Debian 12`. */
  name: string;
  /** os-release's VERSION_ID: `12`. */
  version: string;
}

/** A phase runs some roles on one inventory group; phases run in order. */
export interface Phase {
  name: string;
  hosts: string;
  roles: string[];
  /** More tags that select the phase besides its name (phases that belong together share one). */
  tags: string[];
}

/** Everything pgprov ships: phases, roles and the templates folder. */
export interface Project {
  root: string;
  phases: Phase[];
  roles: Map<string, Role>;
  /** Supported releases, oldest first. */
  platforms: Platform[];
  templatesDir: string;
}
