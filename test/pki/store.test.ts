import { readFile, readdir, rm, stat, writeFile, mkdtemp, mkdir } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnvironmentError, LockError } from '../../src/core/errors.js';
import { parseCertificate } from '../../src/pki/inspect.js';
import { ensurePki, pkiFiles, type EnsurePkiOptions } from '../../src/pki/store.js';
import { hasOpenssl, opensslVerify } from './fixtures.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const DAY = 86_400_000;
const HOSTS = [
  { name: 'pg1', address: '10.0.0.1' },
  { name: 'pg2', address: '10.0.0.2' },
  { name: 'pg3', address: '10.0.0.3', extraNames: ['db.example.com'] },
];

let stateDir: string;
const options = (over: Partial<EnsurePkiOptions> = {}): EnsurePkiOptions => ({
  stateDir,
  clusterName: 'lab',
  hosts: HOSTS,
  now: NOW,
  ...over,
});

/** Every file under pki/, path -> content. */
async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(join(stateDir, 'pki'), { recursive: true, withFileTypes: true })) {
    if (entry.isFile())
      out[join(entry.parentPath, entry.name)] = await readFile(join(entry.parentPath, entry.name), 'utf8');
  }
  return out;
}

const mode = async (path: string): Promise<string> => ((await stat(path)).mode & 0o777).toString(8);

beforeEach(async () => {
  stateDir = join(await mkdtemp(join(tmpdir(), 'pgprov-pki-')), '.pgprov', 'lab');
});
afterEach(async () => {
  await rm(join(stateDir, '..', '..'), { recursive: true, force: true });
});

