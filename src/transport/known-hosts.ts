/**
 * known_hosts in OpenSSH format: parsing, matching a host (plain, wildcard, negated and hashed `|1|` names),
 * fingerprints and the decision for a presented host key. Pure: the file is read and written by
 * known-hosts-store.ts.
 */
import { createHash, createHmac } from 'node:crypto';
import { HostKeyError } from '../core/errors.js';

export interface KnownHostEntry {
  /** 1-based line number in the file. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** The host patterns field as written: `a,b`, `[a]:2222`, `|1|salt|hash`. */
  hosts: string;
  keyType: string;
  /** The key blob, base64. */
  key: string;
}

/** A host key as presented by a server: its type and blob (base64). */
export interface HostKey {
  type: string;
  key: string;
}

export type HostKeyCheck =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'unknown' }
  | { status: 'changed'; expected: KnownHostEntry[] }
  | { status: 'revoked'; entry: KnownHostEntry };

/** Lines that are not entries (blank, comments, malformed) are skipped; they stay in the file untouched. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return;
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields[0] === '@revoked' ? 'revoked' : 'cert-authority';
      fields.shift();
    } else if (fields[0].startsWith('@')) return;
    const [hosts, keyType, key] = fields;
    if (hosts === undefined || keyType === undefined || key === undefined) return;
    entries.push({ line: index + 1, ...(marker ? { marker } : {}), hosts, keyType, key });
  });
  return entries;
}

/** The name a host has in known_hosts: `address` on port 22, `[address]:port` otherwise, as OpenSSH writes it. */
export function knownHostsName(address: string, port: number): string {
  const host = address.toLowerCase();
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Whether a hosts field matches a name, with OpenSSH's rules: any pattern matches and no negated one does. */
export function hostMatches(hosts: string, name: string): boolean {
  const wanted = name.toLowerCase();
  if (hosts.startsWith('|1|')) return hashedMatches(hosts, wanted);
  let matched = false;
  for (const pattern of hosts.toLowerCase().split(',')) {
    const negated = pattern.startsWith('!');
    if (!globMatches(negated ? pattern.slice(1) : pattern, wanted)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function hashedMatches(field: string, name: string): boolean {
  const [, , salt, hash] = field.split('|');
  if (!salt || !hash) return false;
  const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return digest === hash;
}

function globMatches(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === name;
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`).test(name);
}

/** OpenSSH-style fingerprint of a key blob: `SHA256:` and the unpadded base64 of its SHA-256. */
export function fingerprint(key: string | Buffer): string {
  const blob = typeof key === 'string' ? Buffer.from(key, 'base64') : key;
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Reads the key type from the start of an SSH public key blob (a uint32 length, then the type name). */
export function hostKeyFromBlob(blob: Buffer): HostKey {
  if (blob.length < 4) throw new Error('host key blob too short');
  const length = blob.readUInt32BE(0);
  if (length > blob.length - 4) throw new Error('host key blob has a bad type length');
  return { type: blob.subarray(4, 4 + length).toString('latin1'), key: blob.toString('base64') };
}

/**
 * The decision for a key presented by a host. A host known with keys of other types only is treated as
 * changed: the client offers the known types first, so a server presenting another type no longer has the key
 * we recorded (or is not the same server).
 */
export function checkHostKey(
  entries: readonly KnownHostEntry[],
  name: string,
  presented: HostKey,
): HostKeyCheck {
  const forHost = entries.filter((e) => e.marker !== 'cert-authority' && hostMatches(e.hosts, name));
  const revoked = forHost.find((e) => e.marker === 'revoked' && e.key === presented.key);
  if (revoked) return { status: 'revoked', entry: revoked };
  const keys = forHost.filter((e) => e.marker === undefined);
  const known = keys.find((e) => e.keyType === presented.type && e.key === presented.key);
  if (known) return { status: 'known', entry: known };
  if (keys.length === 0) return { status: 'unknown' };
  const sameType = keys.filter((e) => e.keyType === presented.type);
  return { status: 'changed', expected: sameType.length > 0 ? sameType : keys };
}

/** The line recorded on first contact. */
export function knownHostsLine(name: string, key: HostKey): string {
  return `${name} ${key.type} ${key.key}\n`;
}

const ALGORITHMS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256'],
};

/** Host key algorithms to offer, most preferred first: the types already known for this host lead. */
export function hostKeyAlgorithms(entries: readonly KnownHostEntry[], name: string): string[] {
  const known = entries
    .filter((e) => e.marker === undefined && hostMatches(e.hosts, name))
    .flatMap((e) => ALGORITHMS[e.keyType] ?? []);
  const all = Object.values(ALGORITHMS).flat();
  return [...new Set([...known, ...all])];
}

export interface HostKeyContext {
  /** Inventory name of the host. */
  host: string;
  address: string;
  port: number;
  file: string;
}

/** The error for a host whose key is not the recorded one. Never thrown for `known` or `unknown`. */
export function hostKeyError(check: HostKeyCheck, presented: HostKey, context: HostKeyContext): HostKeyError {
  const { host, address, port, file } = context;
  const name = knownHostsName(address, port);
  const shown = `${presented.type} ${fingerprint(presented.key)}`;
  const remove = `ssh-keygen -R '${name}' -f '${file}'`;
  if (check.status === 'revoked') {
    return new HostKeyError(
      host,
      `${address}:${port} presented the host key ${shown}, which ${file}:${check.entry.line} marks as revoked; refusing to connect`,
      { hint: `give the host a new host key; the revoked one must not be trusted again` },
    );
  }
  if (check.status !== 'changed') throw new Error(`no host key error for a ${check.status} key`);
  const expected = check.expected
    .map((e) => `${e.keyType} ${fingerprint(e.key)} (${file}:${e.line})`)
    .join(', ');
  return new HostKeyError(
    host,
    `the host key of ${address}:${port} has changed: expected ${expected}, but the host presented ${shown}. ` +
      'Someone could be intercepting the connection (man-in-the-middle), or the host was reinstalled; ' +
      'refusing to connect',
    {
      hint:
        `if the change is expected (host reinstalled or its keys regenerated), remove the old entry with ` +
        `\`${remove}\` and run again to record the new key`,
    },
  );
}
