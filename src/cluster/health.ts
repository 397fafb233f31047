import type { BackendServer } from '../facts/haproxy.js';
import type { MemberReport, ServerReport } from '../facts/member.js';
import type { CertificateFile } from '../facts/certificate.js';
import type { StanzaInfo, Backup } from '../facts/pgbackrest.js';
import type { WatchdogReport } from '../facts/watchdog.js';
import { judgeBackups, judgeBalancers, judgeCertificates, judgeEtcd } from './health-services.js';
import { isLeader, type Member } from './member.js';
import { judgeWatchdog, patroniAdvisories } from './safeguards.js';
import { judgePromotions, judgeStandby, type PromotedStandby, type StandbyState } from './standby.js';

/** Everything `pgprov status` read from the hosts, one entry per host and component: the input of assess(). */
export interface ClusterSnapshot {
  cluster: string;
  at: Date;
  /** Hosts that could not be read over SSH, with the reason. */
  unreachable: Record<string, string>;
  members: MemberSnapshot[];
  etcd: { host: string; healthy: boolean; why: string }[];
  balancers: { host: string; holdsVip: boolean; haproxy?: { answered: boolean; servers: BackendServer[] } }[];
  vip?: string;
  /** Absent when the inventory has no pgbackrest group. */
  backups?: { host: string; info?: StanzaInfo };
  certificates: { host: string; files: CertificateFile[] }[];
  settings: { maximumLagBytes: number; durability: Durability; watchdog: WatchdogMode };
  /** Standby clusters of this one that were promoted (records `pgprov promote` left in the state folder). */
  promotedStandbys?: PromotedStandby[];
}

/** patroni_watchdog_mode: Patroni arms /dev/watchdog while it leads: never, when it can, or it will not lead. */
export type WatchdogMode = 'off' | 'automatic' | 'required';

export interface MemberSnapshot {
  host: string;
  address: string;
  patroni?: MemberReport;
  server?: ServerReport;
  watchdog?: WatchdogReport;
  /** The command line the member's Patroni runs (through pgprov's launcher or not); absent when unknown. */
  patroniCommand?: string;
  /** The member list as this member's Patroni sees it. */
  view?: Member[];
}

export interface Thresholds {
  /** A certificate expiring sooner than this (ms) makes the cluster degraded. */
  certificateWarnMs: number;
  /** The newest backup older than this (ms) makes the cluster degraded. */
  backupMaxAgeMs: number;
}

export type Severity = 'degraded' | 'critical';

export interface Problem {
  severity: Severity;
  /** A host, or a component (etcd, vip, backups). */
  subject: string;
  message: string;
  /** What to do about it. */
  hint?: string;
  /** A state a member passes through on its own (starting, catching up): worth a moment before reporting. */
  settling?: boolean;
}

/** How a judgement reports a problem it found. */
/** A risk worth knowing that is not a fault now: does not change the verdict. */
export type Advisory = Pick<Problem, 'subject' | 'message' | 'hint'>;

export type Report = (
  severity: Severity,
  subject: string,
  message: string,
  hint?: string,
  settling?: boolean,
) => void;

/** Patroni member states that end by themselves. */
const PASSING_STATES = new Set(['starting', 'stopping', 'restarting', 'creating replica']);

export interface MemberRow {
  member: string;
  host: string;
  role: string;
  state: string;
  timeline?: number;
  lagMb?: number;
  /** The WAL receiver on a replica: "streaming", "archive only", ... */
  receiver: string;
}

export interface Assessment {
  cluster: string;
  at: string;
  verdict: 'healthy' | Severity;
  leader?: string;
  timeline?: number;
  members: MemberRow[];
  etcd: { healthy: number; total: number; members: { host: string; healthy: boolean; why: string }[] };
  vip?: { address: string; heldBy: string[] };
  haproxy: { host: string; primary: string[]; replicas: string[]; answered: boolean }[];
  backups?: { count: number; newest?: Backup; archive?: { min: string; max: string } };
  certificates: { host: string; path: string; subject: string; notAfter: string; daysLeft: number }[];
  /** What a failover may lose, as the inventory declares it (patroni_durability), and the synchronous standby. */
  durability: { mode: Durability; maximumLagBytes: number; syncStandby?: string };
  /** patroni_watchdog_mode, and each member's watchdog: usable, or why not. */
  watchdog: { mode: WatchdogMode; members: { host: string; usable: boolean; why?: string }[] };
  problems: Problem[];
  /** Not faults now, but risks the operator should know of (software with a known bug in a failure path). */
  advisories: Advisory[];
  /** A standby cluster (its leader a standby leader): where it streams from and how far behind. */
  standby?: StandbyState;
}

