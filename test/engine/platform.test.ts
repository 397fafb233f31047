import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../src/core/errors.js';
import { hostPlatforms } from '../../src/engine/platform.js';
import { parseOsRelease } from '../../src/facts/platform.js';
import type { InventoryHost } from '../../src/inventory/model.js';
import { loadProject } from '../../src/roles/load.js';
import type { Project } from '../../src/roles/model.js';
import { connect, type SshTransport } from '../../src/transport/ssh.js';
import { fakeInventory } from '../support/inventory.js';
import { canRunSshd, startSshd, type Sshd } from '../support/sshd.js';

// Each host's release, read over a real SSH connection (this machine, through the sshd fixture) and recorded.
describe.skipIf(!canRunSshd())("reading each host's release", { timeout: 60_000 }, () => {
  let sshd: Sshd;
  let project: Project;
  let stateDir: string;
  const opened: SshTransport[] = [];
  const here = parseOsRelease(readFileSync('/etc/os-release', 'utf8'))?.codename ?? '';
  const hosts = fakeInventory().hosts;
  const [pg1, , pg3] = hosts as [InventoryHost, InventoryHost, InventoryHost];
  /** pg1 is this machine; the others cannot be reached. Counts the connections asked for. */
  const reach = () => {
    const asked: string[] = [];
    const open = async (host: InventoryHost) => {
      asked.push(host.name);
      if (host !== pg1) throw new Error(`${host.name}: connection refused`);
      const t = await connect(sshd.spec());
      opened.push(t);
      return t;
    };
    return { asked, open };
  };
  const recorded = async () => JSON.parse(await readFile(join(stateDir, 'platforms.json'), 'utf8'));

  beforeAll(async () => {
    sshd = await startSshd();
    project = await loadProject();
    stateDir = await mkdtemp(join(tmpdir(), 'pgprov-platform-'));
  }, 600_000);

  afterAll(async () => {
    await Promise.all(opened.map((t) => t.close()));
    await sshd?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('reads a reachable host and records it; an unreachable one plans as the others do', async () => {
    const { open } = reach();
    const found = await hostPlatforms({ project, hosts, open, stateDir, forks: 3, refresh: true });
    expect(found.get('pg1')?.codename).toBe(here);
    expect(found.get('pg2')?.codename).toBe(here);
    expect(await recorded()).toEqual({ pg1: here });
  });

  it('reads only hosts with nothing recorded unless asked to refresh, and keeps what a down host had', async () => {
    await writeFile(join(stateDir, 'platforms.json'), JSON.stringify({ pg1: here, pg2: 'trixie' }));
    const lazy = reach();
    const found = await hostPlatforms({
      project,
      hosts,
      open: lazy.open,
      stateDir,
      forks: 3,
      refresh: false,
    });
    expect(lazy.asked).toEqual(['pg3']);
    expect(found.get('pg2')?.codename).toBe('trixie');

    const fresh = reach();
    const again = await hostPlatforms({
      project,
      hosts,
      open: fresh.open,
      stateDir,
      forks: 3,
      refresh: true,
    });
    expect(fresh.asked.sort()).toEqual(['pg1', 'pg2', 'pg3']);
    expect(again.get('pg2')?.codename).toBe('trixie');
    expect(await recorded()).toEqual({ pg1: here, pg2: 'trixie' });
  });

  it('records what a host runs now over what was recorded for it (a host reinstalled since)', async () => {
    const other = here === 'trixie' ? 'bookworm' : 'trixie';
    await writeFile(join(stateDir, 'platforms.json'), JSON.stringify({ pg1: other, pg3: other }));
    const found = await hostPlatforms({
      project,
      hosts,
      open: reach().open,
      stateDir,
      forks: 3,
      refresh: true,
    });
    expect(found.get('pg1')?.codename).toBe(here);
    expect(await recorded()).toEqual({ pg1: here, pg3: other });
  });

  it('refuses a release pgprov does not deploy on before anything is planned, and records nothing', async () => {
    await rm(join(stateDir, 'platforms.json'));
    const only = { ...project, platforms: [{ codename: 'forky', name: 'Debian 14', version: '14' }] };
    const error = await hostPlatforms({
      project: only,
      hosts: [pg1, pg3],
      open: reach().open,
      stateDir,
      forks: 2,
      refresh: true,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toMatch(
      /^pg1 runs Debian GNU\/Linux .*: pgprov deploys on Debian 14 \(forky\)$/,
    );
    await expect(readFile(join(stateDir, 'platforms.json'))).rejects.toThrow(/ENOENT/);
  });
});
