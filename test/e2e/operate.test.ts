import { beforeAll, describe, expect, it } from 'vitest';
import type { Assessment } from '../../src/cluster/health.js';
import { runCli } from '../support/cli.js';
import { longestRefusal, SERVER_ADDRESS_SQL, type Write } from '../../src/drill/writer.js';
import {
  connectVip,
  lostThroughVip,
  patroniMembers,
  vipWriter,
  waitFor,
  writesTable,
} from '../support/cluster.js';
import {
  apply,
  changedTasks,
  CREATED_BY,
  ensureStack,
  LAB_INVENTORY,
  onHost,
  postgresPaths,
} from '../support/lab.js';

const HOSTS = ['pg1', 'pg2', 'pg3'];

/** The system identifier of a host's data directory. */
const systemId = async (host: string): Promise<string> =>
  (
    await onHost(
      host,
      `sudo -u postgres ${(await postgresPaths()).bin}/pg_controldata ${(await postgresPaths()).data} | sed -n 's/^Database system identifier: *//p'`,
    )
  ).trim();

const failures = (run: Awaited<ReturnType<typeof apply>>) =>
  run.events.flatMap((e) => (e.type === 'host-failed' ? [{ host: e.host, message: e.error.message }] : []));

/** `pgprov status --json`: the assessment and the exit status. */
async function status(): Promise<{ code: number; a: Assessment }> {
  const r = await runCli('status', LAB_INVENTORY, '--json');
  if (!r.stdout.startsWith('{')) throw new Error(`status printed no JSON (exit ${r.code}): ${r.stderr}`);
  return { code: r.code, a: JSON.parse(r.stdout) as Assessment };
}

const healthy = () => waitFor('status: healthy', status, (s) => s.code === 0, 180_000);
const leaderNow = async () => (await healthy()).a.leader as string;

/** Writes through the virtual IP, as the application; returns the member's address that took it. */
async function writeThroughVip(): Promise<string> {
  const client = await connectVip(5000, 'app');
  try {
    const { rows } = await client.query<{ server: string }>(
      `SELECT txid_current(), ${SERVER_ADDRESS_SQL} AS server`,
    );
    return rows[0]?.server ?? '';
  } finally {
    await client.end();
  }
}

/**
 * The runbook commands of day 2, each typed once: the state they report is checked against the hosts, and each
 * that changes something is checked to have done it.
 */