/** patroni_durability: async (a failover may lose up to maximum_lag_on_failover), sync, strict. */
export type Durability = 'async' | 'sync' | 'strict';

/** Pure: what the snapshot means. Each rule names what is wrong, where, and what to do. */
export function assess(s: ClusterSnapshot, t: Thresholds, inventoryFile = 'inventory.yaml'): Assessment {
  const problems: Problem[] = [];
  const problem: Report = (severity, subject, message, hint, settling) =>
    problems.push({
      severity,
      subject,
      message,
      ...(hint ? { hint } : {}),
      ...(settling ? { settling } : {}),
    });
  for (const [host, why] of Object.entries(s.unreachable)) {
    problem(
      'degraded',
      host,
      `unreachable over SSH: ${why}`,
      'is the host up? `pgprov status` reads it again when it answers',
    );
  }

  // The member list from whichever member answers; the leader's own view first.
  const views = s.members.filter((m) => m.view);
  const view =
    views.find((m) => m.view?.some((x) => isLeader(x) && x.name === m.host))?.view ?? views[0]?.view ?? [];
  const leaders = s.members.filter(
    (m) =>
      m.patroni?.answered &&
      ['master', 'primary', 'standby_leader'].includes(m.patroni.role) &&
      m.patroni.state === 'running',
  );
  const leaderName = view.find(isLeader)?.name ?? leaders[0]?.host;
  const leader = s.members.find((m) => m.host === leaderName);
  const leaderTimeline =
    (leader?.patroni?.answered ? leader.patroni.timeline : undefined) ?? view.find(isLeader)?.timeline;
  if (leaders.length > 1) {
    problem(
      'critical',
      'cluster',
      `more than one member runs as a writable primary: ${leaders.map((m) => m.host).join(', ')}`,
      'stop the one that is not the leader in etcd (`patronictl list`) at once; clients may write to both',
    );
  }
  if (!leaderName) {
    problem(
      'critical',
      'cluster',
      'no leader: the cluster refuses writes',
      'check etcd, then `journalctl -u patroni` on the members',
    );
  }

  const rows: MemberRow[] = [];
  for (const m of s.members) {
    const listed = view.find((x) => x.name === m.host);
    const own = m.patroni?.answered ? m.patroni : undefined;
    const isTheLeader = m.host === leaderName;
    const row: MemberRow = {
      member: m.host,
      host: m.address,
      role: listed ? listed.role.replace('_', ' ') : own ? own.role.replace('master', 'leader') : 'unknown',
      state: s.unreachable[m.host] ? 'unreachable' : (own?.state ?? listed?.state ?? 'not answering'),
      ...((own?.timeline ?? listed?.timeline) !== undefined
        ? { timeline: own?.timeline ?? listed?.timeline }
        : {}),
      ...(listed?.lagMb !== undefined && !isTheLeader ? { lagMb: listed.lagMb } : {}),
      receiver: isTheLeader ? '-' : describeReceiver(m.server),
    };
    rows.push(row);
    if (s.unreachable[m.host]) continue;
    if (m.patroni && !m.patroni.answered) {
      problem(
        'degraded',
        m.host,
        `Patroni does not answer: ${m.patroni.why}`,
        `sudo systemctl status patroni on ${m.host}`,
      );
      continue;
    }
    if (own && own.state !== 'running') {
      if (isTheLeader && !leaders.some((x) => x.host === m.host)) {
        // The leader key is held but nothing can take writes; no replica may promote while the key is held.
        problem(
          'critical',
          m.host,
          `holds the leader key but its PostgreSQL is ${own.state}: no member accepts writes`,
          `sudo journalctl -u patroni on ${m.host}; if its timeline forked (after a partition), stop Patroni there ` +
            `(sudo systemctl stop patroni) so a replica takes over, then pgprov reinit ${inventoryFile} ${m.host}`,
        );
        continue;
      }
      problem(
        'degraded',
        m.host,
        `PostgreSQL is ${own.state}`,
        `sudo journalctl -u patroni on ${m.host}`,
        PASSING_STATES.has(own.state),
      );
      continue;
    }
    if (isTheLeader || !leaderName) continue;
    const server = m.server;
    if (!server?.answered) {
      problem('degraded', m.host, server ? server.why : 'PostgreSQL was not read');
      continue;
    }
    const reinit = `rebuild it from the leader: pgprov reinit ${inventoryFile} ${m.host}`;
    if (!server.inRecovery) {
      problem('critical', m.host, `runs as a primary while ${leaderName} leads the cluster`, reinit);
    } else if (!server.receiver || server.receiver.status !== 'streaming') {
      problem(
        'degraded',
        m.host,
        `replica is not streaming from the leader (WAL receiver: ${server.receiver?.status ?? 'none'})`,
        `if it does not recover within a minute, ${reinit}`,
        true,
      );
    } else if (leaderTimeline !== undefined && server.receiver.timeline !== leaderTimeline) {
      problem(
        'degraded',
        m.host,
        `replica is on timeline ${server.receiver.timeline}, the leader on ${leaderTimeline}: it has diverged`,
        reinit,
      );
    }
    const lagBytes = (listed?.lagMb ?? 0) * 1048576;
    if (lagBytes > s.settings.maximumLagBytes) {
      problem(
        'degraded',
        m.host,
        `replica lags ${(lagBytes / 1048576).toFixed(1)} MB behind the leader (maximum_lag_on_failover ${(s.settings.maximumLagBytes / 1048576).toFixed(1)} MB): it cannot be promoted`,
      );
    }
  }
  const syncStandby = view.find((x) => x.role === 'sync_standby')?.name;
  // A standby cluster replicates asynchronously within itself whatever the setting (Patroni's rule).
  const standbyLeader = leader?.patroni?.answered && leader.patroni.role === 'standby_leader';
  if (leaderName && !standbyLeader && s.settings.durability !== 'async' && !syncStandby) {
    problem(
      'degraded',
      'cluster',
      s.settings.durability === 'strict'
        ? 'strict synchronous mode is on but no replica is a synchronous standby: the leader refuses writes'
        : 'synchronous mode is on but no replica is a synchronous standby: a failover now may lose commits',
      undefined,
      true,
    );
  }

  // A standby cluster: its leader is a standby leader, streaming from the primary cluster; nothing takes writes.
  const standby = standbyLeader ? judgeStandby(leader, inventoryFile, problem) : undefined;
  judgePromotions(s.promotedStandbys ?? [], leaders.length > 0 && !standbyLeader, problem);
  const watchdog = judgeWatchdog(s, problem);
  const advisories = patroniAdvisories(s);
  const etcd = judgeEtcd(s, problem);
  const replicasUp = rows
    .filter((r) => r.member !== leaderName && r.receiver === 'streaming')
    .map((r) => r.member);
  const { heldBy, haproxy } = judgeBalancers(s, standby ? undefined : leaderName, replicasUp, problem);
  const backups = judgeBackups(s, t, inventoryFile, problem);
  const certificates = judgeCertificates(s, t, inventoryFile, problem);

  const verdict = problems.some((p) => p.severity === 'critical')
    ? 'critical'
    : problems.length > 0
      ? 'degraded'
      : 'healthy';
  return {
    cluster: s.cluster,
    at: s.at.toISOString(),
    verdict,
    ...(leaderName ? { leader: leaderName } : {}),
    ...(leaderTimeline !== undefined ? { timeline: leaderTimeline } : {}),
    members: rows,
    etcd,
    ...(s.vip ? { vip: { address: s.vip, heldBy } } : {}),
    haproxy,
    ...(backups ? { backups } : {}),
    certificates,
    watchdog,
    advisories,
    ...(standby ? { standby } : {}),
    durability: {
      mode: s.settings.durability,
      maximumLagBytes: s.settings.maximumLagBytes,
      ...(syncStandby ? { syncStandby } : {}),
    },
    problems,
  };
}

function describeReceiver(server: ServerReport | undefined): string {
  if (!server) return '?';
  if (!server.answered) return 'postgres down';
  if (!server.inRecovery) return 'not a replica';
  if (!server.receiver) return 'not receiving';
  return server.receiver.status === 'streaming' ? 'streaming' : server.receiver.status;
}
