import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assessment } from '../../src/cluster/health.js';
import { labDown, labStop } from '../../src/lab/index.js';
import { Session } from '../../src/operate/session.js';
import { readPromotions } from '../../src/standby/promotion.js';
import { runCli } from '../support/cli.js';
import { waitFor } from '../support/cluster.js';
import { apply, ensureLab, ensureStack, LAB_INVENTORY, onHost, ROOT, totalChanged } from '../support/lab.js';

/**
 * A second site: inventory/lab-standby.yaml (pg5, pg6, its own etcd, HAProxy and VIP 10.231.0.9) follows the lab's
 * cluster. pg5 and pg6 are made afresh when the file starts.
 */
const STANDBY = join(ROOT, 'inventory', 'lab-standby.yaml');
const STATE = join(ROOT, 'inventory', '.pgprov', 'lab');

async function status(inventory: string): Promise<{ code: number; a: Assessment }> {
  const r = await runCli('status', inventory, '--json');
  if (!r.stdout.startsWith('{')) throw new Error(`status printed no JSON (exit ${r.code}): ${r.stderr}`);
  return { code: r.code, a: JSON.parse(r.stdout) as Assessment };
}

/** A client of a cluster's virtual IP: port 5000 (writes) as admin or app. */
async function sql(inventory: string, user: 'admin' | 'app', text: string): Promise<unknown[]> {
  const session = await Session.open(inventory);
  try {
    const client = await session.client(5000, user);
    try {
      return (await client.query(text)).rows;
    } finally {
      await client.end();
    }
  } finally {
    await session.close();
  }
}

/** WAL segments a member's PostgreSQL says it restored from the archive (its log). */
const restoredSegments = async (host: string) =>
  Number(
    (
      await onHost(
        host,
        `sudo cat /var/log/postgresql/*.log | grep -c 'restored log file .* from archive' || true`,
        STANDBY,
      )
    ).trim(),
  );

/** `host: task` of every task an apply changed. */
const changedTasks = (run: Awaited<ReturnType<typeof apply>>): string[] =>
  run.events.flatMap((e) =>
    e.type === 'task-result' && e.status === 'changed' && !e.handler ? [`${e.host}: ${e.task}`] : [],
  );

/** Rows of the check table on a standby member, read there over its local socket. */
const rowsOn = async (host: string, tag: string) =>
  Number(
    (
      await onHost(
        host,
        `sudo -u postgres psql -d app -XAtc "select count(*) from standby_check where tag = '${tag}'"`,
        STANDBY,
      )
    ).trim(),
  );