describe('day-2 commands on the lab', () => {
  beforeAll(async () => {
    await ensureStack();
  });

  it('backup takes a full backup and backups lists it with its size and WAL range', async () => {
    const made = await runCli('backup', LAB_INVENTORY, '--type', 'full');
    expect(made.stderr).toContain('full backup of stanza pgprov-lab on pg3');
    expect(made.code).toBe(0);
    const label = /^(\d{8}-\d{6}F)\s+full\s/m.exec(made.stdout)?.[1];
    expect(label).toBeTruthy();
    const listed = await runCli('backups', LAB_INVENTORY, '--json');
    expect(listed.code).toBe(0);
    const info = JSON.parse(listed.stdout) as {
      backups: { label: string; databaseBytes: number; walStart: string }[];
    };
    const backup = info.backups.find((b) => b.label === label);
    expect(backup?.databaseBytes).toBeGreaterThan(1_000_000);
    expect(backup?.walStart).toMatch(/^[0-9A-F]{24}$/);
    const text = await runCli('backups', LAB_INVENTORY);
    expect(text.stdout).toMatch(/^LABEL\s+TYPE\s+STARTED/m);
    expect(text.stdout).toContain(label as string);
  });

  it('backup waits for a scheduled backup that is running, then takes its own on top of it', async () => {
    // The timer's unit, started as the timer would; the script returns once its backup holds the lock.
    const lock = '/var/spool/pgbackrest/backup-pgprov-lab.lock';
    const scheduled = await onHost(
      'pg3',
      `systemctl start --no-block pgbackrest-backup@full.service
       for i in $(seq 100); do runuser -u postgres -- flock --nonblock ${lock} true || { echo held; exit 0; }; sleep 0.1; done
       echo free`,
    );
    expect(scheduled.trim()).toBe('held');
    const made = await runCli('backup', LAB_INVENTORY, '--type', 'incr');
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).toContain('already running on pg3 (a scheduled one?): waiting for it to finish');
    const result = await onHost('pg3', 'systemctl show -p Result --value pgbackrest-backup@full.service');
    expect(result.trim()).toBe('success');
    // The incremental backup is based on the scheduled full one: it ran after it, not beside it.
    const listed = JSON.parse((await runCli('backups', LAB_INVENTORY, '--json')).stdout) as {
      backups: { label: string; type: string; prior: string | null }[];
    };
    const [full, incr] = listed.backups.slice(-2);
    expect(full?.type).toBe('full');
    expect(incr).toMatchObject({ type: 'incr', prior: full?.label });
  });

  it('status: healthy, exit 0, with the leader, the virtual IP and a recent backup', async () => {
    const { a } = await healthy();
    expect(a.problems).toEqual([]);
    expect(a.members.map((m) => m.member)).toEqual(HOSTS);
    expect(a.members.filter((m) => m.member !== a.leader).map((m) => m.receiver)).toEqual([
      'streaming',
      'streaming',
    ]);
    expect(a.etcd).toMatchObject({ healthy: 3, total: 3 });
    expect(a.vip?.heldBy).toHaveLength(1);
    expect(a.backups?.count).toBeGreaterThan(0);
    expect(a.certificates.length).toBeGreaterThanOrEqual(HOSTS.length * 2);
    const text = await runCli('status', LAB_INVENTORY);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^MEMBER\s+HOST\s+ROLE\s+STATE\s+TL\s+LAG\s+WAL RECEIVER$/m);
    expect(text.stdout).toContain('Healthy: no problem found.');
    // The lab's hosts are containers: no watchdog, and status says why (not a problem in automatic mode).
    expect(a.watchdog.mode).toBe('automatic');
    for (const m of a.watchdog.members)
      expect(m).toEqual({
        host: m.host,
        usable: false,
        why: 'a systemd-nspawn container has no /dev/watchdog',
      });
    expect(text.stdout).toContain(
      'watchdog      automatic: none on pg1, pg2, pg3 (a systemd-nspawn container has no /dev/watchdog)',
    );
  });

  it('status: a replica stopped makes it degraded (exit 3) and names the replica', async () => {
    const leader = await leaderNow();
    const replica = HOSTS.find((h) => h !== leader) as string;
    await onHost(replica, 'sudo systemctl stop patroni');
    try {
      const { a } = await waitFor('status: degraded', status, (s) => s.code === 3);
      expect(a.verdict).toBe('degraded');
      expect(a.problems.map((p) => p.subject)).toContain(replica);
      expect(a.leader).toBe(leader);
    } finally {
      await onHost(replica, 'sudo systemctl start patroni');
    }
    await healthy();
  });

  it('status: an etcd member down makes it degraded (exit 3), quorum kept', async () => {
    await onHost('pg2', 'sudo systemctl stop etcd');
    try {
      const { a } = await waitFor('status: degraded', status, (s) => s.code === 3);
      expect(a.etcd).toMatchObject({ healthy: 2, total: 3 });
      expect(a.problems.find((p) => p.subject === 'pg2')?.message).toMatch(/^etcd member unhealthy/);
    } finally {
      await onHost('pg2', 'sudo systemctl start etcd');
    }
    await healthy();
  });

  it('switchover to a named replica and back; writes through the VIP work after each', async () => {
    const first = await leaderNow();
    const target = HOSTS.find((h) => h !== first) as string;
    const there = await runCli('switchover', LAB_INVENTORY, '--to', target);
    expect(there.code, there.stderr).toBe(0);
    expect(there.stdout).toMatch(
      new RegExp(`^${target} is the leader \\(timeline \\d+\\); ${first} streams from it\\.$`, 'm'),
    );
    expect(there.stdout).toMatch(/^Writes through the virtual IP were refused for \d+\.\d s\.$/m);
    expect((await patroniMembers()).find((m) => m.Role === 'Leader')?.Member).toBe(target);
    expect(await writeThroughVip()).toBe(`10.231.0.1${target.slice(2)}`);

    const refused = await runCli('switchover', LAB_INVENTORY, '--to', target);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `refusing to switch over to ${target}: it is the leader. Nothing was changed.`,
    );

    const back = await runCli('switchover', LAB_INVENTORY, '--to', first);
    expect(back.code, back.stderr).toBe(0);
    expect(await writeThroughVip()).toBe(`10.231.0.1${first.slice(2)}`);
    await healthy();
  });

  it('reinit rebuilds a replica whose data directory was deleted; without --yes it changes nothing', async () => {
    const leader = await leaderNow();
    const replica = HOSTS.filter((h) => h !== leader).at(-1) as string;
    const { data } = await postgresPaths();
    // The disk of a stopped replica is lost.
    await onHost(replica, `sudo systemctl stop patroni && sudo rm -rf ${data}`);
    const broken = await waitFor('status: degraded', status, (s) => s.code === 3);
    expect(broken.a.problems.map((p) => p.subject)).toContain(replica);

    const unconfirmed = await runCli('reinit', LAB_INVENTORY, replica);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toContain(`DELETE its data directory ${data}`);
    expect(unconfirmed.stderr).toContain('not confirmed: nothing was changed');
    expect((await onHost(replica, 'systemctl is-active patroni || true')).trim()).toBe('inactive');

    const leaderRefused = await runCli('reinit', LAB_INVENTORY, leader, '--yes');
    expect(leaderRefused.code).toBe(1);
    expect(leaderRefused.stderr).toContain(`${leader} is the leader: reinit rebuilds replicas only`);

    const done = await runCli('reinit', LAB_INVENTORY, replica, '--yes');
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(new RegExp(`^${replica} streams from ${leader} on timeline \\d+\\.$`, 'm'));
    const receiver = await onHost(
      replica,
      `sudo -u postgres psql -XAtc "SELECT status FROM pg_stat_wal_receiver"`,
    );
    expect(receiver.trim()).toBe('streaming');
    // The backup taken above is on a timeline before the switchovers: restoring it is refused, the leader cloned.
    expect(await onHost(replica, CREATED_BY)).toBe('basebackup\n');
    expect(
      await onHost(
        replica,
        `sudo journalctl -u patroni --no-pager -o cat | grep -c "no backup on the leader's timeline" || true`,
      ),
    ).not.toBe('0\n');
    await healthy();
  });

  it("apply names a replica promoted behind Patroni's back (a forked timeline) with the way out", async () => {
    const leader = await leaderNow();
    const replica = HOSTS.filter((h) => h !== leader)[0] as string;
    const { data, bin } = await postgresPaths();
    // Maintenance mode keeps Patroni from repairing it at once: the member stays on its own timeline.
    let forked = '';
    await onHost(leader, 'sudo patronictl -c /etc/patroni/config.yml pause --wait');
    try {
      await onHost(replica, `sudo -u postgres ${bin}/pg_ctl promote -w -D ${data}`);
      forked = (
        await onHost(
          replica,
          `sudo -u postgres psql -XAtc "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"`,
        )
      ).trim();
      const run = await runCli('apply', LAB_INVENTORY, '--tags', 'patroni', '--plain');
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain(
        `WARNING: after apply, ${replica}: runs as a primary while ${leader} leads the cluster`,
      );
      expect(run.stderr).toContain(`pgprov reinit ${LAB_INVENTORY} ${replica}`);
      // It archived nothing: the forked timeline's history is not in the archive that every replica reads.
      expect(
        await onHost(
          replica,
          `sudo -u postgres sh -c 'cd ${data} && /usr/local/sbin/pgprov-leader-only true pg_wal/${forked}.history' 2>&1 || true`,
        ),
      ).toContain('does not hold the leader key');
      expect(
        await onHost('pg3', `sudo -u postgres pgbackrest --stanza=pgprov-lab repo-ls --recurse archive`),
      ).not.toContain(`${forked}.history`);
    } finally {
      await onHost(leader, 'sudo patronictl -c /etc/patroni/config.yml resume --wait');
    }
    const done = await runCli('reinit', LAB_INVENTORY, replica, '--yes');
    expect(done.code, done.stderr).toBe(0);
    await healthy();
    // Nor while Patroni demoted it after maintenance mode (its own REST API silent meanwhile).
    expect(
      await onHost('pg3', `sudo -u postgres pgbackrest --stanza=pgprov-lab repo-ls --recurse archive`),
    ).not.toContain(`${forked}.history`);
    // A healthy cluster: apply names nothing.
    const quiet = await runCli('apply', LAB_INVENTORY, '--tags', 'patroni', '--plain');
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toContain('after apply');
  });

  it('restore to a noted time: earlier rows stay, later ones are gone, every member streams on a new timeline', async () => {
    const before = (await healthy()).a;
    const admin = await connectVip(5000, 'admin');
    let noted = '';
    try {
      await admin.query('DROP TABLE IF EXISTS restore_rows');
      await admin.query('CREATE TABLE restore_rows (id int PRIMARY KEY, phase text NOT NULL)');
      await admin.query("INSERT INTO restore_rows SELECT g, 'kept' FROM generate_series(1, 100) g");
      const { rows } = await admin.query<{ t: string }>(
        "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS t",
      );
      noted = rows[0]?.t ?? '';
      await new Promise((r) => setTimeout(r, 1_500));
      await admin.query("INSERT INTO restore_rows SELECT g, 'discarded' FROM generate_series(101, 200) g");
    } finally {
      await admin.end();
    }
    const counts = async () => {
      const c = await connectVip(5000, 'admin');
      try {
        const { rows } = await c.query<{ phase: string; n: string }>(
          'SELECT phase, count(*) AS n FROM restore_rows GROUP BY phase ORDER BY phase',
        );
        return Object.fromEntries(rows.map((r) => [r.phase, Number(r.n)]));
      } finally {
        await c.end();
      }
    };

    const unconfirmed = await runCli('restore', LAB_INVENTORY, '--to', noted);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toContain(`DISCARDED: every change committed after`);
    expect(unconfirmed.stderr).toContain('not confirmed: nothing was changed');
    expect(await counts()).toEqual({ discarded: 100, kept: 100 });

    const done = await runCli('restore', LAB_INVENTORY, '--to', noted, '--yes');
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/^Restored to .* every member streams\.$/m);
    expect(await counts()).toEqual({ kept: 100 });

    const after = (await healthy()).a;
    expect(after.timeline).toBeGreaterThan(before.timeline as number);
    expect(after.members.map((m) => m.timeline)).toEqual(HOSTS.map(() => after.timeline));
    expect(after.members.filter((m) => m.member !== after.leader).map((m) => m.receiver)).toEqual([
      'streaming',
      'streaming',
    ]);
    const again = await apply();
    expect(again.failed).toBe(false);
    expect(changedTasks(again)).toEqual([]);
  });

  it("repair: another cluster's data directory on a replica is shown, then moved aside with --force", async () => {
    const leader = await leaderNow();
    const replica = HOSTS.filter((h) => h !== leader)[0] as string;
    const { data, bin } = await postgresPaths();
    await onHost(
      replica,
      `sudo systemctl stop patroni && sudo sh -c 'rm -rf ${data}/*' && sudo -u postgres ${bin}/initdb -D ${data} >/dev/null 2>&1`,
    );
    // apply stops at it on that host alone, says what it found and the ways out, and starts nothing there.
    const refused = failures(await apply());
    expect(refused.map((f) => f.host)).toEqual([replica]);
    expect(refused[0]?.message).toContain('system ID mismatch');
    expect(refused[0]?.message).toContain('-e patroni_replace_foreign_data=true');
    expect(refused[0]?.message).toContain('pgprov repair');
    expect((await onHost(replica, 'systemctl is-active patroni || true')).trim()).toBe('inactive');

    const shown = await runCli('repair', LAB_INVENTORY);
    expect(shown.code).toBe(1);
    expect(shown.stderr).toContain(`${replica}: system ID mismatch: ${data} has system identifier`);
    expect(shown.stderr).toContain(`${replica}: MOVE its data directory aside`);
    expect(shown.stderr).toContain('needs --force: nothing was changed');
    expect((await onHost(replica, 'systemctl is-active patroni || true')).trim()).toBe('inactive');

    const fixed = await runCli('repair', LAB_INVENTORY, '--force');
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toContain('Repaired: every member streams from the leader.');
    expect((await onHost(replica, `sudo sh -c 'ls -d ${data}.foreign-*'`)).trim()).not.toBe('');
    await healthy();
    const clean = await runCli('repair', LAB_INVENTORY);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('Nothing to repair');
  });

  it('repair: a stale cluster record in etcd is deleted with --force and the cluster starts from its data', async () => {
    const { a } = await healthy();
    const cluster = await systemId('pg1');
    for (const h of [...HOSTS].sort((x, y) => Number(x === a.leader) - Number(y === a.leader)))
      await onHost(h, 'sudo systemctl stop patroni');
    const key = Buffer.from('/service/pgprov-lab/initialize').toString('base64');
    const value = Buffer.from('7000000000000000001').toString('base64');
    await onHost(
      'pg1',
      `sudo curl -sS --fail --cacert /etc/patroni/pki/ca.crt --cert /etc/patroni/pki/pg1.crt --key /etc/patroni/pki/pg1.key https://10.231.0.11:2379/v3/kv/put -d '{"key":"${key}","value":"${value}"}'`,
    );
    // apply stops on every member, names the record and the ways out, and starts no Patroni.
    const refused = failures(await apply());
    expect(refused.map((f) => f.host).sort()).toEqual(HOSTS);
    for (const f of refused) {
      expect(f.message).toContain('7000000000000000001');
      expect(f.message).toContain('no member leads it');
      expect(f.message).toContain('-e patroni_remove_stale_dcs=true');
    }
    for (const h of HOSTS)
      expect((await onHost(h, 'systemctl is-active patroni || true')).trim()).toBe('inactive');

    const shown = await runCli('repair', LAB_INVENTORY);
    expect(shown.code).toBe(1);
    expect(shown.stderr).toContain('etcd records cluster pgprov-lab as 7000000000000000001');
    expect(shown.stderr).toContain("DELETE the cluster's keys in etcd (under /service/pgprov-lab/)");
    const fixed = await runCli('repair', LAB_INVENTORY, '--force');
    expect(fixed.code, fixed.stderr).toBe(0);
    await healthy();
    // The same cluster, from the data directories that were there: nothing was initialised again.
    for (const h of HOSTS) expect(await systemId(h)).toBe(cluster);
  });

  it('certificates: short-lived ones are flagged, renewed and served by etcd, Patroni, PostgreSQL, PgBouncer and pgBackRest, writes going on', async () => {
    await healthy();
    await writesTable('certs_writes');
    const writer = vipWriter('certs_writes');
    let writes: Write[] = [];
    try {
      const short = await runCli(
        'certs',
        LAB_INVENTORY,
        '--rotate',
        '-e',
        'pgprov_certificate_days=2',
        '-e',
        'pgprov_certificate_renew_days=0',
      );
      expect(short.code, short.stderr).toBe(0);
      const flagged = await status();
      expect(flagged.code).toBe(3);
      expect(
        flagged.a.problems.filter((p) => /^certificate .* expires in 1 days$/.test(p.message)).length,
      ).toBeGreaterThanOrEqual(HOSTS.length * 4);

      const renewed = await runCli('certs', LAB_INVENTORY, '--renew-within', '30d');
      expect(renewed.code, renewed.stderr).toBe(0);
      const rows = renewed.stdout.split('\n').filter((l) => /\/pg\d\.crt\s/.test(l));
      expect(rows.length).toBeGreaterThanOrEqual(HOSTS.length * 4);
      for (const r of rows) expect(Number(r.trim().split(/\s+/).at(-1))).toBeGreaterThanOrEqual(363);
    } finally {
      writes = await writer.stop();
    }
    // What each service presents now is the renewed certificate.
    const year = String(new Date().getUTCFullYear() + 1);
    const served = await onHost(
      'pg1',
      `for p in 2379 8008 8432; do openssl s_client -connect 10.231.0.12:$p </dev/null 2>/dev/null | openssl x509 -noout -enddate; done; for p in 5432 6432; do openssl s_client -starttls postgres -connect 10.231.0.12:$p </dev/null 2>/dev/null | openssl x509 -noout -enddate; done`,
    );
    const dates = served.trim().split('\n');
    // etcd, Patroni, pgBackRest's TLS server, PostgreSQL, PgBouncer.
    expect(dates).toHaveLength(5);
    for (const d of dates) expect(d).toMatch(new RegExp(`^notAfter=.* ${year} GMT$`));
    // Writable throughout: no refusal longer than a couple of seconds, nothing acknowledged lost.
    expect(writes.filter((w) => w.ok).length).toBeGreaterThan(50);
    expect(longestRefusal(writes).seconds).toBeLessThan(3);
    expect(await lostThroughVip('certs_writes', writes)).toEqual([]);
    await healthy();
    expect(changedTasks(await apply())).toEqual([]);
  });

  it('CA rotation: every service ends serving certificates of the new CA and trusting it alone, the leader stays, writes go on', async () => {
    const leader = (await status()).a.leader;
    await writesTable('ca_writes');
    const writer = vipWriter('ca_writes');
    let writes: Write[] = [];
    try {
      const rotated = await runCli('certs', LAB_INVENTORY, '--rotate-ca');
      expect(rotated.code, rotated.stderr).toBe(0);
      for (const step of ['step 1 of 3', 'step 2 of 3', 'step 3 of 3', 'the old CA is retired'])
        expect(rotated.stderr).toContain(step);
      expect(rotated.stderr).not.toContain('a CA rotation is under way');
    } finally {
      writes = await writer.stop();
    }
    const today = new Date().toISOString().slice(0, 10);
    // Who issued what each service presents, and what each copy of the CA on each host holds.
    const seen = await onHost(
      'pg1',
      `for p in 2379 8008 8432; do openssl s_client -connect 10.231.0.12:$p </dev/null 2>/dev/null | openssl x509 -noout -issuer; done; ` +
        `for p in 5432 6432; do openssl s_client -starttls postgres -connect 10.231.0.12:$p </dev/null 2>/dev/null | openssl x509 -noout -issuer; done; ` +
        `for f in /etc/pgprov/tls/ca.crt /etc/etcd/pki/ca.crt /etc/patroni/pki/ca.crt /etc/pgbackrest/pki/ca.crt /etc/pgbouncer/pki/ca.crt /etc/haproxy/pki/ca.crt; do echo "$f $(sudo grep -c 'BEGIN CERTIFICATE' $f) $(sudo openssl x509 -in $f -noout -subject)"; done`,
    );
    const lines = seen.trim().split('\n');
    for (const line of lines.slice(0, 5))
      expect(line).toMatch(new RegExp(`^issuer=CN = pgprov pgprov-lab CA ${today}T`));
    for (const line of lines.slice(5))
      expect(line).toMatch(new RegExp(` 1 subject=CN = pgprov pgprov-lab CA ${today}T[\\d:]+Z$`));
    expect(lines).toHaveLength(11);
    expect(writes.filter((w) => w.ok).length).toBeGreaterThan(50);
    expect(longestRefusal(writes).seconds).toBeLessThan(3);
    expect(await lostThroughVip('ca_writes', writes)).toEqual([]);
    expect((await status()).a.leader).toBe(leader);
    expect(changedTasks(await apply())).toEqual([]);
  });
});
