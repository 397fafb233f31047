import type { MemberSnapshot, Report } from './health.js';

/**
 * A standby cluster in the DCS: Patroni's `standby_cluster` section makes the cluster's leader a "standby
 * leader" that streams from another cluster and takes no writes. Putting it on a cluster that runs as a primary
 * would throw away every write made there since; taking it off promotes the cluster. Neither happens as a side
 * effect of `apply`: only `pgprov promote` takes it off, and nothing ever puts it back.
 */

type Settings = Record<string, unknown>;

export const STANDBY_KEY = 'standby_cluster';

export interface StandbySettings {
  /** The settings to converge: the standby section left out where it must not be touched. */
  settings: Settings;
  /** What the operator must hear. */
  warning?: string;
}

const present = (value: unknown): value is Settings =>
  typeof value === 'object' && value !== null && Object.keys(value).length > 0;

/** The part of `desired` apply may converge, given the cluster's current settings in the DCS. */
export function standbySettings(desired: Settings, current: Settings): StandbySettings {
  const wanted = desired[STANDBY_KEY];
  const running = current[STANDBY_KEY];
  if (present(wanted) && !present(running)) {
    const { [STANDBY_KEY]: _, ...rest } = desired;
    return {
      settings: rest,
      warning:
        'the inventory makes this cluster a standby (standby_of), but it runs as a primary (promoted, or made ' +
        'as one): it is left writable, never turned back into a standby. Remove standby_of from the inventory; ' +
        'to follow the primary again, rebuild this cluster from it.',
    };
  }
  if (!present(wanted) && present(running)) {
    const from = `${String(running.host)}:${String(running.port ?? 5432)}`;
    return {
      settings: desired,
      warning:
        `this cluster is a standby of ${from} (its DCS says so) but the inventory names no primary ` +
        '(standby_of): it stays a read-only standby. `pgprov promote` makes it writable.',
    };
  }
  return { settings: desired };
}

/** A standby cluster as `status` shows it: where its leader streams from, and how far behind. */
export interface StandbyState {
  /** `host:port` the standby leader streams from (its primary's VIP and replication port). */
  upstream?: string;
  /** The standby leader's WAL receiver: streaming, or why not. */
  receiver: string;
  /** WAL the primary had written by its last message that the standby leader has not replayed, in bytes. */
  behindBytes?: number;
  /** Seconds since the primary's last message. */
  silentSeconds?: number;
}

/** The primary is presumed gone when a standby leader has heard nothing from it for this long. */
const STANDBY_SILENCE_SECONDS = 60;

/**
 * A standby cluster's leader streams from its primary: say how far behind it is, and report it degraded when it
 * does not receive (the primary, its VIP or the network between the sites).
 */
export function judgeStandby(
  leader: Pick<MemberSnapshot, 'host' | 'server'> | undefined,
  inventoryFile: string,
  problem: Report,
): StandbyState {
  const server = leader?.server;
  const receiver = server?.answered ? server.receiver : undefined;
  const state: StandbyState = {
    receiver: !server?.answered ? 'postgres down' : (receiver?.status ?? 'not receiving'),
    ...(receiver?.sender ? { upstream: receiver.sender } : {}),
    ...(receiver?.behindSenderBytes !== undefined ? { behindBytes: receiver.behindSenderBytes } : {}),
    ...(receiver?.silentSeconds !== undefined ? { silentSeconds: receiver.silentSeconds } : {}),
  };
  const where = leader ? ` (${leader.host})` : '';
  if (state.receiver !== 'streaming') {
    problem(
      'degraded',
      'standby',
      `the standby leader${where} is not receiving from its primary (WAL receiver: ${state.receiver})`,
      `check the primary cluster and its virtual IP's replication port from ${leader?.host ?? 'the leader'}; if the primary's site is lost, \`pgprov promote ${inventoryFile}\` makes this cluster writable`,
    );
  } else if ((state.silentSeconds ?? 0) > STANDBY_SILENCE_SECONDS) {
    problem(
      'degraded',
      'standby',
      `the standby leader${where} has heard nothing from its primary for ${Math.round(state.silentSeconds ?? 0)} s`,
      'the connection may be dead without being closed: check the network between the sites',
    );
  }
  return state;
}

/** A standby of this cluster that `pgprov promote` made writable (its record in this cluster's state folder). */
export interface PromotedStandby {
  /** The standby cluster that was promoted, and its inventory file. */
  cluster: string;
  inventory: string;
  /** When (ISO 8601). */
  at: string;
  /** Where it takes writes now. */
  vip?: string;
  /** The record in this cluster's state folder: deleted by the operator once this one takes no more writes. */
  file: string;
}

/**
 * The primary of a standby that was promoted: while it still takes writes, two clusters take writes for the
 * same clients and diverge. Critical until the operator says it is dealt with (deletes the record).
 */
export function judgePromotions(
  promoted: readonly PromotedStandby[],
  writable: boolean,
  problem: Report,
): void {
  if (!writable) return;
  for (const p of promoted) {
    problem(
      'critical',
      'standby',
      `standby cluster ${p.cluster} was promoted at ${p.at} and takes writes${p.vip ? ` at ${p.vip}` : ''}: this cluster takes writes too, and the two diverge`,
      `send every client to one of them; to make this one follow it, rebuild it as a standby (standby_of: ${p.inventory}); then delete ${p.file}`,
    );
  }
}
