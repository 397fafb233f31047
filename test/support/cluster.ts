import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { parse } from 'yaml';
import { ROOT, onHost } from './lab.js';

const STATE = join(ROOT, 'inventory', '.pgprov', 'lab');

/** A password pgprov generated for the lab (stored in the inventory's state folder). */
export function labSecret(name: string): string {
  const secrets = parse(readFileSync(join(STATE, 'secrets.yaml'), 'utf8')) as Record<string, string>;
  const value = secrets[name];
  if (!value) throw new Error(`no secret ${name} in ${STATE}/secrets.yaml`);
  return value;
}

/** Connects as the application (or admin) role to the lab's virtual IP, verifying the server certificate (verify-full). */
export async function connectVip(
  port: number,
  user: 'app' | 'admin' = 'app',
  host = '10.231.0.10',
  timeouts: { connectTimeoutMs?: number; queryTimeoutMs?: number } = {},
): Promise<pg.Client> {
  const client = new pg.Client({
    host,
    port,
    user,
    database: 'app',
    password: labSecret(`${user}_password`),
    ssl: { ca: readFileSync(join(STATE, 'pki', 'ca.crt'), 'utf8') },
    connectionTimeoutMillis: timeouts.connectTimeoutMs ?? 5_000,
    ...(timeouts.queryTimeoutMs ? { query_timeout: timeouts.queryTimeoutMs } : {}),
  });
  // A connection the server drops (a switchover, a failover) must not crash the test process.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

export interface Member {
  Member: string;
  Role: string;
  State: string;
  TL?: number;
  'Lag in MB'?: number;
}

/** `patronictl list` as data, read on a lab host. */
export async function patroniMembers(host = 'pg1'): Promise<Member[]> {
  const out = await onHost(host, 'patronictl -c /etc/patroni/config.yml list -f json');
  return (JSON.parse(out) as Member[]).sort((a, b) => a.Member.localeCompare(b.Member));
}

/** Waits until a condition holds, polling; throws with the last value seen. */
export async function waitFor<T>(
  what: string,
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 120_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: T | undefined;
  let error: unknown;
  while (Date.now() < until) {
    try {
      last = await read();
      if (ok(last)) return last;
    } catch (e) {
      error = e;
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
  throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last) ?? String(error)}`);
}
