import { SafetyError } from '../core/errors.js';
import { describeMember, isLeader, isRunning, type Member } from './member.js';

/** One step of a rolling restart. */
export type RolloutAction =
  | { kind: 'restart'; member: string; role: 'replica' | 'leader' }
  | { kind: 'switchover'; from: string; to: string };

export interface Rollout {
  actions: RolloutAction[];
  /** What is pending and why this order, for the plan shown to the operator. */
  reason: string;
}

/**
 * Orders the restarts a configuration change needs so the cluster stays writable: every replica marked
 * "pending restart" first, one at a time; then, when the leader needs one too, a switchover to a restarted
 * replica (the only moment writes are refused) and a restart of the old leader, now a replica, if its demotion
 * did not already apply the change. Refuses when a member is down: restarting another one would leave the
 * cluster with less redundancy than the operator believes it has.
 */
export function planRollout(members: readonly Member[]): Rollout | undefined {
  const pending = members.filter((m) => m.pendingRestart);
  if (pending.length === 0) return undefined;
  const leader = members.find(isLeader);
  if (!leader) {
    throw new SafetyError(
      `cannot roll out the restart that ${names(pending)} need: the cluster has no leader`,
      { hint: 'see `patronictl list` on a member; pgprov restarts nothing until a leader is elected' },
    );
  }
  const down = members.filter((m) => !isRunning(m));
  if (down.length > 0) {
    throw new SafetyError(
      `cannot roll out the restart that ${names(pending)} need while ${down.map(describeMember).join(', ')} ` +
        `${down.length > 1 ? 'are' : 'is'} not running: restarting another member would leave less redundancy`,
      { hint: 'bring the member back (or remove it from the inventory) and apply again' },
    );
  }
  const replicas = members.filter((m) => !isLeader(m)).sort(byName);
  const actions: RolloutAction[] = replicas
    .filter((m) => m.pendingRestart)
    .map((m) => ({ kind: 'restart', member: m.name, role: 'replica' }));
  if (!leader.pendingRestart) {
    return { actions, reason: `${names(pending)} pending restart; the leader ${leader.name} is not` };
  }
  const candidate = [...replicas].sort(byCandidate)[0];
  if (!candidate) {
    actions.push({ kind: 'restart', member: leader.name, role: 'leader' });
    return {
      actions,
      reason: `${leader.name} pending restart and has no replica to hand over to: it restarts in place (writes refused meanwhile)`,
    };
  }
  actions.push(
    { kind: 'switchover', from: leader.name, to: candidate.name },
    { kind: 'restart', member: leader.name, role: 'replica' },
  );
  return {
    actions,
    reason: `${names(pending)} pending restart: replicas first, then a switchover ${leader.name} -> ${candidate.name}, then ${leader.name}`,
  };
}

const names = (ms: readonly Member[]): string => ms.map((m) => m.name).join(', ');
const byName = (a: Member, b: Member): number => a.name.localeCompare(b.name);
/** A synchronous standby first (in synchronous mode Patroni accepts no other), then the least lag, then by name. */
const byCandidate = (a: Member, b: Member): number =>
  Number(b.role === 'sync_standby') - Number(a.role === 'sync_standby') ||
  (a.lagMb ?? Infinity) - (b.lagMb ?? Infinity) ||
  byName(a, b);

export function describeAction(a: RolloutAction): string {
  if (a.kind === 'switchover')
    return `switch over ${a.from} -> ${a.to} (or to the synchronous standby of the moment) and wait until ${a.from} follows`;
  return a.role === 'leader'
    ? `restart the leader ${a.member} in place and wait until it leads again`
    : `restart ${a.member} if still pending and wait until it is a running replica`;
}
