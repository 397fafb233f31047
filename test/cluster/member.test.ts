import { describe, expect, it } from 'vitest';
import { describeMember, isLeader, isRunning, type Member, parseCluster } from '../../src/cluster/member.js';
import { CLUSTER_BODY, clusterBody } from '../support/patroni.js';

const role = (r: string) =>
  parseCluster(JSON.stringify({ members: [{ name: 'pg1', role: r, state: 'running' }] }), 'test')[0]?.role;

describe("Patroni's member list (GET /cluster)", () => {
  it('reads every member of a Patroni 3.0.2 cluster', () => {
    expect(parseCluster(CLUSTER_BODY, 'test')).toEqual([
      {
        cluster: 'test',
        name: 'pg1',
        host: '10.231.0.11',
        role: 'leader',
        state: 'running',
        timeline: 2,
        pendingRestart: false,
      },
      {
        cluster: 'test',
        name: 'pg2',
        host: '10.231.0.12',
        role: 'replica',
        state: 'running',
        timeline: 2,
        lagMb: 0,
        pendingRestart: false,
      },
      {
        cluster: 'test',
        name: 'pg3',
        host: '10.231.0.13',
        role: 'sync_standby',
        state: 'running',
        timeline: 2,
        lagMb: 0,
        pendingRestart: false,
      },
    ]);
  });

  it('sees a member pending restart', () => {
    const members = parseCluster(clusterBody({ pg2: { pending_restart: true } }), 'test');
    expect(members.map((m) => [m.name, m.pendingRestart])).toEqual([
      ['pg1', false],
      ['pg2', true],
      ['pg3', false],
    ]);
  });

  it('gives the lag in MB (Patroni reports bytes), and none when Patroni cannot tell', () => {
    const members = parseCluster(clusterBody({ pg2: { lag: 3 * 1048576 }, pg3: { lag: 'unknown' } }), 'test');
    expect(members[1]?.lagMb).toBe(3);
    expect(members[2]).not.toHaveProperty('lagMb');
  });

  it("names roles in one vocabulary, whatever the Patroni version's spelling", () => {
    expect(role('master')).toBe('leader');
    expect(role('primary')).toBe('leader');
    expect(role('Leader')).toBe('leader');
    expect(role('Sync Standby')).toBe('sync_standby');
    expect(role('standby-leader')).toBe('standby_leader');
    expect(role('quorum_standby')).toBe('quorum_standby');
    expect(role('replica')).toBe('replica');
    expect(role('uninitialized')).toBe('replica');
  });

  it('fills what a member does not report yet (a replica being created)', () => {
    const [m] = parseCluster(JSON.stringify({ members: [{ name: 'pg4' }] }), 'test');
    expect(m).toEqual({
      cluster: 'test',
      name: 'pg4',
      host: '',
      role: 'replica',
      state: 'unknown',
      pendingRestart: false,
    });
  });

  it('refuses a body that is not a member list', () => {
    expect(() => parseCluster('{"state": "running"}', 'test')).toThrow(
      'GET /cluster did not return a member list',
    );
    expect(() => parseCluster('null', 'test')).toThrow('did not return a member list');
  });
});

describe('member predicates', () => {
  const [leader, replica] = parseCluster(CLUSTER_BODY, 'test') as [Member, Member, Member];

  it('a leader or a standby leader leads', () => {
    expect(isLeader(leader)).toBe(true);
    expect(isLeader(replica)).toBe(false);
    expect(isLeader({ ...replica, role: 'standby_leader' })).toBe(true);
    expect(isLeader({ ...replica, role: 'sync_standby' })).toBe(false);
  });

  it('running and streaming count as running; anything else does not', () => {
    expect(isRunning(replica)).toBe(true);
    expect(isRunning({ ...replica, state: 'streaming' })).toBe(true);
    for (const state of ['stopped', 'starting', 'crashed', 'creating replica', 'unknown'])
      expect(isRunning({ ...replica, state }), state).toBe(false);
  });

  it('describes a member for messages', () => {
    expect(describeMember(replica)).toBe('pg2 (replica, running)');
    expect(describeMember({ ...replica, name: 'pg3', role: 'sync_standby', pendingRestart: true })).toBe(
      'pg3 (sync standby, running, pending restart)',
    );
  });
});
