import { setTimeout as sleep } from 'node:timers/promises';
import { sh } from '../core/command.js';
import { EnvironmentError, UsageError } from '../core/errors.js';
import { run } from './local.js';
import { linkExists } from './network.js';
import { isAlive } from './processes.js';
import { type LabPowerResult, withHost } from './power.js';
import type { LabHost } from './topology.js';

/**
 * A network partition of one host, for drills: its end of the veth pair on the lab bridge goes down, as if its
 * cable were pulled. The host keeps running (Patroni, PostgreSQL, etcd and keepalived on it go on, each alone)
 * and sees no peer; this machine cannot reach it either. `labHeal` plugs the cable back in.
 */

export interface LabPartitionOptions {
  home?: string;
  /** Heal by itself after this long (the call returns then); without it the host stays cut off. */
  forMs?: number;
  onProgress?: (message: string) => void;
}

export async function labPartition(name: string, options: LabPartitionOptions = {}): Promise<LabPowerResult> {
  const since = Date.now();
  const cut = await withHost(name, { ...options, lock: false }, async (_layout, state, host) => {
    if (!isAlive(state.hosts[host.name]?.nspawn)) {
      throw new UsageError(`lab: ${host.name} is stopped: there is no network to cut`, {
        hint: `start it first: pgprov lab start ${host.name}`,
      });
    }
    if (!(await isLinkUp(host))) return false;
    await run(sh`ip link set ${host.veth} down`, { step: `${host.name}: cut its network` });
    return true;
  });
  const message = cut ? `${name} is cut off the lab network` : `nothing to do: ${name} is already cut off`;
  options.onProgress?.(message);
  if (options.forMs === undefined) return { host: name, changed: cut, message, seconds: elapsed(since) };
  await sleep(options.forMs);
  const healed = await labHeal(name, options);
  return {
    host: name,
    changed: true,
    message: `${name} was cut off for ${(options.forMs / 1000).toFixed(0)} s; ${healed.message}`,
    seconds: elapsed(since),
  };
}

/** The lab's network as the partition drill cuts and heals it (src/drill/partition.ts `Network`). */
export const labNetwork = {
  cut: async (host: string): Promise<void> => void (await labPartition(host)),
  heal: async (host: string): Promise<void> => void (await labHeal(host)),
};

/** Brings a partitioned host's network back. */
export async function labHeal(
  name: string,
  options: Pick<LabPartitionOptions, 'home' | 'onProgress'> = {},
): Promise<LabPowerResult> {
  const since = Date.now();
  const healed = await withHost(name, { ...options, lock: false }, async (_layout, _state, host) => {
    if (await isLinkUp(host)) return false;
    await run(sh`ip link set ${host.veth} up`, { step: `${host.name}: restore its network` });
    return true;
  });
  const message = healed ? `${name} is back on the lab network` : `nothing to do: ${name} is not cut off`;
  options.onProgress?.(message);
  return { host: name, changed: healed, message, seconds: elapsed(since) };
}

/** Whether the host's bridge end of its veth pair is administratively up. */
async function isLinkUp(host: LabHost): Promise<boolean> {
  if (!(await linkExists(host.veth))) {
    throw new EnvironmentError(`lab: ${host.name} has no network link ${host.veth}`, {
      hint: 'run `pgprov lab up` to rebuild the lab network',
    });
  }
  return linkIsUp(await run(sh`ip -o link show dev ${host.veth}`, { step: `${host.name}: read its link` }));
}

/** Whether `ip -o link show` says the link is up (UP among its flags), whatever its carrier. */
export function linkIsUp(text: string): boolean {
  return /<[^>]*\bUP\b[^>]*>/.test(text);
}

const elapsed = (since: number): number => (Date.now() - since) / 1000;
