import { describe, expect, it } from 'vitest';
import { SafetyError } from '../../src/core/errors.js';
import type { Member } from '../../src/cluster/member.js';
import { describeAction, planRollout } from '../../src/cluster/rollout.js';

/** A member as parseCluster returns it: running, nothing pending, unless told otherwise. */
const member = (name: string, role: Member['role'], more: Partial<Member> = {}): Member => ({
  cluster: 'test',
  name,
  host: `10.231.0.${10 + Number(name.slice(2))}`,
  role,
  state: 'running',
  timeline: 2,
  ...(role === 'leader' ? {} : { lagMb: 0 }),
  pendingRestart: false,
  ...more,
});

const pending = { pendingRestart: true };

/** The thrown error, so its class, message and hint can all be checked. */
function refusal(members: Member[]): SafetyError {
  try {
    planRollout(members);
  } catch (error) {
    if (error instanceof SafetyError) return error;
    throw error;
  }
  throw new Error('expected planRollout to refuse');
}

describe('rolling out a restart', () => {
  it('has nothing to do when no member is pending restart', () => {
    expect(planRollout([member('pg1', 'leader'), member('pg2', 'replica'), member('pg3', 'replica')])).toBe(
      undefined,
    );
  });

  it('restarts pending replicas one at a time, by name, and leaves a leader that is not pending alone', () => {
    const rollout = planRollout([
      member('pg3', 'replica', pending),
      member('pg1', 'leader'),
      member('pg2', 'sync_standby', pending),
    ]);
    expect(rollout?.actions).toEqual([
      { kind: 'restart', member: 'pg2', role: 'replica' },
      { kind: 'restart', member: 'pg3', role: 'replica' },
    ]);
    expect(rollout?.reason).toBe('pg3, pg2 pending restart; the leader pg1 is not');
  });

  it('restarts only the replicas that are pending', () => {
    const rollout = planRollout([
      member('pg1', 'leader'),
      member('pg2', 'replica'),
      member('pg3', 'replica', pending),
    ]);
    expect(rollout?.actions).toEqual([{ kind: 'restart', member: 'pg3', role: 'replica' }]);
  });

  it('with the leader pending: replicas first, then a switchover to the synchronous standby, then the old leader', () => {
    const rollout = planRollout([
      member('pg1', 'leader', pending),
      member('pg2', 'replica', { ...pending, lagMb: 0 }),
      // More lag than pg2, but in synchronous mode Patroni hands over to the synchronous standby only.
      member('pg3', 'sync_standby', { ...pending, lagMb: 3 }),
    ]);
    expect(rollout?.actions).toEqual([
      { kind: 'restart', member: 'pg2', role: 'replica' },
      { kind: 'restart', member: 'pg3', role: 'replica' },
      { kind: 'switchover', from: 'pg1', to: 'pg3' },
      { kind: 'restart', member: 'pg1', role: 'replica' },
    ]);
    expect(rollout?.reason).toBe(
      'pg1, pg2, pg3 pending restart: replicas first, then a switchover pg1 -> pg3, then pg1',
    );
  });

  it('without a synchronous standby, switches over to the replica with the least lag', () => {
    const rollout = planRollout([
      member('pg1', 'leader', pending),
      member('pg2', 'replica', { lagMb: 12 }),
      member('pg3', 'replica', { lagMb: 0.5 }),
    ]);
    expect(rollout?.actions).toEqual([
      { kind: 'switchover', from: 'pg1', to: 'pg3' },
      { kind: 'restart', member: 'pg1', role: 'replica' },
    ]);
  });

  it('takes a replica whose lag is unknown last, and breaks ties by name', () => {
    const unknownLag = planRollout([
      member('pg1', 'leader', pending),
      member('pg2', 'replica', { lagMb: undefined }),
      member('pg3', 'replica', { lagMb: 40 }),
    ]);
    expect(unknownLag?.actions[0]).toEqual({ kind: 'switchover', from: 'pg1', to: 'pg3' });
    const tie = planRollout([
      member('pg1', 'leader', pending),
      member('pg3', 'replica'),
      member('pg2', 'replica'),
    ]);
    expect(tie?.actions[0]).toEqual({ kind: 'switchover', from: 'pg1', to: 'pg2' });
  });

  it('restarts a leader with no replica in place, and says that writes are refused meanwhile', () => {
    const rollout = planRollout([member('pg1', 'leader', pending)]);
    expect(rollout?.actions).toEqual([{ kind: 'restart', member: 'pg1', role: 'leader' }]);
    expect(rollout?.reason).toBe(
      'pg1 pending restart and has no replica to hand over to: it restarts in place (writes refused meanwhile)',
    );
  });

  it('counts a streaming replica (Patroni 3.1+) as running', () => {
    const rollout = planRollout([
      member('pg1', 'leader'),
      member('pg2', 'replica', { ...pending, state: 'streaming' }),
    ]);
    expect(rollout?.actions).toEqual([{ kind: 'restart', member: 'pg2', role: 'replica' }]);
  });
});

describe('refusing to roll out', () => {
  it('when the cluster has no leader', () => {
    const error = refusal([member('pg2', 'replica', pending), member('pg3', 'replica')]);
    expect(error.message).toBe('cannot roll out the restart that pg2 need: the cluster has no leader');
    expect(error.hint).toContain('patronictl list');
  });

  it('when a member is not running, even one that needs no restart, naming it', () => {
    const error = refusal([
      member('pg1', 'leader'),
      member('pg2', 'replica', pending),
      member('pg3', 'replica', { state: 'stopped' }),
    ]);
    expect(error.message).toBe(
      'cannot roll out the restart that pg2 need while pg3 (replica, stopped) is not running: ' +
        'restarting another member would leave less redundancy',
    );
    expect(error.hint).toBe('bring the member back (or remove it from the inventory) and apply again');
  });

  it('names every member that is down', () => {
    const error = refusal([
      member('pg1', 'leader', pending),
      member('pg2', 'sync_standby', { state: 'starting', pendingRestart: true }),
      member('pg3', 'replica', { state: 'crashed' }),
    ]);
    expect(error.message).toContain(
      'while pg2 (sync standby, starting, pending restart), pg3 (replica, crashed) are not running',
    );
  });

  it('does not refuse for a member that is down when nothing is pending', () => {
    expect(planRollout([member('pg1', 'leader'), member('pg2', 'replica', { state: 'stopped' })])).toBe(
      undefined,
    );
  });
});

describe('describing rollout actions', () => {
  it('reads as what a person would do', () => {
    expect(describeAction({ kind: 'restart', member: 'pg2', role: 'replica' })).toBe(
      'restart pg2 if still pending and wait until it is a running replica',
    );
    expect(describeAction({ kind: 'restart', member: 'pg1', role: 'leader' })).toBe(
      'restart the leader pg1 in place and wait until it leads again',
    );
    expect(describeAction({ kind: 'switchover', from: 'pg1', to: 'pg3' })).toBe(
      'switch over pg1 -> pg3 (or to the synchronous standby of the moment) and wait until pg1 follows',
    );
  });
});
