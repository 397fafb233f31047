import { beforeAll, describe, expect, it } from 'vitest';
import { connectVip, patroniMembers, waitFor } from '../support/cluster.js';
import { apply, changedTasks, CREATED_BY, freshLab, onHost, slowestTasks } from '../support/lab.js';

describe('the whole HA stack on the lab, from bare hosts', () => {
  beforeAll(async () => {
    await freshLab(3);
  });

  it('one apply deploys etcd, Patroni + PostgreSQL, HAProxy and keepalived', async () => {
    const run = await apply();
    console.log(`first apply, slowest tasks:\n${slowestTasks(run).join('\n')}`);
    // Failures first, with their messages, so a red run says what broke.
    expect(run.events.filter((e) => e.type === 'host-failed')).toEqual([]);
    // Services started by this run are not reloaded right after by the handlers their files notified.
    expect(
      changedTasks(run).filter((t) => /reload (patroni|pgbackrest|haproxy|keepalived)$/.test(t)),
    ).toEqual([]);
    // Patroni 3.0 (bookworm) shows a healthy replica as "running", 3.1+ as "streaming"; pg_stat_replication on
    // the leader (next test) is what proves streaming.
    const members = await waitFor(
      'one leader and two replicas',
      () => patroniMembers(),
      (m) =>
        m.filter((x) => x.Role === 'Leader').length === 1 &&
        m.filter((x) => x.Role === 'Replica' && ['running', 'streaming'].includes(x.State)).length === 2,
    );
    expect(members.map((m) => m.Member)).toEqual(['pg1', 'pg2', 'pg3']);
    // No backup exists on a first deploy: the replicas' restore from the repository fails and they clone the leader.
    const replica = members.find((m) => m.Role === 'Replica')!.Member;
    expect(await onHost(replica, CREATED_BY)).toBe('basebackup\n');
  });

  it('through the virtual IP: writes on 5000 land on the leader, 5001 reads from a replica', async () => {
    const primary = await waitFor(
      'the VIP to accept writes',
      () => connectVip(5000),
      () => true,
    );
    try {
      // Schema changes are the admin role's; the application role has data rights only.
      const admin = await connectVip(5000, 'admin');
      try {
        await admin.query(
          'CREATE TABLE IF NOT EXISTS drill (id bigint PRIMARY KEY, at timestamptz DEFAULT now())',
        );
      } finally {
        await admin.end();
      }
      await expect(primary.query('CREATE TABLE app_may_not (id int)')).rejects.toThrow(/permission denied/);
      await primary.query('INSERT INTO drill (id) VALUES (1) ON CONFLICT DO NOTHING');
      const { rows } = await primary.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
      expect(rows[0]?.r).toBe(false);
      const leader = (await patroniMembers()).find((m) => m.Role === 'Leader')?.Member;
      const replication = await onHost(
        leader as string,
        'sudo -u postgres psql -Atc "SELECT count(*) FROM pg_stat_replication WHERE state = \'streaming\'"',
      );
      expect(replication.trim()).toBe('2');
    } finally {
      await primary.end();
    }
    const replica = await connectVip(5001);
    try {
      const { rows } = await replica.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
      expect(rows[0]?.r).toBe(true);
      await waitFor(
        'the row to reach the replica',
        () => replica.query('SELECT id FROM drill'),
        (r) => r.rowCount === 1,
      );
    } finally {
      await replica.end();
    }
  });

  // Patroni 3.0 (Debian 12) calls a replica whose WAL receiver stopped "running, lag 0" (it judges replayed WAL),
  // so HAProxy also asks each member's replica agent, which reads pg_stat_wal_receiver.
  it('a replica that stops streaming leaves the read pool on 5001, and comes back when it streams again', async () => {
    const members = await patroniMembers();
    const leader = members.find((m) => m.Role === 'Leader')?.Member as string;
    const [cut, other] = members.filter((m) => m.Role !== 'Leader').map((m) => m.Member) as [string, string];
    const balancer = other;
    const pool = async () =>
      Object.fromEntries(
        (
          await onHost(
            balancer,
            `curl -s 'http://127.0.0.1:7000/;csv' | awk -F, '$1 == "postgres_replicas" && $2 ~ /^pg/ { print $2 " " $18 }'`,
          )
        )
          .trim()
          .split('\n')
          .map((l) => l.split(' ') as [string, string]),
      );
    expect(await pool()).toMatchObject({ [cut]: 'UP', [other]: 'UP' });
    const sql = (q: string) => onHost(leader, `sudo -u postgres psql -XAtc "${q}"`);
    // The replica cannot log in again once its walsender is ended: its WAL receiver stops, PostgreSQL still runs.
    await sql('ALTER ROLE replicator NOLOGIN');
    try {
      await sql(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_replication WHERE application_name = '${cut}'`,
      );
      await waitFor(
        'the replica to leave the read pool',
        pool,
        (p) => p[cut]?.startsWith('DOWN') === true,
        60_000,
      );
      expect(await pool()).toMatchObject({ [other]: 'UP' });
      // HAProxy shows the agent's reason.
      expect(
        await onHost(
          balancer,
          `curl -s 'http://127.0.0.1:7000/;csv' | awk -F, '$1 == "postgres_replicas" && $2 == "${cut}"'`,
        ),
      ).toContain('WAL receiver');
      // Patroni still has it as a running replica: only PostgreSQL's view tells.
      const view = (await patroniMembers(leader)).find((m) => m.Member === cut);
      console.log(`replica ${cut} not streaming: Patroni says "${view?.State}", HAProxy took it out of 5001`);
      expect(view?.Role).toBe('Replica');
    } finally {
      await sql('ALTER ROLE replicator LOGIN');
    }
    await waitFor('the replica back in the read pool', pool, (p) => p[cut] === 'UP', 90_000);
  });

  it('pgBackRest: check passes, a full backup through the systemd unit succeeds and info lists it', async () => {
    // pg3 is the lab's repository host (the pgbackrest group); the stanza is encrypted (aes-256-cbc).
    await onHost('pg3', 'sudo -u postgres pgbackrest --stanza=pgprov-lab check');
    await onHost('pg3', 'sudo systemctl start pgbackrest-backup@full.service');
    const info = JSON.parse(
      await onHost('pg3', 'sudo -u postgres pgbackrest --stanza=pgprov-lab --output=json info'),
    ) as { cipher: string; status: { code: number }; backup: { type: string; error: boolean }[] }[];
    expect(info[0]?.cipher).toBe('aes-256-cbc');
    expect(info[0]?.status.code).toBe(0);
    expect(info[0]?.backup.filter((b) => b.type === 'full' && !b.error)).toHaveLength(1);
  });

  it('a second apply reports 0 changed on every host', async () => {
    const again = await apply();
    expect(again.failed).toBe(false);
    expect(changedTasks(again)).toEqual([]);
  });

  it('--tags patroni on an unchanged cluster reports 0 changed and runs no other phase', async () => {
    const run = await apply({ tags: ['patroni'] });
    expect(changedTasks(run)).toEqual([]);
    const phases = run.events.flatMap((e) => (e.type === 'phase-start' ? [e.phase] : []));
    expect(phases).toEqual(['patroni']);
  });
});
