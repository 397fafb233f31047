import { UsageError } from '../core/errors.js';
import { mountHostRoot } from './host-root.js';
import { labLayout, type LabLayout } from './layout.js';
import { bootHost, stopHost } from './machine.js';
import { ensureBridge, ensureHostNetwork } from './network.js';
import { checkCanRunLab } from './prerequisites.js';
import { isAlive } from './processes.js';
import { waitForHosts } from './ssh.js';
import { hostSuite, readState, withLabLock, writeState, type LabState } from './state.js';
import { labHostNamed, type LabHost } from './topology.js';

/**
 * One host's power, for failover drills: `labStop` is the power button (an orderly shutdown of that host only),
 * `labStart` boots it again on the same overlay, with the same identity and keys.
 */

export interface LabPowerOptions {
  home?: string;
  /** labStop: how long the shutdown may take before the host is killed (default 30 s). labStart: boot timeout. */
  timeoutMs?: number;
  onProgress?: (message: string) => void;
  /** labStop: cut the power (kill every process of the host at once) instead of an orderly shutdown. */
  hard?: boolean;
}

export interface LabPowerResult {
  host: string;
  changed: boolean;
  /** One sentence: what was done, or why nothing was needed. */
  message: string;
  seconds: number;
}

/**
 * Runs `fn` for a host the lab has (a host it has not is a usage error), under the lab's lock unless `lock` is
 * false: cut and heal change a link, not the lab's state, and a drill's heal must not wait for another lab
 * command (hosts of another cluster booting beside it).
 */
export async function withHost<T>(
  name: string,
  options: LabPowerOptions & { lock?: boolean },
  fn: (layout: LabLayout, state: LabState, host: LabHost) => Promise<T>,
): Promise<T> {
  const host = labHostNamed(name);
  checkCanRunLab();
  const layout = labLayout(options.home);
  const work = async () => fn(layout, await labStateWith(layout, host), host);
  if (options.lock === false) return work();
  return withLabLock(layout, work, options.onProgress ? { onWait: options.onProgress } : {});
}

/**
 * The lab's state, for a host it must have. Without the lab lock, for commands that change no state and must
 * not wait behind another lab command (a partition drill's cut and heal): state.json is replaced atomically.
 */
export async function labStateWith(layout: LabLayout, host: LabHost): Promise<LabState> {
  const state = await readState(layout);
  if (!state || !state.hosts[host.name]) {
    const have = Object.keys(state?.hosts ?? {});
    throw new UsageError(`lab: ${host.name} is not part of the lab`, {
      hint: have.length
        ? `the lab has ${have.join(', ')}; \`pgprov lab up ${host.name}\` adds it`
        : 'bring the lab up first: `pgprov lab up`',
    });
  }
  return state;
}

/**
 * Shuts one host down cleanly (SIGKILL of its own processes only if it does not stop in time), or with `hard`
 * cuts its power: everything in its cgroup is killed at once.
 */
export async function labStop(name: string, options: LabPowerOptions = {}): Promise<LabPowerResult> {
  const since = Date.now();
  return withHost(name, options, async (layout, state, host) => {
    const record = state.hosts[host.name]?.nspawn;
    if (!isAlive(record)) {
      return done(host, false, `nothing to do: ${host.name} is already stopped`, since, options);
    }
    const outcome = await stopHost(host, record, options.hard ? 0 : options.timeoutMs);
    state.hosts[host.name] = { suite: hostSuite(state, host.name) };
    await writeState(layout, state);
    const how = options.hard
      ? 'powered off hard (every process killed at once)'
      : outcome === 'killed'
        ? 'killed (it did not shut down in time)'
        : 'shut down';
    return done(host, true, `${host.name} ${how}`, since, options);
  });
}

/** Boots a stopped host again and waits for its sshd. */
export async function labStart(name: string, options: LabPowerOptions = {}): Promise<LabPowerResult> {
  const since = Date.now();
  return withHost(name, options, async (layout, state, host) => {
    if (isAlive(state.hosts[host.name]?.nspawn)) {
      return done(host, false, `nothing to do: ${host.name} is already running`, since, options);
    }
    await ensureBridge();
    await ensureHostNetwork(host);
    await mountHostRoot(layout, host, hostSuite(state, host.name));
    state.hosts[host.name] = { suite: hostSuite(state, host.name), nspawn: await bootHost(layout, host) };
    await writeState(layout, state);
    await waitForHosts(layout, state, [host], options.timeoutMs);
    return done(host, true, `${host.name} booted`, since, options);
  });
}

function done(
  host: LabHost,
  changed: boolean,
  message: string,
  since: number,
  options: LabPowerOptions,
): LabPowerResult {
  options.onProgress?.(message);
  return { host: host.name, changed, message, seconds: (Date.now() - since) / 1000 };
}
