import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadKnownHosts, recordHostKey } from '../../src/transport/known-hosts-store.js';
import { knownHostsName, parseKnownHosts } from '../../src/transport/known-hosts.js';

/** A syntactically valid ed25519 key blob with random key bytes. */
function randomKey(): { type: string; key: string } {
  const type = Buffer.from('ssh-ed25519');
  const blob = Buffer.alloc(4 + type.length + 4 + 32);
  blob.writeUInt32BE(type.length, 0);
  type.copy(blob, 4);
  blob.writeUInt32BE(32, 4 + type.length);
  randomBytes(32).copy(blob, 8 + type.length);
  return { type: 'ssh-ed25519', key: blob.toString('base64') };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgprov-known-hosts-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('recordHostKey', () => {
  it('creates the directory 0700 and the file 0600 on first contact', async () => {
    const file = join(dir, 'nested', '.pgprov', 'known_hosts');
    const key = randomKey();
    expect(await recordHostKey(file, '[127.0.0.1]:2222', key)).toEqual({ status: 'unknown' });
    expect(await readFile(file, 'utf8')).toBe(`[127.0.0.1]:2222 ssh-ed25519 ${key.key}\n`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'nested', '.pgprov'))).mode & 0o777).toBe(0o700);
  });

  it('appends without touching other lines, even a last line without a newline', async () => {
    const file = join(dir, 'known_hosts');
    const before = '# kept\n|1|abc|def ssh-ed25519 AAAA\nweird line kept as it is';
    await writeFile(file, before);
    const key = randomKey();
    await recordHostKey(file, '10.0.0.7', key);
    expect(await readFile(file, 'utf8')).toBe(`${before}\n10.0.0.7 ssh-ed25519 ${key.key}\n`);
  });

  it('does not record a key twice, and reports a key changed meanwhile', async () => {
    const file = join(dir, 'known_hosts');
    const key = randomKey();
    await recordHostKey(file, '10.0.0.7', key);
    expect(await recordHostKey(file, '10.0.0.7', key)).toMatchObject({ status: 'known' });
    expect(await recordHostKey(file, '10.0.0.7', randomKey())).toMatchObject({ status: 'changed' });
    expect((await loadKnownHosts(file)).length).toBe(1);
  });

  it('keeps every entry when many hosts make first contact in parallel', async () => {
    const file = join(dir, 'known_hosts');
    const hosts = Array.from({ length: 40 }, (_, i) => ({
      name: knownHostsName('10.1.0.1', 2000 + i),
      key: randomKey(),
    }));
    await Promise.all(hosts.map((h) => recordHostKey(file, h.name, h.key)));
    const entries = parseKnownHosts(await readFile(file, 'utf8'));
    expect(entries.map((e) => e.hosts).sort()).toEqual(hosts.map((h) => h.name).sort());
  });

  it('reads a missing file as empty', async () => {
    expect(await loadKnownHosts(join(dir, 'absent'))).toEqual([]);
  });
});
