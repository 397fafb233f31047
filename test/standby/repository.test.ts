import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  registerStandby,
  registeredStandbys,
  standbyClientName,
  unregisterStandby,
  upstreamRepository,
} from '../../src/standby/repository.js';
import { stackInventory } from '../roles-stack/support.js';

const DEFAULTS = {
  pgbackrest_tls_port: 8432,
  pgbackrest_repo_path: '/var/lib/pgbackrest',
  pgbackrest_repo_type: 'posix',
};

describe("a standby's fallback to its primary's pgBackRest repository", () => {
  it('is the repository host of the primary, with its port, path, cipher and stanza', () => {
    const primary = stackInventory({ pgbackrest_tls_port: 8500 }, { groups: { pgbackrest: ['pg3'] } });
    expect(upstreamRepository(primary, DEFAULTS)).toEqual({
      repository: {
        host: 'pg3',
        port: 8500,
        path: '/var/lib/pgbackrest',
        cipherType: 'aes-256-cbc',
        stanza: 'test',
      },
    });
  });

  it('is absent, with the reason, without a repository host or with an S3 bucket', () => {
    expect(upstreamRepository(stackInventory(), DEFAULTS)).toEqual({
      reason: 'the primary has no pgbackrest group',
    });
    const s3 = stackInventory({ pgbackrest_repo_type: 's3' }, { groups: { pgbackrest: ['pg3'] } });
    expect(upstreamRepository(s3, DEFAULTS)).toMatchObject({ reason: expect.stringMatching(/of type s3/) });
  });

  it('presents a name no host of the primary can have', () => {
    expect(standbyClientName('dr')).toBe('standby.dr');
  });
});

describe("a standby's record in its primary's state folder", () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pgprov-standbys-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is written once (a second apply changes nothing), read back by the primary, and forgotten', async () => {
    expect(await registeredStandbys(dir)).toEqual([]);
    const dr = { cluster: 'dr', inventory: '/x/dr.yaml', client: 'standby.dr' };
    expect(await registerStandby(dir, dr)).toBe(true);
    expect(await registerStandby(dir, dr)).toBe(false);
    expect(
      await registerStandby(dir, { cluster: 'cloud', inventory: '/x/c.yaml', client: 'standby.cloud' }),
    ).toBe(true);
    expect((await registeredStandbys(dir)).map((r) => r.client)).toEqual(['standby.cloud', 'standby.dr']);
    await unregisterStandby(dir, 'cloud');
    expect(await registeredStandbys(dir)).toEqual([dr]);
  });

  it('authorizes nothing when damaged', async () => {
    await writeFile(join(dir, 'standbys', 'broken.json'), '{"cluster": ');
    expect((await registeredStandbys(dir)).map((r) => r.cluster)).toEqual(['dr']);
  });
});
