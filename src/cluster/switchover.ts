import { SafetyError } from '../core/errors.js';
import type { Assessment, MemberRow } from './health.js';

export interface SwitchoverPlan {
  from: string;
  to: string;
  /** Why this candidate, in words. */
  reason: string;
}

/**
 * Pure: who hands over to whom, or why not. A candidate must be a replica that runs, streams from the leader on
 * its timeline and lags no more than maximum_lag_on_failover; in synchronous mode only the synchronous standby
 * (Patroni would refuse the others, and promoting another could lose commits). Without a named candidate the
 * synchronous standby, else the replica with the least lag.
 */
export function planSwitchover(
  a: Assessment,
  options: { to?: string; synchronousMode: boolean; maximumLagMb: number; inventoryFile: string },
): SwitchoverPlan {
  const leader = a.leader;
  if (!leader) {
    throw new SafetyError('no leader: there is nothing to switch over from', {
      hint: `see \`pgprov status ${options.inventoryFile}\`; a failover, not a switchover, is what the cluster needs`,
    });
  }
  const unfit = (m: MemberRow): string | undefined => {
    if (m.member === leader) return 'it is the leader';
    if (m.state !== 'running' && m.state !== 'streaming') return `it is ${m.state}`;
    if (m.receiver !== 'streaming')
      return `it is not streaming from the leader (WAL receiver: ${m.receiver})`;
    if (a.timeline !== undefined && m.timeline !== a.timeline)
      return `it is on timeline ${m.timeline ?? '?'}, the leader on ${a.timeline}`;
    if ((m.lagMb ?? 0) > options.maximumLagMb)
      return `it lags ${(m.lagMb ?? 0).toFixed(1)} MB (maximum_lag_on_failover ${options.maximumLagMb.toFixed(1)} MB)`;
    if (options.synchronousMode && m.role !== 'sync standby')
      return 'synchronous mode is on and it is not the synchronous standby (it may lack acknowledged commits)';
    return undefined;
  };
  if (options.to) {
    const named = a.members.find((m) => m.member === options.to);
    if (!named) {
      throw new SafetyError(`${options.to} is not a member of cluster ${a.cluster}`, {
        hint: `members: ${a.members.map((m) => m.member).join(', ')}`,
      });
    }
    const why = unfit(named);
    if (why) {
      throw new SafetyError(`refusing to switch over to ${options.to}: ${why}. Nothing was changed.`, {
        hint: `choose another member, or let pgprov choose (no --to); \`pgprov status ${options.inventoryFile}\` shows each member`,
      });
    }
    return { from: leader, to: options.to, reason: 'the member asked for' };
  }
  const fit = a.members.filter((m) => !unfit(m));
  const best = [...fit].sort(
    (x, y) =>
      Number(y.role === 'sync standby') - Number(x.role === 'sync standby') ||
      (x.lagMb ?? 0) - (y.lagMb ?? 0) ||
      x.member.localeCompare(y.member),
  )[0];
  if (!best) {
    const reasons = a.members
      .filter((m) => m.member !== leader)
      .map((m) => `${m.member}: ${unfit(m) ?? '?'}`)
      .join('; ');
    throw new SafetyError(
      `no replica can take over from ${leader} (${reasons || 'there is no replica'}). Nothing was changed.`,
      {
        hint: `repair the replicas first (\`pgprov status ${options.inventoryFile}\` says how)`,
      },
    );
  }
  return {
    from: leader,
    to: best.member,
    reason:
      best.role === 'sync standby' ? 'the synchronous standby' : 'the healthy replica with the least lag',
  };
}
