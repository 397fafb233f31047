/**
 * The safeguards a cluster's hosts have or lack, judged for `pgprov status`: each member's watchdog, and the
 * Patroni versions with a known flaw on the paths a partition takes.
 */
import { type WatchdogReport, watchdogMissing } from '../facts/watchdog.js';
import type { Advisory, Assessment, ClusterSnapshot, Report } from './health.js';

/**
 * A watchdog resets a leader whose Patroni hangs before it can demote. `automatic` runs without one where a host
 * has none (said, not a problem); `required` keeps such a member from ever leading.
 */
export function judgeWatchdog(s: ClusterSnapshot, problem: Report): Assessment['watchdog'] {
  const mode = s.settings.watchdog;
  const members = s.members
    .filter((m) => m.watchdog)
    .map((m) => {
      const why = watchdogMissing(m.watchdog as WatchdogReport);
      return { host: m.host, usable: why === undefined, ...(why ? { why } : {}) };
    });
  if (mode === 'required') {
    for (const m of members.filter((x) => !x.usable)) {
      problem(
        'degraded',
        m.host,
        `cannot lead: patroni_watchdog_mode is required and ${m.why ?? 'it has no watchdog'}`,
        'load the softdog module (pgprov apply does where it can), or set patroni_watchdog_mode: automatic',
      );
    }
  }
  return { mode, members };
}

/**
 * Patroni before 3.0.3 (Debian 12 ships 3.0.2) writes the leader key through etcd's v3 API without comparing it
 * first when its lease changed, trusting a cache that can be stale after a partition: an old leader coming back
 * can take the key from the new one (patroni/patroni#2689, fixed in 3.0.3), and the new leader's acknowledged
 * writes are lost. The lab reproduced it in 3 of 10 leader partitions. pgprov's launcher
 * (roles/patroni/files/pgprov-patroni-guarded.py) adds the comparison; a member whose Patroni was started before
 * the launcher was installed runs without it until Patroni restarts.
 */
export const LAUNCHER = 'pgprov-patroni-guarded';

export function patroniAdvisories(s: ClusterSnapshot): Advisory[] {
  const unguarded = s.members.filter((m) => {
    const v = m.patroni?.answered ? m.patroni.patroniVersion : undefined;
    return v !== undefined && olderThan(v, [3, 0, 3]) && !m.patroniCommand?.includes(LAUNCHER);
  });
  if (unguarded.length === 0) return [];
  const versions = [...new Set(unguarded.map((m) => (m.patroni?.answered ? m.patroni.patroniVersion : '')))];
  return [
    {
      subject: unguarded.map((m) => m.host).join(', '),
      message:
        `Patroni ${versions.join(', ')} runs without pgprov's leader key guard (started before it was installed): ` +
        "after a network partition heals, the old leader can take the leader key back and the new leader's " +
        'acknowledged writes are lost (fixed in Patroni 3.0.3)',
      hint:
        'restart Patroni on each, replicas first (sudo systemctl restart patroni), then `pgprov switchover` and ' +
        'restart the old leader: it starts through the guard',
    },
  ];
}

function olderThan(version: string, than: readonly number[]): boolean {
  const parts = version.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < than.length; i++) {
    const a = parts[i] ?? 0;
    const b = than[i] ?? 0;
    if (a !== b) return a < b;
  }
  return false;
}
