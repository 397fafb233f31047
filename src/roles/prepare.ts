import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Secret } from '../core/secret.js';
import type { CertificateArgs } from '../ops/certificate.js';
import type { CommandArgs } from '../ops/command.js';
import type { DirectoryArgs } from '../ops/directory.js';
import type { FileArgs } from '../ops/file.js';
import type { PackageArgs } from '../ops/package.js';
import type { PatroniApi } from '../facts/patroni.js';
import type { PatroniConfigArgs, PatroniRolloutArgs } from '../ops/patroni.js';
import type { ServiceArgs } from '../ops/service.js';
import type { GroupArgs, UserArgs } from '../ops/user.js';
import type { ModuleName } from './model.js';
import { isTemplated, renderTemplate } from './render.js';

/** TLS material for one host, from the controller's PKI. */
export interface HostTls {
  /** What the host trusts: the cluster's CA (two, one after the other, while the CA is being rotated). */
  caPem: string;
  certPem: string;
  keyPem: Secret;
  /** Other ca.crt contents the host may hold without being foreign (a CA rotation's earlier or later step). */
  acceptedCaPems?: readonly string[];
}

/** What preparing a task may read: variables, shipped templates and files, and the PKI. All in memory. */
export interface PrepareEnv {
  host: string;
  vars: Record<string, unknown>;
  /** templates/<path> -> text */
  templates: ReadonlyMap<string, string>;
  /** roles/<role>/files/<path> -> text, keyed `<role>/<path>` */
  files: ReadonlyMap<string, string>;
  role: string;
  tls(host: string): HostTls;
}

/** The operation a module runs, and its typed arguments for this host. */
export interface Prepared {
  module: Exclude<ModuleName, 'template' | 'copy'>;
  args: unknown;
}