describe('a standby cluster in a second site: follows the primary, shows its lag, is promoted', () => {
  // Whichever member took the initialize key first leads the standby cluster: pg5 or pg6.
  let leader = '';
  let replica = '';

  beforeAll(async () => {
    await ensureStack();
    // A standby starts from bare hosts: pg5 and pg6 made afresh, so the file also runs again on its own.
    await labDown({ hosts: ['pg5', 'pg6'] });
    await ensureLab(['pg5', 'pg6']);
    await labStop('pg4').catch(() => undefined); // the scaling example's host: not needed here
    const run = await apply({ inventoryFile: STANDBY });
    if (run.failed)
      throw new Error(
        `the standby did not apply: ${JSON.stringify(run.events.filter((e) => e.type === 'host-failed'))}`,
      );
    // The standby recorded itself in the primary's state folder: the primary's repository host lets it read WAL.
    const primary = await apply({ tags: ['pgbackrest'] });
    expect(changedTasks(primary)).toContain('pg3: pgBackRest configuration');
    const { a } = await waitFor(
      'a standby leader',
      () => status(STANDBY),
      (s) => s.a.members.some((m) => m.role === 'standby leader'),
      60_000,
    );
    leader = a.members.find((m) => m.role === 'standby leader')?.member ?? '';
    replica = leader === 'pg5' ? 'pg6' : 'pg5';
    await sql(
      LAB_INVENTORY,
      'admin',
      'CREATE TABLE IF NOT EXISTS standby_check (id bigserial PRIMARY KEY, tag text, at timestamptz DEFAULT now()); GRANT INSERT, SELECT ON standby_check TO app; GRANT USAGE ON SEQUENCE standby_check_id_seq TO app',
    );
  });

  afterAll(async () => {
    // The primary's record of the promotion: later files expect a healthy primary.
    for (const p of await readPromotions(STATE)) await rm(p.file, { force: true });
    await sql(LAB_INVENTORY, 'admin', 'DROP TABLE IF EXISTS standby_check').catch(() => undefined);
    for (const host of ['pg5', 'pg6']) await labStop(host).catch(() => undefined);
  });

  it('rows written on the primary appear on both standby members within seconds', async () => {
    const tag = `t${Date.now()}`;
    await sql(
      LAB_INVENTORY,
      'app',
      `INSERT INTO standby_check (tag) SELECT '${tag}' FROM generate_series(1, 100)`,
    );
    const started = Date.now();
    for (const host of ['pg5', 'pg6'])
      await waitFor(
        `100 rows on ${host}`,
        () => rowsOn(host, tag),
        (n) => n === 100,
        30_000,
      );
    const seconds = (Date.now() - started) / 1000;
    console.log(`standby: 100 rows written on the primary were on pg5 and pg6 ${seconds.toFixed(1)} s later`);
    expect(seconds).toBeLessThan(10);
  });

  it("status shows the standby leader streaming from the primary's VIP, and how far behind it is", async () => {
    const { code, a } = await status(STANDBY);
    expect(a.problems).toEqual([]);
    expect(code).toBe(0);
    expect(a.standby).toMatchObject({ upstream: '10.231.0.10:5002', receiver: 'streaming' });
    expect(a.standby?.behindBytes).toBeLessThan(1048576);
    expect(a.members.map((m) => [m.member, m.role, m.receiver]).sort()).toEqual(
      [
        [leader, 'standby leader', '-'],
        [replica, 'replica', 'streaming'],
      ].sort(),
    );
    const text = await runCli('status', STANDBY);
    expect(text.stdout).toContain('standby of    10.231.0.10:5002:');
  });

  it('a second apply of the standby reports 0 changed', async () => {
    expect(totalChanged(await apply({ inventoryFile: STANDBY }))).toBe(0);
  });

  it("streaming broken, the standby leader reads the primary's WAL from its pgBackRest repository", async () => {
    // The standby leader streams from a port where nothing listens: the link to the primary's HAProxy is down.
    await onHost(
      leader,
      'sudo patronictl -c /etc/patroni/config.yml edit-config --force --quiet --set standby_cluster.port=5999',
      STANDBY,
    );
    await waitFor(
      'the standby leader to stop streaming',
      async () => (await status(STANDBY)).a.standby?.receiver,
      (r) => r !== 'streaming',
      60_000,
    );
    const restoredBefore = await restoredSegments(leader);
    const tag = `w${Date.now()}`;
    await sql(
      LAB_INVENTORY,
      'app',
      `INSERT INTO standby_check (tag) SELECT '${tag}' FROM generate_series(1, 50)`,
    );
    // The segment holding the rows is archived once full; the primary's leader closes it now.
    for (const host of ['pg1', 'pg2', 'pg3'])
      await onHost(
        host,
        `sudo -u postgres psql -XAtc "SELECT CASE WHEN NOT pg_is_in_recovery() THEN pg_switch_wal() END"`,
      );
    const started = Date.now();
    await waitFor(
      `50 rows on ${leader} from the repository`,
      () => rowsOn(leader, tag),
      (n) => n === 50,
      90_000,
    );
    console.log(
      `standby: rows reached ${leader} through the primary's repository ${((Date.now() - started) / 1000).toFixed(1)} s after the switch`,
    );
    expect((await status(STANDBY)).a.standby?.receiver).not.toBe('streaming');
    // PostgreSQL's own word for a segment restore_command brought.
    expect(await restoredSegments(leader)).toBeGreaterThan(restoredBefore);
    // apply puts the standby's settings back (the DCS's port is the inventory's), and it streams again.
    const restored = await apply({ inventoryFile: STANDBY, tags: ['patroni'] });
    // A run_once task: it runs on the phase's first host (pg5), whichever member leads.
    expect(changedTasks(restored)).toContain('pg5: Cluster-wide settings in etcd follow the inventory');
    await waitFor(
      'the standby leader to stream again',
      async () => (await status(STANDBY)).a.standby?.receiver,
      (r) => r === 'streaming',
      60_000,
    );
  });

  it('promote says what it will do and, unconfirmed, changes nothing', async () => {
    const refused = await runCli('promote', STANDBY);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Promote the standby cluster pgprov-lab-dr:');
    expect(refused.stderr).toContain('WARNING: the primary (pgprov-lab) still answers on 10.231.0.10:5002');
    expect(refused.stderr).toContain('not confirmed: nothing was changed');
    expect((await status(STANDBY)).a.standby?.receiver).toBe('streaming');
  });

  it('promoted, it takes writes through its own VIP; the primary says a standby of it takes writes', async () => {
    const done = await runCli('promote', STANDBY, '--yes');
    expect(done.stderr + done.stdout).toContain(`pgprov-lab-dr takes writes: ${leader} leads`);
    expect(done.code).toBe(0);
    const tag = `p${Date.now()}`;
    await sql(STANDBY, 'app', `INSERT INTO standby_check (tag) VALUES ('${tag}')`);
    expect(await rowsOn(leader, tag)).toBe(1);
    const standby = await status(STANDBY);
    expect(standby.a.standby).toBeUndefined();
    expect(standby.a.members.find((m) => m.member === leader)?.role).toBe('leader');
    await waitFor(
      `${replica} streaming from ${leader}`,
      () => status(STANDBY),
      (s) => s.code === 0,
      60_000,
    );
    const primary = await status(LAB_INVENTORY);
    expect(primary.code).toBe(4);
    expect(primary.a.problems.map((p) => p.message)).toContainEqual(
      expect.stringMatching(
        /^standby cluster pgprov-lab-dr was promoted at .* and takes writes at 10\.231\.0\.9/,
      ),
    );
  });

  it('a second apply of both inventories reports 0 changed; the standby is told to drop standby_of', async () => {
    const standby = await apply({ inventoryFile: STANDBY });
    const warnings = standby.events.filter((e) => e.type === 'log' && e.level === 'warn');
    expect(warnings.map((e) => (e.type === 'log' ? e.message : ''))).toContainEqual(
      expect.stringContaining('Remove standby_of from the inventory'),
    );
    expect(totalChanged(standby)).toBe(0);
    // Promoted, it reads no more WAL from the primary: the primary's next apply withdraws that, and only that.
    expect(changedTasks(await apply())).toEqual(['pg3: pgBackRest configuration']);
    expect(totalChanged(await apply())).toBe(0);
  });
});
