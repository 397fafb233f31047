import { describe, expect, it } from 'vitest';
import { type ClusterSnapshot, assess } from '../../src/cluster/health.js';
import type { Member } from '../../src/cluster/member.js';
import type { MemberReport } from '../../src/facts/member.js';
import { describeStatus } from '../../src/cli/status.js';

const AT = new Date('2026-11-25T12:00:00Z');
const DAY = 86_400_000;
const T = { certificateWarnMs: 30 * DAY, backupMaxAgeMs: DAY };
const HOSTS = ['pg1', 'pg2', 'pg3'];

const view = (leader: string, tl = 1, overrides: Record<string, Partial<Member>> = {}): Member[] =>
  HOSTS.map((name) => ({
    cluster: 'lab',
    name,
    host: `10.0.0.${name.slice(2)}`,
    role: name === leader ? 'leader' : 'replica',
    state: 'running',
    timeline: tl,
    ...(name === leader ? {} : { lagMb: 0 }),
    pendingRestart: false,
    ...overrides[name],
  }));

/** A healthy 3-member cluster led by pg1; each scenario changes what it needs. */
function healthy(): ClusterSnapshot {
  return {
    cluster: 'lab',
    at: AT,
    unreachable: {},
    members: HOSTS.map((host) => ({
      host,
      address: `10.0.0.${host.slice(2)}`,
      patroni: {
        answered: true,
        state: 'running',
        role: host === 'pg1' ? 'master' : 'replica',
        timeline: 1,
        pendingRestart: false,
        replication: [],
      },
      server:
        host === 'pg1'
          ? { answered: true, inRecovery: false }
          : {
              answered: true,
              inRecovery: true,
              receiver: { status: 'streaming', timeline: 1 },
              replayLagBytes: 0,
            },
      view: view('pg1'),
    })),
    etcd: HOSTS.map((host) => ({ host, healthy: true, why: 'healthy' })),
    balancers: HOSTS.map((host) => ({
      host,
      holdsVip: host === 'pg1',
      haproxy: {
        answered: true,
        servers: HOSTS.flatMap((s) => [
          { proxy: 'postgres_primary', server: s, status: s === 'pg1' ? 'UP' : 'DOWN' },
          { proxy: 'postgres_replicas', server: s, status: s === 'pg1' ? 'DOWN' : 'UP' },
        ]),
      },
    })),
    vip: '10.0.0.10',
    backups: {
      host: 'pg3',
      info: {
        answered: true,
        status: { code: 0, message: 'ok' },
        backups: [
          {
            label: '20261125-100000F',
            type: 'full',
            started: AT.getTime() / 1000 - 7200,
            stopped: AT.getTime() / 1000 - 7100,
            databaseBytes: 1,
            repositoryBytes: 1,
            walStart: 'a',
            walStop: 'b',
          },
        ],
      },
    },
    certificates: HOSTS.map((host) => ({
      host,
      files: [
        { path: `/etc/pgprov/tls/${host}.crt`, subject: host, notAfter: new Date(AT.getTime() + 365 * DAY) },
      ],
    })),
    settings: { maximumLagBytes: 1048576, durability: 'async', watchdog: 'automatic' },
  };
}

/** Patroni's own report of a member running as the primary. */
const primaryOn = (timeline: number): MemberReport => ({
  answered: true,
  state: 'running',
  role: 'master',
  timeline,
  pendingRestart: false,
  replication: [],
});

const problems = (s: ClusterSnapshot) =>
  assess(s, T, 'lab.yaml').problems.map((p) => `${p.severity} ${p.subject}: ${p.message}`);