/** Renders {{ variables }} in every string argument. */
export function renderArgs(
  args: Record<string, unknown>,
  vars: Record<string, unknown>,
  key: string,
): Record<string, unknown> {
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'string') return isTemplated(v) ? renderTemplate(`${key}:${path}`, v, vars) : v;
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}.${i}`));
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, `${path}.${k}`)]));
    }
    return v;
  };
  return walk(args, '') as Record<string, unknown>;
}

const mode = (m: unknown, fallback: string): string => String(m ?? fallback).padStart(4, '0');
const str = (v: unknown): string => String(v);
const opt = (v: unknown): string | undefined => (v === undefined ? undefined : String(v));
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : [String(v)]);

/** Maps a module's rendered YAML arguments to its operation's typed arguments. */
export function prepareModule(module: ModuleName, a: Record<string, unknown>, env: PrepareEnv): Prepared {
  const owner = str(a.owner ?? 'root');
  const group = str(a.group ?? a.owner ?? 'root');
  switch (module) {
    case 'package':
      return {
        module,
        args: {
          names: list(a.name),
          state: (a.state as PackageArgs['state']) ?? 'present',
          cacheValidSeconds: Number(a.cache_valid_time ?? 3600),
          startServices: a.start_services !== false,
        } satisfies PackageArgs,
      };
    case 'directory':
      return {
        module,
        args: { path: str(a.path), owner, group, mode: mode(a.mode, '0755') } satisfies DirectoryArgs,
      };
    case 'file':
      return { module, args: fileArgs(a, str(a.content), owner, group) };
    case 'template': {
      const src = str(a.src);
      const text = env.templates.get(src);
      if (text === undefined) throw new Error(`template ${src} not found under templates/`);
      return { module: 'file', args: fileArgs(a, renderTemplate(src, text, env.vars), owner, group) };
    }
    case 'copy': {
      const text = env.files.get(`${env.role}/${str(a.src)}`);
      if (text === undefined) throw new Error(`file ${str(a.src)} not found under roles/${env.role}/files/`);
      return { module: 'file', args: fileArgs(a, text, owner, group) };
    }
    case 'user':
      return {
        module,
        args: {
          name: str(a.name),
          system: a.system === true,
          ...(a.home ? { home: str(a.home) } : {}),
          ...(a.shell ? { shell: str(a.shell) } : {}),
          groups: a.groups ? list(a.groups) : [],
        } satisfies UserArgs,
      };
    case 'group':
      return { module, args: { name: str(a.name), system: a.system === true } satisfies GroupArgs };
    case 'service':
      return {
        module,
        args: {
          name: str(a.name),
          ...(a.state ? { state: a.state as ServiceArgs['state'] } : {}),
          ...(typeof a.enabled === 'boolean' ? { enabled: a.enabled } : {}),
          ...(a.reload_command ? { reloadCommand: str(a.reload_command) } : {}),
        } satisfies ServiceArgs,
      };
    case 'command':
      return {
        module,
        args: {
          cmd: str(a.cmd),
          ...(a.creates ? { creates: str(a.creates) } : {}),
          ...(a.unless ? { unless: str(a.unless) } : {}),
        } satisfies CommandArgs,
      };
    case 'patroni_config': {
      const { api, rendered } = patroniApi(a, env);
      const settings = str(a.key)
        .split('.')
        .reduce<unknown>(
          (node, k) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[k] : undefined),
          rendered,
        );
      if (!settings || typeof settings !== 'object' || Array.isArray(settings))
        throw new Error(`${str(a.src)} has no section ${str(a.key)} (a map of settings)`);
      return {
        module,
        args: { api, settings: settings as Record<string, unknown> } satisfies PatroniConfigArgs,
      };
    }
    case 'patroni_rollout':
      return {
        module,
        args: { api: patroniApi(a, env).api, timeout: Number(a.timeout ?? 300) } satisfies PatroniRolloutArgs,
      };
    case 'certificate': {
      const tls = env.tls(env.host);
      const dir = str(a.dir);
      const name = opt(a.name) ?? env.host;
      const file = (path: string, content: string | Secret, m: string): FileArgs => ({
        path,
        content,
        owner,
        group,
        mode: m,
      });
      const ca = file(join(dir, 'ca.crt'), tls.caPem, '0644');
      return {
        module,
        args: {
          label: `${env.host} in ${dir}`,
          caPath: ca.path,
          replaceCa: env.vars.pgprov_replace_ca === true,
          ...(tls.acceptedCaPems ? { acceptedCaPems: tls.acceptedCaPems } : {}),
          files:
            a.ca_only === true
              ? [ca]
              : [
                  ca,
                  file(join(dir, `${name}.crt`), tls.certPem, '0644'),
                  file(join(dir, `${name}.key`), tls.keyPem, '0600'),
                ],
        } satisfies CertificateArgs,
      };
    }
  }
}

/**
 * How to reach this member's Patroni, read from the same rendered configuration template Patroni runs with
 * (scope, restapi.connect_address, the CA), so the two cannot disagree.
 */
function patroniApi(a: Record<string, unknown>, env: PrepareEnv): { api: PatroniApi; rendered: unknown } {
  const src = str(a.src);
  const text = env.templates.get(src);
  if (text === undefined) throw new Error(`template ${src} not found under templates/`);
  const rendered = parseYaml(renderTemplate(src, text, env.vars)) as {
    scope?: unknown;
    restapi?: { connect_address?: unknown; certfile?: unknown; cafile?: unknown };
    ctl?: { cacert?: unknown };
  };
  const address = rendered?.restapi?.connect_address;
  const cacert = rendered?.ctl?.cacert ?? rendered?.restapi?.cafile;
  if (!rendered?.scope || !address || !cacert)
    throw new Error(`${src} needs scope, restapi.connect_address and ctl.cacert (or restapi.cafile)`);
  return {
    rendered,
    api: {
      config: str(a.config ?? '/etc/patroni/config.yml'),
      url: `${rendered.restapi?.certfile ? 'https' : 'http'}://${str(address)}`,
      cacert: str(cacert),
      cluster: str(rendered.scope),
    },
  };
}

function fileArgs(a: Record<string, unknown>, content: string, owner: string, group: string): FileArgs {
  return {
    path: str(a.dest),
    content,
    owner,
    group,
    mode: mode(a.mode, '0644'),
    ...(a.validate ? { validate: str(a.validate) } : {}),
  };
}
