import { mkdtempSync, readFileSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assessment } from '../../src/cluster/health.js';
import { labStop } from '../../src/lab/index.js';
import { loadInventory } from '../../src/inventory/load.js';
import { runCli } from '../support/cli.js';
import { waitFor } from '../support/cluster.js';
import {
  apply,
  changedTasks,
  CREATED_BY,
  ensureLab,
  ensureStack,
  LAB_INVENTORY,
  onHost,
} from '../support/lab.js';

/**
 * The lab inventory with pg4 added to postgres_cluster, as an operator would edit it: a copy beside a link to
 * the lab's state folder (same CA, same secrets), so the real inventory file stays untouched.
 */
function inventoryWithPg4(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgprov-scale-'));
  const text = readFileSync(LAB_INVENTORY, 'utf8')
    .replace(
      /(\n {4}pg3:\n {6}ansible_host: 10\.231\.0\.13\n)/,
      '$1    pg4:\n      ansible_host: 10.231.0.14\n',
    )
    .replace(/(\n {4}postgres_cluster:\n {6}hosts:\n(?: {8}pg\d:\n)+)/, '$1        pg4:\n');
  if (!text.includes('10.231.0.14') || !/postgres_cluster:\n {6}hosts:\n(?: {8}pg\d:\n)* {8}pg4:/.test(text))
    throw new Error('could not add pg4 to the lab inventory');
  writeFileSync(join(dir, 'lab.yaml'), text);
  mkdirSync(join(dir, '.pgprov'));
  symlinkSync(join(LAB_INVENTORY, '..', '.pgprov', 'lab'), join(dir, '.pgprov', 'lab'));
  return join(dir, 'lab.yaml');
}

async function status(inventory: string): Promise<{ code: number; a: Assessment }> {
  const r = await runCli('status', inventory, '--json');
  if (!r.stdout.startsWith('{')) throw new Error(`status printed no JSON (exit ${r.code}): ${r.stderr}`);
  return { code: r.code, a: JSON.parse(r.stdout) as Assessment };
}

const streaming = (a: Assessment) => a.members.filter((m) => m.receiver === 'streaming').map((m) => m.member);

describe('scaling: a 4th host joins as a replica with apply, and leaves with remove', () => {
  let four = '';
  beforeAll(async () => {
    await ensureStack();
    // status counts a cluster without a backup as degraded: a fresh lab gets one.
    const backup = await runCli('backup', LAB_INVENTORY, '--type', 'incr');
    if (backup.code !== 0) throw new Error(`backup failed: ${backup.stderr}`);
    await ensureLab(4);
    four = inventoryWithPg4();
  });
  afterAll(async () => {
    await labStop('pg4').catch(() => undefined);
  });

  it('apply with pg4 in postgres_cluster: restored from the repository, 3 replicas stream, HAProxy routes reads to pg4', async () => {
    const run = await apply({ inventoryFile: four });
    expect(run.failed, JSON.stringify(run.events.filter((e) => e.type === 'host-failed'))).toBe(false);
    const { a } = await waitFor(
      'status: healthy with pg4',
      () => status(four),
      (s) => s.code === 0,
      300_000,
    );
    expect(a.members.map((m) => m.member)).toEqual(['pg1', 'pg2', 'pg3', 'pg4']);
    expect(streaming(a)).toHaveLength(3);
    // Restored from the repository's newest backup, not copied from the leader.
    expect(await onHost('pg4', CREATED_BY, four)).toBe('pgbackrest\n');
    for (const b of a.haproxy) expect([...b.primary, ...b.replicas]).toContain('pg4');
    const again = await apply({ inventoryFile: four });
    expect(
      again.events.flatMap((e) =>
        e.type === 'task-result' && e.status === 'changed' ? [`${e.host}: ${e.task}: ${e.message}`] : [],
      ),
    ).toEqual([]);
  });

  it('remove pg4: without --yes nothing changes; with it, 2 replicas stream and HAProxy forgets pg4', async () => {
    const unconfirmed = await runCli('remove', four, 'pg4');
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toContain('not confirmed: nothing was changed');
    expect((await onHost('pg4', 'systemctl is-active patroni || true', four)).trim()).toBe('active');

    const refused = await runCli('remove', four, 'pg1', '--yes');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('pg1 is one of the 3 etcd members');

    const done = await runCli('remove', four, 'pg4', '--yes');
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('pg4 is out of the cluster (members: pg1, pg2, pg3;');
    expect((await onHost('pg4', 'systemctl is-enabled patroni || true', four)).trim()).toBe('disabled');

    // The cluster is now the one the unchanged lab inventory describes: healthy, and nothing to apply.
    const { a } = await waitFor(
      'status: healthy without pg4',
      () => status(LAB_INVENTORY),
      (s) => s.code === 0,
      120_000,
    );
    expect(streaming(a)).toHaveLength(2);
    for (const host of ['pg1', 'pg2', 'pg3']) {
      expect(await onHost(host, 'grep -c pg4 /etc/haproxy/haproxy.cfg || true')).toBe('0\n');
      expect(await onHost(host, "curl -s 'http://127.0.0.1:7000/;csv' | grep -c ',pg4,' || true")).toBe(
        '0\n',
      );
    }
    const inventory = await loadInventory(LAB_INVENTORY);
    expect(inventory.hosts.map((h) => h.name)).toEqual(['pg1', 'pg2', 'pg3']);
    const again = await apply();
    expect(changedTasks(again)).toEqual([]);
  });
});
