import { isDeepStrictEqual } from 'node:util';
import {
  CONNECTION_FIELDS,
  CONNECTION_VARS,
  KNOWN_HOSTS_VAR,
  namesOf,
  UNSUPPORTED_ANSIBLE_VARS,
} from '../known-vars.js';
import type { FoundVar } from '../precedence.js';
import { describe } from '../schema.js';
import { hostKey, issueAt, type Rule } from './rule.js';

/** Rules about how pgprov reaches hosts: impossible or ambiguous connection settings. */

/** Two hosts connecting to the same address and port are one machine configured twice. */
export const addressesUnique: Rule = ({ hosts }) => {
  const seen = new Map<string, string>();
  return hosts.flatMap((host) => {
    const { address, port } = host.connection;
    const key = `${address.toLowerCase()}:${port}`;
    const other = seen.get(key);
    if (other === undefined) {
      seen.set(key, host.name);
      return [];
    }
    const found = host.origins.address;
    const at = found
      ? { origin: found.layer.origin, below: [found.name] }
      : { origin: hostKey(host), below: [] };
    if (!at.origin) return [];
    return [
      issueAt(
        at.origin,
        at.below,
        found ? 'value' : 'key',
        `hosts ${other} and ${host.name} both connect to ${address}:${port}`,
        `give ${host.name} its own ansible_host (or ansible_port); if it is ${other} under another name, list ${other} in its groups instead`,
      ),
    ];
  });
};

/** One map giving a connection setting under both names, with different values. */
export const connectionNamesAgree: Rule = ({ layers }) =>
  layers.flatMap(({ origin, vars }) =>
    CONNECTION_FIELDS.flatMap((field) => {
      const [ansible, pgprov] = namesOf(field);
      if (!(ansible in vars) || !(pgprov in vars) || isDeepStrictEqual(vars[ansible], vars[pgprov]))
        return [];
      return [
        issueAt(
          origin,
          [pgprov],
          'key',
          `${ansible} (${describe(vars[ansible])}) and ${pgprov} (${describe(vars[pgprov])}) are the same setting but differ`,
          `keep one of the two names`,
        ),
      ];
    }),
  );

/** pgprov installs packages and manages services: it needs root, directly or through sudo. */
export const rootOrBecome: Rule = ({ hosts }) => {
  // One issue per place that turns become off, naming every host it affects.
  const byPlace = new Map<string, { found: FoundVar; user: string; hosts: string[] }>();
  for (const host of hosts) {
    const { user, become } = host.connection;
    const found = host.origins.become;
    if (user === 'root' || become || !found) continue;
    const key = JSON.stringify([found.layer.origin.source.file, found.layer.origin.path, found.name, user]);
    const place = byPlace.get(key) ?? { found, user, hosts: [] };
    place.hosts.push(host.name);
    byPlace.set(key, place);
  }
  return [...byPlace.values()].map(({ found, user, hosts: names }) =>
    issueAt(
      found.layer.origin,
      [found.name],
      'value',
      `${names.length === 1 ? 'host' : 'hosts'} ${names.join(', ')} ${names.length === 1 ? 'logs' : 'log'} in as ${user} ` +
        `with ${found.name}: false, but pgprov must run commands as root`,
      `remove ${found.name} (it defaults to true for users other than root) or log in as root`,
    ),
  );
};

/** ansible_host is a plain IP or DNS name: no user, scheme, port or spaces. */
export const addressIsPlain: Rule = ({ hosts }) =>
  hosts.flatMap((host) => {
    const found = host.origins.address;
    if (!found || typeof found.value !== 'string') return [];
    const problem = addressProblem(found.value);
    if (!problem) return [];
    return [
      issueAt(
        found.layer.origin,
        [found.name],
        'value',
        `${found.name} ${JSON.stringify(found.value)} ${problem.message}`,
        problem.hint,
      ),
    ];
  });

function addressProblem(address: string): { message: string; hint: string } | undefined {
  const { port, user } = CONNECTION_VARS;
  if (/\s/.test(address)) return { message: 'contains spaces', hint: 'give one IP address or DNS name' };
  if (address.includes('://')) return { message: 'is a URL', hint: 'give only the IP address or DNS name' };
  const at = address.indexOf('@');
  if (at >= 0) {
    return {
      message: 'contains a user',
      hint: `set ${user.ansible}: ${address.slice(0, at)} and keep only the address`,
    };
  }
  const hostPort = /^([^:]+):(\d+)$/.exec(address);
  if (hostPort)
    return {
      message: 'contains a port',
      hint: `set ${port.ansible}: ${hostPort[2]} and keep only the address`,
    };
  return undefined;
}

/** A `.pub` key file is the public half: SSH would fail later with a confusing message. */
export const privateKeyIsPrivate: Rule = ({ hosts }) =>
  hosts.flatMap((host) => {
    const found = host.origins.privateKeyFile;
    if (!found || typeof found.value !== 'string' || !found.value.endsWith('.pub')) return [];
    return [
      issueAt(
        found.layer.origin,
        [found.name],
        'value',
        `${found.name} points to a public key (${found.value})`,
        'point it at the private key: the same path without .pub',
      ),
    ];
  });

/** One known_hosts file serves the whole inventory. */
export const knownHostsForWholeInventory: Rule = ({ layers }) =>
  layers.flatMap(({ owner, origin, vars }) => {
    if (
      !(KNOWN_HOSTS_VAR in vars) ||
      owner.kind === 'extra' ||
      (owner.kind === 'group' && owner.name === 'all')
    )
      return [];
    return [
      issueAt(
        origin,
        [KNOWN_HOSTS_VAR],
        'key',
        `${KNOWN_HOSTS_VAR} is set for ${owner.kind} ${owner.name}, but it applies to the whole inventory`,
        'set it under all.vars (or in group_vars/all.yaml)',
      ),
    ];
  });

/** Ansible variables pgprov would otherwise ignore silently. */
export const noUnsupportedAnsibleVars: Rule = ({ layers }) =>
  layers.flatMap(({ origin, vars }) =>
    Object.entries(vars).flatMap(([name, value]) => {
      const unsupported = UNSUPPORTED_ANSIBLE_VARS[name];
      if (!unsupported || ('allowed' in unsupported && unsupported.allowed === value)) return [];
      return [issueAt(origin, [name], 'key', `pgprov does not support ${name}`, unsupported.hint)];
    }),
  );
