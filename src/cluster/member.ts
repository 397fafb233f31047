/** A Patroni cluster member as `patronictl list` reports it, in pgprov's terms. */
export interface Member {
  /** Patroni's scope: the cluster's name. */
  cluster: string;
  name: string;
  host: string;
  role: MemberRole;
  /** Patroni's state: running, streaming (3.1+), starting, stopped, crashed, creating replica, ... */
  state: string;
  timeline?: number;
  /** Replay lag behind the leader in MB; undefined on the leader or when Patroni cannot tell. */
  lagMb?: number;
  /** A parameter changed that PostgreSQL applies only at a restart. */
  pendingRestart: boolean;
}

export type MemberRole = 'leader' | 'standby_leader' | 'sync_standby' | 'quorum_standby' | 'replica';

/** Parses the member list of Patroni's REST API, `GET /cluster` (Patroni 3.0 to 4.x). */
export function parseCluster(json: string, cluster: string): Member[] {
  const body = JSON.parse(json) as { members?: Record<string, unknown>[] };
  if (!body || !Array.isArray(body.members)) throw new Error('GET /cluster did not return a member list');
  return body.members.map((r) => {
    const lag = r.lag;
    const tl = r.timeline;
    return {
      cluster,
      name: String(r.name),
      host: String(r.host ?? ''),
      role: roleOf(String(r.role ?? '')),
      state: String(r.state ?? 'unknown'),
      ...(typeof tl === 'number' ? { timeline: tl } : {}),
      ...(typeof lag === 'number' ? { lagMb: lag / 1048576 } : {}),
      pendingRestart: r.pending_restart === true,
    };
  });
}

function roleOf(role: string): MemberRole {
  const r = role.toLowerCase().replace(/[\s-]+/g, '_');
  if (r === 'leader' || r === 'master' || r === 'primary') return 'leader';
  if (r === 'standby_leader' || r === 'sync_standby' || r === 'quorum_standby') return r;
  return 'replica';
}

export const isLeader = (m: Member): boolean => m.role === 'leader' || m.role === 'standby_leader';

/** Running PostgreSQL under Patroni: "running" (and "streaming", Patroni 3.1+, for replicas). */
export const isRunning = (m: Member): boolean => m.state === 'running' || m.state === 'streaming';

export const describeMember = (m: Member): string =>
  `${m.name} (${m.role.replace('_', ' ')}, ${m.state}${m.pendingRestart ? ', pending restart' : ''})`;
