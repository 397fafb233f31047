/**
 * Subject alternative names: which names and addresses a host's certificate must carry, and how two sets differ.
 * Pure.
 */
import { isIP } from 'node:net';

/** DNS names (lower case) and IP addresses (canonical form), each sorted and without duplicates. */
export interface SanSet {
  dnsNames: string[];
  ipAddresses: string[];
}

export interface PkiHost {
  /** Inventory host name; also the certificate's common name and file name. */
  name: string;
  /** The address pgprov connects to: an IP address, or a DNS name. */
  address: string;
  /** More names or addresses clients use for this host (a public name, a second interface). */
  extraNames?: readonly string[];
}

/** Names every host certificate carries, so local clients (patronictl, pg_isready, etcdctl) verify too. */
export const LOCAL_NAMES: readonly string[] = ['localhost', '127.0.0.1'];

/** The canonical text of an IP address (`::0001` -> `::1`), or undefined if it is not one. */
export function normalizeIp(text: string): string | undefined {
  const version = isIP(text);
  if (version === 4) return text.split('.').map(Number).join('.');
  if (version === 6) return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  return undefined;
}

/** Sorts a list of names or addresses into a SanSet, putting each where it belongs. */
export function toSanSet(values: Iterable<string>): SanSet {
  const dns = new Set<string>();
  const ips = new Set<string>();
  for (const value of values) {
    const ip = normalizeIp(value);
    if (ip === undefined) dns.add(value.toLowerCase());
    else ips.add(ip);
  }
  return { dnsNames: [...dns].sort(), ipAddresses: [...ips].sort() };
}

/** The SANs a host's certificate must carry: its name, its address, the local names and any extra names. */
export function hostSans(host: PkiHost): SanSet {
  return toSanSet([host.name, host.address, ...LOCAL_NAMES, ...(host.extraNames ?? [])]);
}

export interface SanDiff {
  addedNames: string[];
  removedNames: string[];
  addedAddresses: string[];
  removedAddresses: string[];
}

/** What changes from `current` (what a certificate carries) to `wanted`; undefined when nothing does. */
export function diffSans(current: SanSet, wanted: SanSet): SanDiff | undefined {
  const minus = (a: string[], b: string[]): string[] => a.filter((x) => !b.includes(x));
  const diff: SanDiff = {
    addedNames: minus(wanted.dnsNames, current.dnsNames),
    removedNames: minus(current.dnsNames, wanted.dnsNames),
    addedAddresses: minus(wanted.ipAddresses, current.ipAddresses),
    removedAddresses: minus(current.ipAddresses, wanted.ipAddresses),
  };
  return Object.values(diff).some((list) => list.length > 0) ? diff : undefined;
}

/** The difference as a phrase: "address changed 10.0.0.1 -> 10.0.0.5", "name db1 added; name pg1 removed". */
export function describeSanDiff(diff: SanDiff): string {
  const parts: string[] = [];
  const pair = (one: string, many: string, added: string[], removed: string[]): void => {
    if (added.length === 1 && removed.length === 1) {
      parts.push(`${one} changed ${removed[0]} -> ${added[0]}`);
      return;
    }
    const list = (xs: string[]): string => `${xs.length > 1 ? many : one} ${xs.join(', ')}`;
    if (added.length > 0) parts.push(`${list(added)} added`);
    if (removed.length > 0) parts.push(`${list(removed)} removed`);
  };
  pair('address', 'addresses', diff.addedAddresses, diff.removedAddresses);
  pair('name', 'names', diff.addedNames, diff.removedNames);
  return parts.join('; ');
}
