import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { parseExtraVars } from '../../src/inventory/extra-vars.js';
import { loadInventory } from '../../src/inventory/load.js';
import { resolveHostVars } from '../../src/inventory/precedence.js';
import { show } from './helpers.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/inventory/', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const LAYERED = join(FIXTURES, 'layered', 'inventory.yaml');

/** Writes files into a fresh temporary folder (broken YAML cannot live in the repository: prettier checks it). */
const temporary: string[] = [];
async function folderWith(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pgprov-inventory-'));
  temporary.push(dir);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}
afterAll(() => Promise.all(temporary.map((dir) => rm(dir, { recursive: true, force: true }))));

async function inputError(promise: Promise<unknown>): Promise<InputError> {
  const error = await promise.then(
    () => expect.fail('expected an InputError'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  return error as InputError;
}

describe('loadInventory', () => {
  it('reads group_vars/ and host_vars/ files and folders beside the inventory', async () => {
    const inventory = await loadInventory(LAYERED);
    const [pg1, pg2] = inventory.hosts;
    expect(pg1?.vars).toMatchObject({
      level: 'pg1-host_vars', // host_vars/pg1.yaml > the host in the file > every group
      tier: 'postgres_cluster-file', // a child group in the file > group_vars/all.yaml
      from_all: 'all-group_vars',
    });
    expect(pg1?.connection).toEqual({
      address: '10.0.0.11',
      port: 2222,
      user: 'deploy',
      privateKeyFile: join(FIXTURES, 'layered', 'keys', 'id_ed25519'),
      become: true,
    });
    // replicas is deeper than postgres_cluster; its folder's files apply in name order; README.txt is ignored.
    expect(pg2?.vars).toMatchObject({ level: 'replicas-20', replica_only: 10 });
    expect(pg2?.connection.user).toBe('admin'); // host_vars/pg2/connection.yaml's ssh_user > all's ansible_user
    expect(pg2?.groups).toEqual(['all', 'postgres_cluster', 'replicas']);
    expect(inventory.stateDir).toBe(join(FIXTURES, 'layered', '.pgprov', 'inventory'));
  });

  it('applies extra vars from -e, files included, above everything', async () => {
    const extraVars = parseExtraVars(['@extra.yaml', 'tier=extra'], {
      cwd: join(FIXTURES, 'layered'),
      readFile: (path) => readText(path),
    });
    const inventory = await loadInventory(LAYERED, { extraVars });
    const pg1 = inventory.hosts[0]!;
    expect(pg1.connection.port).toBe(2200);
    expect(resolveHostVars({ roleDefaults: { level: 'role' }, host: pg1, extraVars })).toMatchObject({
      level: 'extra-file',
      tier: 'extra',
    });
  });

  it('throws one InputError with every problem, YAML syntax first (the schema waits for valid YAML)', async () => {
    const dir = await folderWith({
      'inventory.yaml': 'all:\n  hosts:\n    pg1:\n      ansible_port: "22"\n',
      'group_vars/all.yaml': 'ansible_become: yes\n',
      'group_vars/postgres_cluster.yaml': 'cluster_name: [unclosed\n',
      'host_vars/pg1.yml': 'a: b: c\n',
    });
    const error = await inputError(loadInventory(join(dir, 'inventory.yaml')));
    expect(error.message).toBe(`2 problems in the inventory ${join(dir, 'inventory.yaml')}`);
    expect(error.hint).toBe('fix the problems listed; nothing was changed on any host');
    expect(error.issues.map((i) => [i.file.slice(dir.length + 1), i.line])).toEqual([
      ['group_vars/postgres_cluster.yaml', 1], // where the [ opens
      ['host_vars/pg1.yml', 1],
    ]);
  });

  it('then reports every schema problem of every file', async () => {
    const dir = await folderWith({
      'inventory.yaml': 'all:\n  hosts:\n    pg1:\n      ansible_port: "22"\n',
      'group_vars/all.yaml': 'ansible_become: yes\n',
    });
    const error = await inputError(loadInventory(join(dir, 'inventory.yaml')));
    expect(error.issues.map((i) => show({ ...i, file: i.file.slice(dir.length + 1) }))).toEqual([
      'group_vars/all.yaml:1:17 ansible_become: ansible_become must be true or false, not the string "yes" ' +
        '(write true or false without quotes (pgprov reads YAML 1.2, where yes and no are strings))',
      'inventory.yaml:4:21 all.hosts.pg1.ansible_port: ansible_port must be an integer, not the string "22" ' +
        '(write the port as a number from 1 to 65535, without quotes)',
    ]);
  });

  it('reports a missing inventory file as an input problem', async () => {
    const error = await inputError(loadInventory('/nonexistent/prod.yaml'));
    expect(error.issues).toEqual([
      {
        file: '/nonexistent/prod.yaml',
        message: 'cannot read the inventory /nonexistent/prod.yaml: ENOENT',
        hint: 'check the path of the inventory file',
      },
    ]);
  });

  it.each(['lab.yaml', 'lab-trixie.yaml', 'vagrant.yaml', 'production.example.yaml'])(
    'inventory/%s is valid',
    async (name) => {
      const inventory = await loadInventory(join(REPO, 'inventory', name));
      expect(inventory.groups.etcd_cluster).toHaveLength(3);
      expect(inventory.groups.postgres_cluster).toHaveLength(3);
      expect(inventory.groups.pgbackrest).toHaveLength(1);
    },
  );

  it('inventory/lab.yaml describes the built-in lab', async () => {
    const inventory = await loadInventory(join(REPO, 'inventory', 'lab.yaml'));
    expect(inventory.hosts.map((h) => [h.name, h.connection.address])).toEqual([
      ['pg1', '10.231.0.11'],
      ['pg2', '10.231.0.12'],
      ['pg3', '10.231.0.13'],
    ]);
    expect(inventory.hosts[2]?.connection).toEqual({
      address: '10.231.0.13',
      port: 22,
      user: 'vagrant',
      privateKeyFile: '/var/lib/pgprov/lab/ssh/id_ed25519',
      become: true,
    });
    expect(inventory.knownHostsFile).toBe('/var/lib/pgprov/lab/known_hosts');
    expect(inventory.groups.balancers).toEqual(['pg1', 'pg2', 'pg3']);
    expect(inventory.groups.pgbackrest).toEqual(['pg3']);
    expect(inventory.hosts[0]?.vars.cluster_name).toBe('pgprov-lab');
  });
});

function readText(path: string): string {
  // The loader's real reader is readFileSync; the test keeps to the fixture folder.
  if (!path.startsWith(FIXTURES)) throw new Error(`outside the fixtures: ${path}`);
  return readFileSync(path, 'utf8');
}
