import { describe, expect, it } from 'vitest';
import type { Assessment, MemberRow } from '../../src/cluster/health.js';
import { planSwitchover } from '../../src/cluster/switchover.js';

const row = (member: string, over: Partial<MemberRow> = {}): MemberRow => ({
  member,
  host: `10.0.0.${member.slice(2)}`,
  role: 'replica',
  state: 'running',
  timeline: 4,
  lagMb: 0,
  receiver: 'streaming',
  ...over,
});

const cluster = (...members: MemberRow[]): Assessment => ({
  cluster: 'lab',
  at: '2026-11-25T12:00:00Z',
  verdict: 'healthy',
  leader: 'pg1',
  timeline: 4,
  members: [row('pg1', { role: 'leader', receiver: '-' }), ...members],
  etcd: { healthy: 3, total: 3, members: [] },
  haproxy: [],
  durability: { mode: 'async', maximumLagBytes: 1048576 },
  watchdog: { mode: 'automatic', members: [] },
  certificates: [],
  problems: [],
  advisories: [],
});

const options = { synchronousMode: false, maximumLagMb: 1, inventoryFile: 'lab.yaml' };

describe('planning a switchover', () => {
  it('takes the named replica when it is fit', () => {
    expect(planSwitchover(cluster(row('pg2'), row('pg3')), { ...options, to: 'pg3' })).toEqual({
      from: 'pg1',
      to: 'pg3',
      reason: 'the member asked for',
    });
  });

  it('without a name: the synchronous standby, else the replica with the least lag', () => {
    expect(planSwitchover(cluster(row('pg2', { lagMb: 0.5 }), row('pg3', { lagMb: 0.1 })), options).to).toBe(
      'pg3',
    );
    const sync = cluster(row('pg2', { lagMb: 0.5, role: 'sync standby' }), row('pg3'));
    expect(planSwitchover(sync, { ...options, synchronousMode: true })).toMatchObject({
      to: 'pg2',
      reason: 'the synchronous standby',
    });
  });

  it('refuses an unfit candidate, saying why, and changes nothing', () => {
    const refuse =
      (r: MemberRow, extra: Partial<typeof options> = {}) =>
      () =>
        planSwitchover(cluster(r, row('pg3')), { ...options, ...extra, to: r.member });
    expect(refuse(row('pg2', { state: 'stopped' }))).toThrow(
      'refusing to switch over to pg2: it is stopped. Nothing was changed.',
    );
    expect(refuse(row('pg2', { receiver: 'not receiving' }))).toThrow(
      /it is not streaming from the leader \(WAL receiver: not receiving\)/,
    );
    expect(refuse(row('pg2', { timeline: 3 }))).toThrow(/it is on timeline 3, the leader on 4/);
    expect(refuse(row('pg2', { lagMb: 12 }))).toThrow(/it lags 12\.0 MB \(maximum_lag_on_failover 1\.0 MB\)/);
    expect(refuse(row('pg2'), { synchronousMode: true })).toThrow(/not the synchronous standby/);
    expect(() => planSwitchover(cluster(row('pg2')), { ...options, to: 'pg1' })).toThrow(/it is the leader/);
    expect(() => planSwitchover(cluster(row('pg2')), { ...options, to: 'pg9' })).toThrow(
      /pg9 is not a member of cluster lab/,
    );
  });

  it('refuses without a leader, or without any fit replica', () => {
    const { leader: _none, ...leaderless } = cluster(row('pg2'));
    expect(() => planSwitchover(leaderless, options)).toThrow(
      /no leader: there is nothing to switch over from/,
    );
    expect(() =>
      planSwitchover(cluster(row('pg2', { state: 'stopped' }), row('pg3', { lagMb: 50 })), options),
    ).toThrow(
      'no replica can take over from pg1 (pg2: it is stopped; pg3: it lags 50.0 MB (maximum_lag_on_failover 1.0 MB)). Nothing was changed.',
    );
  });
});