describe('ensurePki', () => {
  it('creates a CA and one certificate per host, private to the owner', async () => {
    const pki = await ensurePki(options());
    expect(pki.changes).toEqual([
      'created CA "pgprov lab CA", valid until 2036-02-27',
      'issued certificate for pg1 (new host)',
      'issued certificate for pg2 (new host)',
      'issued certificate for pg3 (new host)',
    ]);
    expect(pki.warnings).toEqual([]);
    const files = pkiFiles(stateDir);
    for (const dir of [stateDir, join(stateDir, 'pki'), files.hostsDir]) expect(await mode(dir)).toBe('700');
    for (const key of [files.caKey, files.hostKey('pg1'), files.hostKey('pg3')])
      expect(await mode(key)).toBe('600');
    expect(await mode(files.caCert)).toBe('644');
    expect(await readdir(stateDir)).toEqual(['pki']); // the lock is gone, no temp files remain
    expect((await readdir(files.hostsDir)).sort()).toEqual([
      'pg1.crt',
      'pg1.key',
      'pg2.crt',
      'pg2.key',
      'pg3.crt',
      'pg3.key',
    ]);

    expect(await readFile(files.hostCert('pg3'), 'utf8')).toBe(pki.hosts['pg3']?.certPem);
    expect(await readFile(files.caKey, 'utf8')).toBe(pki.ca.keyPem.reveal());
    expect(parseCertificate(pki.hosts['pg3']!.certPem).sans).toEqual({
      dnsNames: ['db.example.com', 'localhost', 'pg3'],
      ipAddresses: ['10.0.0.3', '127.0.0.1'],
    });
    expect(JSON.stringify(pki)).not.toContain('PRIVATE KEY');
    expect(inspect(pki, { depth: 5 })).not.toContain('PRIVATE KEY');
  });

  it.skipIf(!hasOpenssl)('writes files that openssl verifies', async () => {
    const pki = await ensurePki(options());
    expect(opensslVerify(pki.ca.certPem, pki.hosts['pg1']!.certPem, 'sslserver')).toMatch(/: OK/);
    expect(opensslVerify(pki.ca.certPem, pki.hosts['pg1']!.certPem, 'sslclient')).toMatch(/: OK/);
  });

  it('reuses everything on the next run, byte for byte, and says nothing changed', async () => {
    await ensurePki(options());
    const before = await snapshot();
    const again = await ensurePki(options({ now: new Date(NOW.getTime() + 100 * DAY) }));
    expect(again.changes).toEqual([]);
    expect(await snapshot()).toEqual(before);
    expect(again.ca.certPem).toBe(before[pkiFiles(stateDir).caCert]);
  });

  it('reissues only the host whose address changed, keeping its key', async () => {
    await ensurePki(options());
    const before = await snapshot();
    const moved = HOSTS.map((h) => (h.name === 'pg1' ? { ...h, address: '10.0.0.5' } : h));
    const result = await ensurePki(options({ hosts: moved }));
    expect(result.changes).toEqual(['reissued certificate for pg1: address changed 10.0.0.1 -> 10.0.0.5']);
    const after = await snapshot();
    const files = pkiFiles(stateDir);
    const changed = Object.keys(after).filter((f) => after[f] !== before[f]);
    expect(changed).toEqual([files.hostCert('pg1')]);
    expect(parseCertificate(after[files.hostCert('pg1')]!).sans.ipAddresses).toEqual([
      '10.0.0.5',
      '127.0.0.1',
    ]);
  });

  it('issues a certificate for a new host and leaves the others alone', async () => {
    await ensurePki(options());
    const result = await ensurePki(options({ hosts: [...HOSTS, { name: 'pg4', address: '10.0.0.4' }] }));
    expect(result.changes).toEqual(['issued certificate for pg4 (new host)']);
  });

  it('renews certificates inside the renewal window, and only then', async () => {
    await ensurePki(options());
    const later = new Date(NOW.getTime() + 340 * DAY);
    expect((await ensurePki(options({ now: later }))).changes).toEqual([]);
    const renewed = await ensurePki(options({ now: later, renewWithinDays: 30 }));
    expect(renewed.changes).toEqual(
      ['pg1', 'pg2', 'pg3'].map(
        (h) => `reissued certificate for ${h}: expires on 2027-03-01, within the 30-day renewal window`,
      ),
    );
    expect((await ensurePki(options({ now: later, renewWithinDays: 30 }))).changes).toEqual([]);
  });

  it('renews every host certificate when asked, keeping its key, for the lifetime asked', async () => {
    const first = await ensurePki(options());
    const rotated = await ensurePki(options({ renewAll: true, leafValidityDays: 2 }));
    expect(rotated.changes).toEqual(
      ['pg1', 'pg2', 'pg3'].map((h) => `reissued certificate for ${h}: renewal asked for`),
    );
    for (const h of ['pg1', 'pg2', 'pg3']) {
      expect(rotated.hosts[h]?.keyPem.reveal()).toBe(first.hosts[h]?.keyPem.reveal());
      expect(parseCertificate(rotated.hosts[h]?.certPem ?? '').notAfter.getTime()).toBe(
        NOW.getTime() - 3_600_000 + 2 * DAY,
      );
    }
  });

  it('reissues host certificates signed by a CA that is no longer the current one', async () => {
    await ensurePki(options());
    const files = pkiFiles(stateDir);
    await rm(files.caCert);
    await rm(files.caKey);
    const result = await ensurePki(options());
    expect(result.changes[0]).toMatch(/^created CA/);
    expect(result.changes.slice(1)).toEqual(
      ['pg1', 'pg2', 'pg3'].map((h) => `reissued certificate for ${h}: not signed by the current CA`),
    );
  });

  it('replaces a host whose files are missing, and says why', async () => {
    await ensurePki(options());
    const files = pkiFiles(stateDir);
    await rm(files.hostKey('pg1'));
    await rm(files.hostCert('pg2'));
    const result = await ensurePki(options());
    expect(result.changes).toEqual([
      'reissued certificate for pg1: its key file was missing',
      'issued certificate for pg2 (its certificate file was missing)',
    ]);
  });

  it('refuses a corrupt key file, naming it, and leaves it in place', async () => {
    await ensurePki(options());
    const files = pkiFiles(stateDir);
    const original = await readFile(files.hostKey('pg2'), 'utf8');
    const corrupt = original.replace(/\n[A-Za-z0-9+/]{40}/, '\n' + 'A'.repeat(40));
    await writeFile(files.hostKey('pg2'), corrupt);
    const before = await snapshot();
    const moved = HOSTS.map((h) => (h.name === 'pg1' ? { ...h, address: '10.0.0.5' } : h));
    const error = await ensurePki(options({ hosts: moved })).catch((e: unknown) => e);
    expect(await snapshot()).toEqual(before); // checked before anything was written: pg1 was not reissued
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as EnvironmentError).message).toBe(
      `${files.hostKey('pg2')} is not a readable private key (PEM)`,
    );
    expect((error as EnvironmentError).hint).toMatch(
      /Restore it from a backup, or delete .*pg2\.crt and .*pg2\.key/,
    );
    expect(inspect(error)).not.toContain(corrupt.split('\n')[2]);
  });

  it('refuses a corrupt CA certificate, a missing CA key and a mismatched pair', async () => {
    await ensurePki(options());
    const files = pkiFiles(stateDir);
    const caCert = await readFile(files.caCert, 'utf8');
    await writeFile(files.caCert, 'garbage\n');
    await expect(ensurePki(options())).rejects.toThrow(`${files.caCert} is not a readable certificate`);

    await writeFile(files.caCert, caCert);
    const caKey = await readFile(files.caKey, 'utf8');
    await rm(files.caKey);
    await expect(ensurePki(options())).rejects.toThrow(
      `${files.caKey} is missing but ${files.caCert} exists`,
    );

    await writeFile(files.caKey, caKey);
    await writeFile(files.hostKey('pg1'), await readFile(files.hostKey('pg2'), 'utf8'));
    await expect(ensurePki(options())).rejects.toThrow(
      `${files.hostCert('pg1')} was not issued for the key in`,
    );
  });

  it('refuses an expired CA instead of rotating it', async () => {
    await ensurePki(options({ caValidityDays: 30 }));
    const error = await ensurePki(options({ now: new Date(NOW.getTime() + 31 * DAY) })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toMatch(/the CA in .*ca\.crt expired on 2026-03-31/);
    const soon = await ensurePki(options({ now: new Date(NOW.getTime() + 20 * DAY), renewWithinDays: 15 }));
    expect(soon.warnings).toEqual([
      expect.stringMatching(/expires on 2026-03-31, within the 15-day renewal window/),
    ]);
  });

  it('creates one CA when several runs start at once', async () => {
    const runs = await Promise.all([1, 2, 3, 4].map(() => ensurePki(options())));
    expect(new Set(runs.map((r) => r.ca.certPem)).size).toBe(1);
    expect(new Set(runs.map((r) => r.hosts['pg1']?.certPem)).size).toBe(1);
    expect(runs.filter((r) => r.changes.length > 0)).toHaveLength(1);
  });

  it('says who holds the lock when it is not released', async () => {
    await mkdir(stateDir, { recursive: true });
    const holder = {
      pid: 2 ** 22 + 7,
      host: hostname(),
      since: new Date(Date.now() - 3_600_000).toISOString(),
    };
    await writeFile(pkiFiles(stateDir).lock, JSON.stringify(holder));
    const error = await ensurePki(options({ lockTimeoutMs: 200 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockError);
    expect((error as Error).message).toContain(
      `pid ${holder.pid} on ${hostname()} since ${holder.since} (60 min ago)`,
    );
    expect((error as Error).message).toContain('that process no longer exists, so the lock is stale');
    expect((error as LockError).hint).toContain(`delete ${pkiFiles(stateDir).lock}`);
  });

  it('refuses host names that cannot be file names', async () => {
    await expect(ensurePki(options({ hosts: [{ name: '../x', address: '10.0.0.9' }] }))).rejects.toThrow(
      'host name "../x" cannot name a certificate file',
    );
  });
});
