import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { settled } from '../support/cluster.js';
import { apply, changedTasks, ensureStack, LAB_INVENTORY } from '../support/lab.js';

const healthy = () => settled(180_000);

const failures = (run: Awaited<ReturnType<typeof apply>>) =>
  run.events.flatMap((e) => (e.type === 'host-failed' ? [{ host: e.host, message: e.error.message }] : []));

/**
 * A second controller must never take over a running cluster by accident. The two traps of a rebuild (another
 * cluster's data directory, a stale record in etcd) are refused by apply and fixed by `pgprov repair`: see
 * operate.test.ts, which shows both.
 */
describe('day-1 safety: another state folder', () => {
  beforeAll(async () => {
    await ensureStack();
    await healthy();
  });

  it('another state folder (a second checkout, a lost one) is refused before it replaces the CA', async () => {
    // The same inventory beside another state folder: pgprov there makes a new CA and new passwords.
    const dir = mkdtempSync(join(tmpdir(), 'pgprov-other-checkout-'));
    copyFileSync(LAB_INVENTORY, join(dir, 'lab.yaml'));
    try {
      const refused = await apply({ inventoryFile: join(dir, 'lab.yaml') });
      expect(failures(refused).map((f) => f.host)).toEqual(['pg1', 'pg2', 'pg3']);
      for (const f of failures(refused)) expect(f.message).toContain('the host trusts another CA');
      const hints = refused.events.flatMap((e) => (e.type === 'host-failed' ? [e.error.hint ?? ''] : []));
      for (const hint of hints) expect(hint).toContain('-e pgprov_replace_ca=true');
      expect(changedTasks(refused)).toEqual([]);
      // The cluster was not touched: its own state folder still finds nothing to change.
      expect(changedTasks(await apply())).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
