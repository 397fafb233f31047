import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { SERVER_ADDRESS_SQL } from '../../src/drill/writer.js';
import { connectVip, settled, waitFor } from '../support/cluster.js';
import { apply, changedTasks, ensureStack, onHost, totalChanged } from '../support/lab.js';

const ADDRESS: Record<string, string> = { pg1: '10.231.0.11', pg2: '10.231.0.12', pg3: '10.231.0.13' };
const CLIENTS = 300;

const leaderName = async () => {
  const members = await settled();
  return members.find((m) => m.Role === 'Leader')?.Member as string;
};

/** Which member ran a statement sent through the VIP, and from where its server connection came. */
async function path(client: pg.Client): Promise<{ member: string; from: string }> {
  const { rows } = await client.query<{ member: string; from: string }>(
    `SELECT ${SERVER_ADDRESS_SQL} AS member, host(inet_client_addr()) AS "from"`,
  );
  return rows[0] as { member: string; from: string };
}

/** Server connections of the application role that PgBouncer holds on a member. */
const serverConnections = async (host: string) =>
  Number(
    await onHost(
      host,
      `sudo -u postgres psql -XAtc "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' AND client_addr = '127.0.0.1'"`,
    ),
  );

describe('PgBouncer between HAProxy and PostgreSQL', () => {
  beforeAll(async () => {
    await ensureStack();
  });

  it('carries clients of the VIP to the leader through its PgBouncer, over TLS only', async () => {
    const leader = await leaderName();
    const client = await connectVip(5000);
    try {
      // PostgreSQL sees the pooler on 127.0.0.1, on the leader.
      expect(await path(client)).toEqual({ member: ADDRESS[leader], from: '127.0.0.1' });
    } finally {
      await client.end();
    }
    const plain = await onHost(
      'pg2',
      `PGPASSWORD=x psql "host=${ADDRESS[leader]} port=6432 dbname=app user=app sslmode=disable" -c 'SELECT 1' 2>&1 || true`,
    );
    expect(plain).toMatch(/SSL required/);
  });

  it("the lookup role logs in by certificate from its own host only, and never reads a superuser's secret", async () => {
    const leader = await leaderName();
    const lookup = (user: string, as = 'pgbouncer') =>
      onHost(
        leader,
        `sudo -u postgres psql -XAtq -d app -c "SET ROLE ${as}" -c "SELECT count(*) FROM pgbouncer.get_auth('${user}')" 2>&1 || true`,
      );
    expect((await lookup('app')).trim()).toBe('1');
    expect((await lookup('postgres')).trim()).toBe('0');
    expect((await lookup('replicator')).trim()).toBe('0');
    expect(await lookup('app', 'app')).toMatch(
      /permission denied for (schema|function) (pgbouncer|get_auth)/,
    );
    const remote = await onHost(
      'pg2',
      `psql "host=${ADDRESS[leader]} port=5432 dbname=app user=pgbouncer sslmode=require" -c 'SELECT 1' 2>&1 || true`,
    );
    expect(remote).toMatch(/no pg_hba.conf entry/);
  });

  it(`${CLIENTS} clients at once through the VIP all succeed, on no more server connections than the pool`, async () => {
    const leader = await leaderName();
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, () => connectVip(5000, 'app', { connectMs: 20_000, queryMs: 60_000 })),
    );
    let most = 0;
    const watching = (async () => {
      for (let i = 0; i < 15; i++) {
        most = Math.max(most, await serverConnections(leader));
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    try {
      const answers = await Promise.all(
        clients.map((c) =>
          c.query<{ one: number }>('SELECT 1 AS one, pg_sleep(0.2)').then((r) => r.rows[0]?.one),
        ),
      );
      expect(answers.filter((a) => a === 1)).toHaveLength(CLIENTS);
    } finally {
      await watching;
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    }
    console.log(`pgbouncer: ${CLIENTS} clients served by at most ${most} server connections on ${leader}`);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(20);
  });

  it('a pool change is applied by a reload: PgBouncer keeps its process and its clients', async () => {
    const leader = await leaderName();
    const pid = () => onHost(leader, 'systemctl show -p MainPID --value pgbouncer');
    const before = await pid();
    const client = await connectVip(5000);
    try {
      const check = await apply({ check: true, extraVars: { pgbouncer_default_pool_size: 30 } });
      expect(changedTasks(check).filter((t) => !t.endsWith('reload pgbouncer'))).toEqual(
        ['pg1', 'pg2', 'pg3'].map((h) => `${h}: PgBouncer configuration`),
      );
      const changed = await apply({ tags: ['pgbouncer'], extraVars: { pgbouncer_default_pool_size: 30 } });
      expect(changedTasks(changed, leader)).toEqual([
        `${leader}: PgBouncer configuration`,
        `${leader}: reload pgbouncer`,
      ]);
      expect(await onHost(leader, 'grep ^default_pool_size /etc/pgbouncer/pgbouncer.ini')).toBe(
        'default_pool_size = 30\n',
      );
      expect(await pid()).toBe(before);
      expect((await path(client)).member).toBe(ADDRESS[leader]);
      expect(totalChanged(await apply({ tags: ['pgbouncer'] }))).toBeGreaterThan(0);
      expect(totalChanged(await apply())).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('after a failover, new connections through the VIP reach the new leader, PgBouncer untouched', async () => {
    const leader = await leaderName();
    const pids = await Promise.all(
      ['pg1', 'pg2', 'pg3'].map((h) => onHost(h, 'systemctl show -p MainPID --value pgbouncer')),
    );
    await onHost(leader, 'sudo systemctl stop patroni');
    try {
      const moved = await waitFor(
        'writes through the VIP on another member',
        async () => {
          const client = await connectVip(5000, 'app', { connectMs: 2_000, queryMs: 3_000 });
          try {
            await client.query('SELECT txid_current()');
            return await path(client);
          } finally {
            await client.end();
          }
        },
        (p) => p.member !== ADDRESS[leader],
        90_000,
      );
      expect(moved.from).toBe('127.0.0.1');
    } finally {
      await onHost(leader, 'sudo systemctl start patroni');
    }
    await leaderName();
    expect(
      await Promise.all(
        ['pg1', 'pg2', 'pg3'].map((h) => onHost(h, 'systemctl show -p MainPID --value pgbouncer')),
      ),
    ).toEqual(pids);
  });
});
