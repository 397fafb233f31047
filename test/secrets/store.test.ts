import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format, inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvironmentError, InputError } from '../../src/core/errors.js';
import { Secret } from '../../src/core/secret.js';
import {
  envVarName,
  resolveSecrets,
  secretsFile,
  type ResolveSecretsOptions,
} from '../../src/secrets/store.js';

let root: string;
let stateDir: string;
const resolve = (over: Partial<ResolveSecretsOptions> = {}): ReturnType<typeof resolveSecrets> =>
  resolveSecrets({ stateDir, names: ['superuser_password'], inventoryValues: {}, env: {}, ...over });

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'pgprov-secrets-'));
  stateDir = join(root, '.pgprov', 'lab');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('resolveSecrets', () => {
  it('takes each secret from the first source that has it', async () => {
    const vault = join(root, 'vault.yaml');
    await writeFile(vault, 'a: from-file-a\nb: from-file-b\nc: from-file-c\n');
    await resolve({ names: ['d'] }); // stores a generated d
    await writeFile(secretsFile(stateDir), 'a: stored-a\nb: stored-b\nc: stored-c\nd: stored-d\n');
    const result = await resolve({
      names: ['a', 'b', 'c', 'd', 'e'],
      inventoryValues: { a: 'from-inventory-a', b: undefined },
      env: { PGPROV_SECRET_A: 'from-env-a', PGPROV_SECRET_B: 'from-env-b' },
      file: vault,
    });
    const revealed = Object.fromEntries(Object.entries(result.secrets).map(([k, v]) => [k, v.reveal()]));
    expect(revealed).toMatchObject({
      a: 'from-inventory-a',
      b: 'from-env-b',
      c: 'from-file-c',
      d: 'stored-d',
    });
    expect(revealed['e']).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(result.sources).toEqual({
      a: 'inventory',
      b: 'environment',
      c: 'file',
      d: 'stored',
      e: 'generated',
    });
    expect(result.generated).toEqual(['e']);
  });

  it('accepts a Secret from the inventory as it is', async () => {
    const given = new Secret('from-inventory');
    const result = await resolve({ inventoryValues: { superuser_password: given } });
    expect(result.secrets['superuser_password']).toBe(given);
  });

  it('looks at own values only, whatever the name', async () => {
    const result = await resolve({ names: ['constructor', 'toString'] });
    expect(result.generated).toEqual(['constructor', 'toString']);
    expect((await resolve({ names: ['constructor'] })).sources).toEqual({ constructor: 'stored' });
  });

  it('names environment variables PGPROV_SECRET_<NAME>', () => {
    expect(envVarName('replication_password')).toBe('PGPROV_SECRET_REPLICATION_PASSWORD');
  });

  it('stores what it generates, privately, and reuses it on the next run', async () => {
    const first = await resolve({ names: ['superuser_password', 'replication_password'] });
    expect(first.generated).toEqual(['superuser_password', 'replication_password']);
    expect(((await stat(secretsFile(stateDir))).mode & 0o777).toString(8)).toBe('600');
    expect(((await stat(stateDir)).mode & 0o777).toString(8)).toBe('700');
    expect(await readdir(stateDir)).toEqual(['secrets.yaml']); // no lock or temp file left behind
    const text = await readFile(secretsFile(stateDir), 'utf8');
    expect(text).toMatch(/^# Secrets pgprov generated/);
    expect(parse(text)).toEqual({
      superuser_password: first.secrets['superuser_password']?.reveal(),
      replication_password: first.secrets['replication_password']?.reveal(),
    });

    const second = await resolve({ names: ['replication_password', 'pgbackrest_cipher_pass'] });
    expect(second.generated).toEqual(['pgbackrest_cipher_pass']);
    expect(second.secrets['replication_password']?.reveal()).toBe(
      first.secrets['replication_password']?.reveal(),
    );
    expect(Object.keys(parse(await readFile(secretsFile(stateDir), 'utf8')) as object)).toEqual([
      'superuser_password',
      'replication_password',
      'pgbackrest_cipher_pass',
    ]);

    const before = await readFile(secretsFile(stateDir), 'utf8');
    expect((await resolve()).generated).toEqual([]);
    expect(await readFile(secretsFile(stateDir), 'utf8')).toBe(before);
  });

  it('does not touch the state folder when every secret is given', async () => {
    await resolve({ env: { PGPROV_SECRET_SUPERUSER_PASSWORD: 'given' } });
    await expect(stat(stateDir)).rejects.toThrow(/ENOENT/);
  });

  it('generates one value when several runs start at once', async () => {
    const runs = await Promise.all([1, 2, 3, 4].map(() => resolve()));
    expect(new Set(runs.map((r) => r.secrets['superuser_password']?.reveal())).size).toBe(1);
    expect(runs.flatMap((r) => r.generated)).toEqual(['superuser_password']);
  });

  it('refuses empty values, naming the source', async () => {
    const error = await resolve({ env: { PGPROV_SECRET_SUPERUSER_PASSWORD: '' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(
      'secret superuser_password from environment variable PGPROV_SECRET_SUPERUSER_PASSWORD is empty',
    );
  });

  it('reports a broken secrets file by name and line, never quoting a value', async () => {
    const vault = join(root, 'vault.yaml');
    await writeFile(vault, 'a: fine\nsuperuser_password: "hunter2-very-secret\nb: x\n');
    const error = await resolve({ file: vault }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toMatch(new RegExp(`^${vault} is not valid YAML \\(line \\d\\)$`));
    expect(inspect(error)).not.toContain('hunter2');

    await writeFile(vault, 'superuser_password: 012345\n');
    await expect(resolve({ file: vault })).rejects.toThrow(
      `${vault}: the value of superuser_password is not a string`,
    );
    await writeFile(vault, '- a\n');
    await expect(resolve({ file: vault })).rejects.toThrow('must be a map');
    await expect(resolve({ file: join(root, 'missing.yaml') })).rejects.toThrow('does not exist');
  });
});

describe('Secret', () => {
  it('never shows its value in strings, JSON or inspection', async () => {
    const { secrets } = await resolve({ inventoryValues: { superuser_password: 'hunter2-value' } });
    const holder = { secrets, nested: [secrets['superuser_password']] };
    const secret = secrets['superuser_password']!;
    for (const text of [
      JSON.stringify(holder),
      inspect(holder, { depth: 10 }),
      String(secret),
      `${secret}`,
      format('%s %o %j', secret, holder, holder),
    ]) {
      expect(text).not.toContain('hunter2');
    }
    expect(secret.reveal()).toBe('hunter2-value');
  });
});
