import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { patroniMembers, waitFor } from '../support/cluster.js';
import { apply, changedTasks, ensureStack, LAB_INVENTORY, onHost } from '../support/lab.js';

const DATA = '/var/lib/postgresql/15/pgprov-lab';
const GUARD = 'The data directory belongs to this cluster';
const running = (state: string): boolean => ['running', 'streaming'].includes(state);

const healthy = () =>
  waitFor(
    'one leader and two running replicas',
    () => patroniMembers(),
    (m) =>
      m.filter((x) => x.Role === 'Leader').length === 1 &&
      m.filter((x) => x.Role !== 'Leader' && running(x.State)).length === 2,
    180_000,
  );

const failures = (run: Awaited<ReturnType<typeof apply>>) =>
  run.events.flatMap((e) => (e.type === 'host-failed' ? [{ host: e.host, message: e.error.message }] : []));

/** The system identifier of a host's data directory. */
const systemId = async (host: string): Promise<string> =>
  (
    await onHost(
      host,
      `sudo -u postgres /usr/lib/postgresql/15/bin/pg_controldata ${DATA} | sed -n 's/^Database system identifier: *//p'`,
    )
  ).trim();

/**
 * The two traps operators meet after a rebuild, and that runbooks fix by wiping data and etcd by hand: pgprov
 * stops, says what it found and which variable would fix it, changes nothing; with the variable, it fixes it
 * without deleting any data directory.
 */
describe('day-1 safety: another cluster’s data directory, a stale cluster record in etcd', () => {
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

  it('a replica holding another cluster’s data stops the run; patroni_replace_foreign_data moves it aside', async () => {
    const members = await healthy();
    const replica = members.find((m) => m.Role !== 'Leader')?.Member as string;
    const cluster = await systemId(replica);
    // The host was "rebuilt" with a disk from elsewhere: a data directory made by another initdb.
    await onHost(
      replica,
      `sudo systemctl stop patroni && sudo sh -c 'rm -rf ${DATA}/*' && sudo -u postgres /usr/lib/postgresql/15/bin/initdb -D ${DATA} >/dev/null 2>&1`,
    );
    const foreign = await systemId(replica);
    expect(foreign).not.toBe(cluster);

    const refused = await apply();
    expect(failures(refused)).toHaveLength(1);
    const [failure] = failures(refused);
    expect(failure?.host).toBe(replica);
    expect(failure?.message).toContain('system ID mismatch');
    expect(failure?.message).toContain(foreign);
    expect(failure?.message).toContain('-e patroni_replace_foreign_data=true');
    // Nothing changed on the host: the foreign directory is still there and Patroni was not started on it.
    expect(await systemId(replica)).toBe(foreign);
    expect((await onHost(replica, 'systemctl is-active patroni || true')).trim()).toBe('inactive');

    const fixed = await apply({ extraVars: { patroni_replace_foreign_data: true } });
    expect(failures(fixed)).toEqual([]);
    expect(changedTasks(fixed, replica)).toContain(`${replica}: ${GUARD}`);
    await healthy();
    expect(await systemId(replica)).toBe(cluster);
    const aside = await onHost(replica, `sudo sh -c 'ls -d ${DATA}.foreign-${foreign}-*'`);
    expect(aside.trim()).not.toBe('');

    const again = await apply();
    expect(changedTasks(again)).toEqual([]);
  });

  it('a stale cluster record in etcd stops the run; patroni_remove_stale_dcs deletes it and the cluster comes back', async () => {
    const members = await healthy();
    const leader = members.find((m) => m.Role === 'Leader')?.Member as string;
    const cluster = await systemId(leader);
    // The cluster's hosts are stopped and etcd still remembers a cluster that no longer exists.
    for (const m of [...members].sort((a, b) => Number(a.Role === 'Leader') - Number(b.Role === 'Leader')))
      await onHost(m.Member, 'sudo systemctl stop patroni');
    const key = Buffer.from('/service/pgprov-lab/initialize').toString('base64');
    const value = Buffer.from('7000000000000000001').toString('base64');
    await onHost(
      'pg1',
      `sudo curl -sS --fail --cacert /etc/patroni/pki/ca.crt --cert /etc/patroni/pki/pg1.crt --key /etc/patroni/pki/pg1.key https://10.231.0.11:2379/v3/kv/put -d '{"key":"${key}","value":"${value}"}'`,
    );

    const refused = await apply();
    const found = failures(refused);
    expect(found.map((f) => f.host).sort()).toEqual(['pg1', 'pg2', 'pg3']);
    for (const f of found) {
      expect(f.message).toContain('7000000000000000001');
      expect(f.message).toContain('no member leads it');
      expect(f.message).toContain('-e patroni_remove_stale_dcs=true');
    }
    for (const h of ['pg1', 'pg2', 'pg3'])
      expect((await onHost(h, 'systemctl is-active patroni || true')).trim()).toBe('inactive');

    const fixed = await apply({ extraVars: { patroni_remove_stale_dcs: true } });
    expect(failures(fixed)).toEqual([]);
    await healthy();
    // The same cluster, from the data directories that were there: nothing was re-initialised.
    for (const h of ['pg1', 'pg2', 'pg3']) expect(await systemId(h)).toBe(cluster);

    const again = await apply();
    expect(changedTasks(again)).toEqual([]);
  });
});
