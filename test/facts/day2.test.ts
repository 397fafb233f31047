import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { certificatesFact } from '../../src/facts/certificate.js';
import { issueCa } from '../../src/pki/issue.js';
import { generateKeyPair, randomSerial } from '../../src/pki/keys.js';
import { etcdHealthFact } from '../../src/facts/etcd.js';
import { haproxyFact } from '../../src/facts/haproxy.js';
import { clusterViewFact, memberFact, serverFact } from '../../src/facts/member.js';
import { addressesFact } from '../../src/facts/network.js';
import { stanzaFact } from '../../src/facts/pgbackrest.js';

/** Outputs recorded on the lab (Debian 12: Patroni 3.0.2, HAProxy 2.6, pgBackRest 2.45, curl 7.88). */
const recorded = (name: string) =>
  readFileSync(new URL(`../fixtures/recorded/${name}`, import.meta.url), 'utf8');
const api = { url: 'https://10.231.0.12:8008', cacert: '/etc/patroni/pki/ca.crt' };
const REFUSED =
  "curl: (7) Failed to connect to 10.231.0.12 port 8008 after 0 ms: Couldn't connect to server\n000\n";

describe("a member's own report (GET /patroni)", () => {
  it('reads the leader: role, timeline, who streams from it', () => {
    const r = memberFact.parse({ stdout: `${recorded('patroni-leader.json')}\n200\n`, code: 0 }, api);
    expect(r).toMatchObject({
      answered: true,
      state: 'running',
      role: 'master',
      timeline: 1,
      patroniVersion: '3.0.2',
    });
    expect(r.answered && r.replication.map((x) => [x.name, x.state, x.sync])).toEqual([
      ['pg1', 'streaming', 'async'],
      ['pg3', 'streaming', 'async'],
    ]);
  });

  it('reads a replica', () => {
    const r = memberFact.parse({ stdout: `${recorded('patroni-replica.json')}\n200\n`, code: 0 }, api);
    expect(r).toMatchObject({ answered: true, role: 'replica', state: 'running', replication: [] });
  });

  it('says why a stopped Patroni does not answer', () => {
    const r = memberFact.parse({ stdout: REFUSED, code: 7 }, api);
    expect(r).toEqual({
      answered: false,
      why: "https://10.231.0.12:8008: Failed to connect to 10.231.0.12 port 8008 after 0 ms: Couldn't connect to server",
    });
  });

  it('reads the member list with lag (GET /cluster)', () => {
    const r = clusterViewFact.parse(
      { stdout: recorded('patroni-cluster.json'), code: 0 },
      { ...api, cluster: 'lab' },
    );
    expect(r.answered && r.members.map((m) => [m.name, m.role, m.lagMb ?? null])).toEqual([
      ['pg1', 'replica', 0],
      ['pg2', 'leader', null],
      ['pg3', 'replica', 0],
    ]);
  });
});

describe("PostgreSQL's own view of recovery", () => {
  it('reads a streaming replica and its timeline', () => {
    expect(serverFact.parse({ stdout: 't|streaming|3|0\n', code: 0 }, { port: 5432 })).toEqual({
      answered: true,
      inRecovery: true,
      receiver: { status: 'streaming', timeline: 3 },
      replayLagBytes: 0,
    });
  });

  it("reads where a replica streams from, how far it trails its sender's last word, and since when", () => {
    expect(
      serverFact.parse({ stdout: 't|streaming|1|0|10.231.0.10:5002|8192|0.412\n', code: 0 }, { port: 5432 }),
    ).toEqual({
      answered: true,
      inRecovery: true,
      receiver: {
        status: 'streaming',
        timeline: 1,
        sender: '10.231.0.10:5002',
        behindSenderBytes: 8192,
        silentSeconds: 0.412,
      },
      replayLagBytes: 0,
    });
  });

  it('sees a replica with no WAL receiver, and a primary', () => {
    expect(serverFact.parse({ stdout: 't||0|0\n', code: 0 }, { port: 5432 })).toEqual({
      answered: true,
      inRecovery: true,
      replayLagBytes: 0,
    });
    expect(serverFact.parse({ stdout: 'f||0|0\n', code: 0 }, { port: 5432 })).toEqual({
      answered: true,
      inRecovery: false,
    });
  });

  it('says why PostgreSQL does not answer', () => {
    const stdout =
      'psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: No such file or directory\n';
    const r = serverFact.parse({ stdout, code: 2 }, { port: 5432 });
    expect(r.answered).toBe(false);
    expect(!r.answered && r.why).toMatch(/^PostgreSQL does not answer: connection to server on socket/);
  });
});

