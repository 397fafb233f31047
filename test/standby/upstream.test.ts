import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvironmentError, InputError } from '../../src/core/errors.js';
import { roleSecrets } from '../../src/engine/run.js';
import { loadInventory } from '../../src/inventory/load.js';
import { ensurePki } from '../../src/pki/store.js';
import { loadProject } from '../../src/roles/load.js';
import type { Project } from '../../src/roles/model.js';
import { loadUpstream, upstreamVars } from '../../src/standby/upstream.js';

const inventory = (vars: string, host: string) => `all:
  vars:
${vars}
  hosts:
    ${host}:
      ansible_host: 10.0.0.11
  children:
    etcd_cluster: { hosts: { ${host}: } }
    postgres_cluster: { hosts: { ${host}: } }
`;

describe("a standby cluster's primary, read from the primary's inventory and state folder", () => {
  let dir = '';
  let project: Project;
  const site = (name: string) => join(dir, name, 'inventory.yaml');
  const write = async (name: string, text: string) => {
    await mkdir(join(dir, name), { recursive: true });
    await writeFile(site(name), text);
  };

  beforeAll(async () => {
    project = await loadProject();
    dir = await mkdtemp(join(tmpdir(), 'pgprov-standby-'));
    await write('a', inventory('    cluster_name: site-a\n    cluster_vip: 10.0.0.10', 'a1'));
    await write('b', inventory('    cluster_name: site-b\n    standby_of: ../a/inventory.yaml', 'b1'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is refused until the primary was applied from this machine (its CA is not here)', async () => {
    const standby = await loadInventory(site('b'));
    await expect(loadUpstream(standby)).rejects.toThrow(EnvironmentError);
    await expect(loadUpstream(standby)).rejects.toThrow(/CA is not in .*\/a\/\.pgprov\/inventory/);
  });

  it("streams from the primary's VIP and replication port, trusting the primary's CA", async () => {
    const primary = await loadInventory(site('a'));
    const pki = await ensurePki({
      stateDir: primary.stateDir,
      clusterName: 'site-a',
      hosts: [{ name: 'a1', address: '10.0.0.11' }],
      now: new Date(),
    });
    const upstream = await loadUpstream(await loadInventory(site('b')));
    expect(upstream).toMatchObject({ clusterName: 'site-a', host: '10.0.0.10', port: 5002 });
    expect(upstream?.caPem).toBe(pki.ca.certPem);
    expect(upstreamVars(upstream, 'OWN\n')).toEqual({
      standby_upstream_cluster: 'site-a',
      standby_upstream_host: '10.0.0.10',
      standby_upstream_port: 5002,
      standby_upstream_ca: pki.ca.certPem,
      standby_replication_ca: `OWN\n${pki.ca.certPem}`,
    });
  });

  it("takes the primary's passwords of roles inside PostgreSQL, keeps its own for the rest", async () => {
    const primary = await roleSecrets(project, await loadInventory(site('a')), undefined);
    const standbyInventory = await loadInventory(site('b'));
    const standby = await roleSecrets(
      project,
      standbyInventory,
      undefined,
      true,
      await loadUpstream(standbyInventory),
    );
    for (const name of [
      'postgres_superuser_password',
      'replication_password',
      'rewind_password',
      'app_password',
    ])
      expect(standby.secrets[name]?.reveal(), name).toBe(primary.secrets[name]?.reveal());
    expect(standby.secrets.patroni_restapi_password?.reveal()).not.toBe(
      primary.secrets.patroni_restapi_password?.reveal(),
    );
  });

  it('refuses a password of its own for a role that comes from the primary, naming the line', async () => {
    await write(
      'c',
      inventory(
        '    cluster_name: site-c\n    standby_of: ../a/inventory.yaml\n    replication_password: mine',
        'c1',
      ),
    );
    const standby = await loadInventory(site('c'));
    const error = await roleSecrets(project, standby, undefined, true, await loadUpstream(standby)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).issues[0]).toMatchObject({
      file: site('c'),
      line: 5,
      message: "replication_password differs from the primary cluster's",
    });
  });

  it('refuses a primary without a virtual IP, and a standby of itself', async () => {
    await write('d', inventory('    cluster_name: site-d', 'd1'));
    await write('e', inventory('    cluster_name: site-e\n    standby_of: ../d/inventory.yaml', 'e1'));
    await expect(loadUpstream(await loadInventory(site('e')))).rejects.toThrow(
      'the primary cluster has no virtual IP to stream from',
    );
    await write('f', inventory('    cluster_name: site-f\n    standby_of: inventory.yaml', 'f1'));
    await expect(loadUpstream(await loadInventory(site('f')))).rejects.toThrow(
      'a cluster cannot be a standby of itself',
    );
  });

  it('follows a remote endpoint with the CA file the inventory gives (port 5432 by default)', async () => {
    const a = await loadInventory(site('a'));
    await writeFile(join(dir, 'a-ca.crt'), await readFile(join(a.stateDir, 'pki', 'ca.crt'), 'utf8'));
    await write(
      'r',
      inventory(
        '    cluster_name: site-r\n    standby_of: { host: db.site-a.example, ca_file: ../a-ca.crt, cluster_name: site-a }',
        'r1',
      ),
    );
    const upstream = await loadUpstream(await loadInventory(site('r')));
    expect(upstream).toEqual({
      clusterName: 'site-a',
      host: 'db.site-a.example',
      port: 5432,
      caPem: await readFile(join(a.stateDir, 'pki', 'ca.crt'), 'utf8'),
    });
    expect(upstreamVars(upstream, 'OWN\n')).toMatchObject({
      standby_upstream_host: 'db.site-a.example',
      standby_upstream_port: 5432,
    });
  });

  it("refuses a remote endpoint's missing or non-CA certificate file, naming the line", async () => {
    await write(
      's',
      inventory('    cluster_name: site-s\n    standby_of:\n      host: x\n      ca_file: nope.crt', 's1'),
    );
    const missing = await loadUpstream(await loadInventory(site('s'))).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(InputError);
    expect((missing as InputError).issues[0]).toMatchObject({
      file: site('s'),
      line: 6,
      message: expect.stringMatching(/nope\.crt: no such file$/),
    });
    const a = await loadInventory(site('a'));
    await writeFile(
      join(dir, 's', 'nope.crt'),
      await readFile(join(a.stateDir, 'pki', 'hosts', 'a1.crt'), 'utf8'),
    );
    await expect(loadUpstream(await loadInventory(site('s')))).rejects.toThrow(InputError);
    const leaf = await loadUpstream(await loadInventory(site('s'))).catch((e: unknown) => e);
    expect((leaf as InputError).issues[0]?.message).toMatch(/holds a certificate that is not a CA's$/);
  });

  it("needs a remote primary's passwords given, never generates them", async () => {
    const standby = await loadInventory(site('r'));
    const upstream = await loadUpstream(standby);
    const error = await roleSecrets(project, standby, undefined, true, upstream).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).issues[0]?.message).toMatch(
      /its primary's, passwords included: no value for .*replication_password/,
    );
    const given = join(dir, 'primary-secrets.yaml');
    const names = [...project.roles.values()].flatMap((r) => r.secrets).filter((d) => d.in_database);
    await writeFile(given, names.map((d) => `${d.name}: primary-${d.name}`).join('\n') + '\n');
    const resolved = await roleSecrets(project, standby, given, true, upstream);
    expect(resolved.secrets.replication_password?.reveal()).toBe('primary-replication_password');
  });

  it('rejects a remote endpoint without its CA file in the schema, with the line', async () => {
    await write('t', inventory('    cluster_name: site-t\n    standby_of: { host: x }', 't1'));
    const error = await loadInventory(site('t')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(JSON.stringify((error as InputError).issues)).toMatch(/standby_of/);
  });
});