describe('the status assessment', () => {
  it('finds nothing wrong with a healthy cluster', () => {
    const a = assess(healthy(), T);
    expect(a.verdict).toBe('healthy');
    expect(a.problems).toEqual([]);
    expect(a.leader).toBe('pg1');
    expect(a.members.map((m) => [m.member, m.role, m.receiver])).toEqual([
      ['pg1', 'leader', '-'],
      ['pg2', 'replica', 'streaming'],
      ['pg3', 'replica', 'streaming'],
    ]);
    expect(a.vip).toEqual({ address: '10.0.0.10', heldBy: ['pg1'] });
  });

  /** pg1 leads a standby cluster, streaming from another site's VIP; HAProxy sends writes nowhere. */
  function standbyCluster(receiver?: Record<string, unknown>): ClusterSnapshot {
    const s = healthy();
    const pg1 = s.members[0]!;
    pg1.patroni = { ...(primaryOn(1) as Extract<MemberReport, { answered: true }>), role: 'standby_leader' };
    pg1.server = {
      answered: true,
      inRecovery: true,
      ...(receiver ? { receiver: receiver as never } : {}),
      replayLagBytes: 0,
    };
    for (const m of s.members) m.view = view('pg1', 1, { pg1: { role: 'standby_leader' } });
    for (const b of s.balancers)
      b.haproxy = {
        answered: true,
        servers: (b.haproxy?.servers ?? []).map((x) =>
          x.proxy === 'postgres_primary' ? { ...x, status: 'DOWN' } : x,
        ),
      };
    s.settings.durability = 'sync';
    return s;
  }

  it("shows a standby cluster's primary and how far behind it is; no writable leader expected", () => {
    const a = assess(
      standbyCluster({
        status: 'streaming',
        timeline: 1,
        sender: '10.9.0.10:5002',
        behindSenderBytes: 8192,
        silentSeconds: 0.4,
      }),
      T,
      'dr.yaml',
    );
    expect(a.problems).toEqual([]);
    expect(a.standby).toEqual({
      upstream: '10.9.0.10:5002',
      receiver: 'streaming',
      behindBytes: 8192,
      silentSeconds: 0.4,
    });
    const text = describeStatus(a);
    expect(text[0]).toBe('Cluster lab: standby leader pg1, timeline 1');
    expect(text).toContain(
      'standby of    10.9.0.10:5002: 8.0 KiB behind, last word 0.4 s ago; read-only until `pgprov promote`',
    );
  });

  it('names a standby leader that does not receive from its primary, with promote as the way out', () => {
    const a = assess(standbyCluster(), T, 'dr.yaml');
    expect(a.verdict).toBe('degraded');
    expect(a.problems).toEqual([
      {
        severity: 'degraded',
        subject: 'standby',
        message: 'the standby leader (pg1) is not receiving from its primary (WAL receiver: not receiving)',
        hint: "check the primary cluster and its virtual IP's replication port from pg1; if the primary's site is lost, `pgprov promote dr.yaml` makes this cluster writable",
      },
    ]);
  });

  it('is critical while a standby of it was promoted and it still takes writes: two clusters diverge', () => {
    const s = healthy();
    s.promotedStandbys = [
      {
        cluster: 'dr',
        inventory: '/x/dr.yaml',
        at: '2026-11-25T11:00:00Z',
        vip: '10.9.0.9',
        file: '/y/dr.json',
      },
    ];
    const a = assess(s, T, 'lab.yaml');
    expect(a.verdict).toBe('critical');
    expect(a.problems).toEqual([
      {
        severity: 'critical',
        subject: 'standby',
        message:
          'standby cluster dr was promoted at 2026-11-25T11:00:00Z and takes writes at 10.9.0.9: this cluster takes writes too, and the two diverge',
        hint: 'send every client to one of them; to make this one follow it, rebuild it as a standby (standby_of: /x/dr.yaml); then delete /y/dr.json',
      },
    ]);
  });

  it('says what a failover may lose: async up to maximum_lag_on_failover; sync and strict need a standby', () => {
    expect(assess(healthy(), T).durability).toEqual({ mode: 'async', maximumLagBytes: 1048576 });
    const sync = healthy();
    sync.settings.durability = 'sync';
    for (const m of sync.members) m.view = view('pg1', 1, { pg2: { role: 'sync_standby' } });
    expect(assess(sync, T).durability).toEqual({
      mode: 'sync',
      maximumLagBytes: 1048576,
      syncStandby: 'pg2',
    });
    expect(problems(sync)).toEqual([]);
    const strict = healthy();
    strict.settings.durability = 'strict';
    expect(problems(strict)).toEqual([
      'degraded cluster: strict synchronous mode is on but no replica is a synchronous standby: the leader refuses writes',
    ]);
  });

  it("shows each member's watchdog; only required mode makes a member without one a problem", () => {
    const s = healthy();
    s.members.forEach((m, i) => {
      m.watchdog =
        i === 0 ? { device: true, owner: 'postgres' } : { device: false, container: 'systemd-nspawn' };
    });
    const automatic = assess(s, T, 'lab.yaml');
    expect(automatic.problems).toEqual([]);
    expect(automatic.watchdog).toEqual({
      mode: 'automatic',
      members: [
        { host: 'pg1', usable: true },
        { host: 'pg2', usable: false, why: 'a systemd-nspawn container has no /dev/watchdog' },
        { host: 'pg3', usable: false, why: 'a systemd-nspawn container has no /dev/watchdog' },
      ],
    });
    s.settings.watchdog = 'required';
    expect(assess(s, T, 'lab.yaml').problems.map((p) => `${p.subject}: ${p.message}`)).toEqual([
      'pg2: cannot lead: patroni_watchdog_mode is required and a systemd-nspawn container has no /dev/watchdog',
      'pg3: cannot lead: patroni_watchdog_mode is required and a systemd-nspawn container has no /dev/watchdog',
    ]);
  });

  it('notes a Patroni with the etcd3 leader-key bug (before 3.0.3) running without the guard, verdict unchanged', () => {
    const s = healthy();
    const withVersion = (v: string) =>
      s.members.forEach((m) => {
        if (m.patroni?.answered) m.patroni.patroniVersion = v;
      });
    withVersion('3.0.2');
    const a = assess(s, T, 'lab.yaml');
    expect(a.verdict).toBe('healthy');
    expect(a.advisories).toEqual([
      {
        subject: 'pg1, pg2, pg3',
        message:
          "Patroni 3.0.2 runs without pgprov's leader key guard (started before it was installed): after a " +
          "network partition heals, the old leader can take the leader key back and the new leader's acknowledged " +
          'writes are lost (fixed in Patroni 3.0.3)',
        hint:
          'restart Patroni on each, replicas first (sudo systemctl restart patroni), then `pgprov switchover` and ' +
          'restart the old leader: it starts through the guard',
      },
    ]);
    expect(describeStatus(a)).toContain(`note: pg1, pg2, pg3: ${a.advisories[0]?.message}`);
    // Started through pgprov's launcher: guarded, nothing to say; Debian's own command line is not.
    s.members.forEach((m, i) => {
      m.patroniCommand =
        i === 0
          ? '/usr/bin/python3 /usr/bin/patroni /etc/patroni/config.yml'
          : '/usr/bin/python3 /usr/local/sbin/pgprov-patroni-guarded /etc/patroni/config.yml';
    });
    expect(assess(s, T, 'lab.yaml').advisories.map((x) => x.subject)).toEqual(['pg1']);
    s.members.forEach((m) => delete m.patroniCommand);
    for (const v of ['3.0.3', '3.3.1', '4.0.7']) {
      withVersion(v);
      expect(assess(s, T, 'lab.yaml').advisories).toEqual([]);
    }
  });

  it('a stopped replica: degraded, with how to look', () => {
    const s = healthy();
    const pg3 = s.members[2] as ClusterSnapshot['members'][number];
    pg3.patroni = { answered: false, why: 'https://10.0.0.3:8008: Connection refused' };
    pg3.server = { answered: false, why: 'PostgreSQL does not answer' };
    for (const b of s.balancers)
      for (const x of b.haproxy?.servers ?? []) if (x.server === 'pg3') x.status = 'DOWN';
    const a = assess(s, T);
    expect(a.verdict).toBe('degraded');
    expect(problems(s)).toEqual([
      'degraded pg3: Patroni does not answer: https://10.0.0.3:8008: Connection refused',
    ]);
  });

  it('the leader powered off after a failover: the new leader is named, the old host is unreachable', () => {
    const s = healthy();
    s.unreachable = { pg1: 'connect timed out' };
    s.members = s.members
      .slice(1)
      .map((m) => ({ ...m, view: view('pg2', 2, { pg1: { state: 'stopped' } }) }));
    s.members.unshift({ host: 'pg1', address: '10.0.0.1' });
    const pg2 = s.members[1] as ClusterSnapshot['members'][number];
    pg2.patroni = primaryOn(2);
    pg2.server = { answered: true, inRecovery: false };
    (s.members[2] as ClusterSnapshot['members'][number]).server = {
      answered: true,
      inRecovery: true,
      receiver: { status: 'streaming', timeline: 2 },
    };
    s.etcd[0] = { host: 'pg1', healthy: false, why: 'host unreachable' };
    s.balancers[0] = { host: 'pg1', holdsVip: false };
    for (const b of s.balancers.slice(1)) {
      b.holdsVip = b.host === 'pg2';
      for (const x of b.haproxy?.servers ?? []) {
        x.status =
          x.proxy === 'postgres_primary'
            ? x.server === 'pg2'
              ? 'UP'
              : 'DOWN'
            : x.server === 'pg3'
              ? 'UP'
              : 'DOWN';
      }
    }
    const a = assess(s, T);
    expect(a.verdict).toBe('degraded');
    expect(a.leader).toBe('pg2');
    expect(a.timeline).toBe(2);
    expect(problems(s)).toEqual(['degraded pg1: unreachable over SSH: connect timed out']);
  });

  it('one etcd member down: degraded; two of three: critical, no quorum', () => {
    const s = healthy();
    s.etcd[1] = { host: 'pg2', healthy: false, why: 'https://10.0.0.2:2379 does not answer' };
    expect(assess(s, T).verdict).toBe('degraded');
    expect(problems(s)).toEqual([
      'degraded pg2: etcd member unhealthy: https://10.0.0.2:2379 does not answer',
    ]);
    s.etcd[2] = { host: 'pg3', healthy: false, why: 'down' };
    expect(assess(s, T).verdict).toBe('critical');
    expect(problems(s)[0]).toBe(
      'critical etcd: etcd has no quorum (1 of 3 members healthy): Patroni cannot keep or elect a leader',
    );
  });

  it('a replica on another timeline, or not streaming, is named with the repair', () => {
    const s = healthy();
    (s.members[1] as ClusterSnapshot['members'][number]).server = {
      answered: true,
      inRecovery: true,
      receiver: { status: 'streaming', timeline: 0 },
    };
    (s.members[2] as ClusterSnapshot['members'][number]).server = { answered: true, inRecovery: true };
    const a = assess(s, T, 'lab.yaml');
    expect(a.problems.map((p) => [p.subject, p.message, p.hint])).toEqual([
      [
        'pg2',
        'replica is on timeline 0, the leader on 1: it has diverged',
        'rebuild it from the leader: pgprov reinit lab.yaml pg2',
      ],
      [
        'pg3',
        'replica is not streaming from the leader (WAL receiver: none)',
        'if it does not recover within a minute, rebuild it from the leader: pgprov reinit lab.yaml pg3',
      ],
    ]);
    // Not streaming may pass by itself (a replica starting); a diverged timeline does not.
    expect(a.problems.map((p) => p.settling === true)).toEqual([false, true]);
  });

  it('no leader, two primaries, no virtual IP: critical', () => {
    const s = healthy();
    for (const m of s.members) m.view = view('none');
    (s.members[0] as ClusterSnapshot['members'][number]).patroni = {
      answered: true,
      state: 'running',
      role: 'replica',
      pendingRestart: false,
      replication: [],
    };
    s.balancers[0] = {
      ...s.balancers[0],
      host: 'pg1',
      holdsVip: false,
    } as ClusterSnapshot['balancers'][number];
    const a = assess(s, T);
    expect(a.verdict).toBe('critical');
    expect(problems(s)).toContain('critical cluster: no leader: the cluster refuses writes');
    expect(problems(s)).toContain(
      'critical vip: no reachable balancer holds the virtual IP 10.0.0.10: clients cannot connect',
    );

    const split = healthy();
    (split.members[1] as ClusterSnapshot['members'][number]).patroni = primaryOn(2);
    expect(problems(split)[0]).toBe(
      'critical cluster: more than one member runs as a writable primary: pg1, pg2',
    );
  });

  it('a leader whose PostgreSQL cannot start (its timeline forked in a partition): critical, and how out', () => {
    const s = healthy();
    // Recorded on the lab after a leader partition on Debian 12: the old leader took the key back, then failed.
    for (const m of s.members) m.view = view('pg1', 16, { pg1: { state: 'start failed' } });
    (s.members[0] as ClusterSnapshot['members'][number]).patroni = {
      answered: true,
      state: 'start failed',
      role: 'master',
      pendingRestart: false,
      replication: [],
    };
    const a = assess(s, T, 'lab.yaml');
    expect(a.verdict).toBe('critical');
    const found = a.problems.find((p) => p.subject === 'pg1');
    expect(found?.message).toBe(
      'holds the leader key but its PostgreSQL is start failed: no member accepts writes',
    );
    expect(found?.hint).toContain('sudo systemctl stop patroni');
    expect(found?.hint).toContain('pgprov reinit lab.yaml pg1');
  });

  it('HAProxy routing writes elsewhere than the leader', () => {
    const s = healthy();
    for (const x of s.balancers[1]?.haproxy?.servers ?? [])
      if (x.proxy === 'postgres_primary') x.status = 'DOWN';
    expect(problems(s)).toEqual(['degraded pg2: HAProxy sends writes to no server, the leader is pg1']);
  });

  it('backups: none yet, or too old', () => {
    const s = healthy();
    const info = s.backups?.info;
    if (!info?.answered) throw new Error('fixture');
    const [only] = info.backups;
    info.backups = [];
    expect(problems(s)).toEqual(['degraded backups: no backup yet: a restore is impossible']);
    info.backups = [{ ...(only as (typeof info.backups)[number]), stopped: AT.getTime() / 1000 - 3 * 86400 }];
    expect(problems(s)).toEqual(['degraded backups: the newest backup (20261125-100000F) is 72 h old']);
  });

  it('certificates: expiring soon is degraded, expired is critical', () => {
    const s = healthy();
    const [first, second] = s.certificates;
    (first as (typeof s.certificates)[number]).files[0] = {
      path: '/etc/pgprov/tls/pg1.crt',
      subject: 'pg1',
      notAfter: new Date(AT.getTime() + 10 * DAY),
    };
    expect(problems(s)).toEqual([
      'degraded pg1: certificate /etc/pgprov/tls/pg1.crt (pg1) expires in 10 days',
    ]);
    (second as (typeof s.certificates)[number]).files[0] = {
      path: '/etc/etcd/pki/pg2.crt',
      subject: 'pg2',
      notAfter: new Date(AT.getTime() - DAY),
    };
    expect(assess(s, T).verdict).toBe('critical');
  });
});