describe('etcd, the network, HAProxy, pgBackRest and certificates', () => {
  const tls = { url: 'https://10.231.0.11:2379', cacert: 'ca', cert: 'c', key: 'k' };
  it('reads etcd health', () => {
    expect(etcdHealthFact.parse({ stdout: '{"health":"true"}', code: 0 }, tls).healthy).toBe(true);
    expect(
      etcdHealthFact.parse({ stdout: '{"health":"false","reason":"RAFT NO LEADER"}', code: 0 }, tls),
    ).toEqual({
      healthy: false,
      why: 'unhealthy: RAFT NO LEADER',
    });
    expect(etcdHealthFact.parse({ stdout: 'curl: (7) Failed to connect', code: 7 }, tls).healthy).toBe(false);
  });

  it('lists the IPv4 addresses, the virtual IP among them', () => {
    const stdout =
      '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n2: eth0    inet 10.231.0.12/24 scope global eth0\\       valid_lft forever\n2: eth0    inet 10.231.0.10/24 scope global secondary eth0\\       valid_lft forever\n';
    expect(addressesFact.parse({ stdout, code: 0 }, {})).toEqual(['127.0.0.1', '10.231.0.12', '10.231.0.10']);
  });

  it("reads HAProxy's servers from its CSV statistics", () => {
    const r = haproxyFact.parse({ stdout: recorded('haproxy-stats.csv'), code: 0 }, { port: 7000 });
    expect(r.answered).toBe(true);
    expect(r.servers.filter((s) => s.status === 'UP').map((s) => `${s.proxy}/${s.server}`)).toEqual([
      'postgres_primary/pg2',
      'postgres_replicas/pg1',
      'postgres_replicas/pg3',
    ]);
  });

  it("reads the stanza's backups with sizes and WAL ranges", () => {
    const r = stanzaFact.parse(
      { stdout: recorded('pgbackrest-info.json'), code: 0 },
      { stanza: 'pgprov-lab' },
    );
    if (!r.answered) throw new Error(r.why);
    expect(r.status).toEqual({ code: 0, message: 'ok' });
    expect(r.backups).toEqual([
      expect.objectContaining({
        label: '20261126-010835F',
        type: 'full',
        walStart: '000000010000000000000005',
        databaseBytes: 30543797,
      }),
    ]);
    expect(r.archive?.min).toBe('000000010000000000000001');
    expect(stanzaFact.parse({ stdout: '[]', code: 0 }, { stanza: 'pgprov-lab' }).answered).toBe(false);
  });

  it('reads certificate files and their expiry; what is not a certificate is skipped', async () => {
    const pem = issueCa({
      commonName: 'pgprov lab CA',
      keys: await generateKeyPair(),
      notBefore: new Date('2026-11-25T00:00:00Z'),
      validityDays: 10,
      serial: randomSerial(),
    });
    const stdout = `file=/etc/pgprov/tls/ca.crt\n${pem}\n\nfile=/etc/pgprov/tls/broken.crt\nnot a certificate\n\n`;
    expect(certificatesFact.parse({ stdout, code: 0 }, { paths: [] })).toEqual([
      {
        path: '/etc/pgprov/tls/ca.crt',
        subject: 'pgprov lab CA',
        notAfter: new Date('2026-12-05T00:00:00Z'),
      },
    ]);
  });
});
