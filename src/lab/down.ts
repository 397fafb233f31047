import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { sh } from '../core/command.js';
import { labLayout, type LabLayout } from './layout.js';
import { run } from './local.js';
import { stopHost } from './machine.js';
import { mountsUnder, unmountAll } from './mounts.js';
import { labNetnsNames, removeBridge, removeHostNetwork } from './network.js';
import { checkCanRunLab } from './prerequisites.js';
import { stopProxy } from './proxy.js';
import { writeKnownHosts } from './keys.js';
import { readState, removeState, stateHosts, withLabLock, writeState } from './state.js';
import { restoreSysctl } from './sysctl.js';
import { labHostNamed, type LabHost } from './topology.js';

export interface LabDownOptions {
  /**
   * Only these hosts: each stopped and removed with its overlay (a later `up` boots it bare), the rest of the lab
   * (other hosts, the bridge, the proxy) left running.
   */
  hosts?: readonly string[];
  /** How long each host may take to shut down before its processes are killed (default 30 s). */
  timeoutMs?: number;
  home?: string;
  onProgress?: (message: string) => void;
}

export interface LabDownResult {
  /** Hosts shut down in order, and those that had to be killed. */
  stopped: string[];
  killed: string[];
  /** One sentence: what was done, or why nothing was needed. */
  message: string;
  seconds: number;
}

/**
 * Takes the whole lab down and leaves nothing behind: hosts stopped (orderly, then SIGKILL of our own processes),
 * overlays unmounted, namespaces, veths and the bridge deleted, our proxy stopped, sysctls restored, hosts/
 * removed. The image cache, the proxy cache and the lab SSH key are kept. Works from state.json and from what it
 * finds on this machine with the lab's names, so it also cleans up after a crash. Idempotent.
 */
export async function labDown(options: LabDownOptions = {}): Promise<LabDownResult> {
  const since = Date.now();
  const progress = options.onProgress ?? (() => undefined);
  checkCanRunLab();
  const layout = labLayout(options.home);
  if (options.hosts) {
    const hosts = options.hosts.map(labHostNamed);
    return withLabLock(layout, () => removeHosts(layout, hosts, options, since), { onWait: progress });
  }
  return withLabLock(layout, async () => {
    const state = await readState(layout);
    const names = new Set(Object.keys(state?.hosts ?? {}));
    if (existsSync(layout.hosts)) for (const d of await readdir(layout.hosts)) names.add(d);
    for (const netns of await labNetnsNames()) names.add(netns.replace(/^pgprov-/, ''));
    const hosts: LabHost[] = [];
    for (const name of names) {
      try {
        hosts.push(labHostNamed(name));
      } catch {
        progress(`ignoring ${name}: not a lab host name`);
      }
    }
    hosts.sort((a, b) => a.index - b.index);

    if (hosts.length) progress(`stopping ${hosts.map((h) => h.name).join(', ')}`);
    const outcomes = await Promise.all(
      hosts.map(async (h) => ({
        host: h,
        outcome: await stopHost(h, state?.hosts[h.name]?.nspawn, options.timeoutMs),
      })),
    );
    const stopped = outcomes.filter((o) => o.outcome === 'stopped').map((o) => o.host.name);
    const killed = outcomes.filter((o) => o.outcome === 'killed').map((o) => o.host.name);
    if (killed.length) progress(`killed ${killed.join(', ')} (no orderly shutdown in time)`);

    let cleaned = false;
    for (const host of hosts) {
      const dirs = layout.host(host.name);
      if ((await mountsUnder(dirs.dir)).length) {
        await unmountAll(dirs.dir);
        cleaned = true;
      }
      if (await removeHostNetwork(host.netns, host.veth)) cleaned = true;
    }
    if (await removeBridge()) {
      progress('removed the lab bridge pgprov0');
      cleaned = true;
    }
    if (await stopProxy(state?.proxy)) {
      progress('stopped apt-cacher-ng');
      cleaned = true;
    }
    for (const [key, change] of Object.entries(state?.sysctls ?? {})) {
      if (await restoreSysctl(key, change)) progress(`restored ${key} to ${change.original}`);
    }
    if (existsSync(layout.hosts)) {
      await run(sh`rm -rf --one-file-system ${layout.hosts}`, { step: `remove ${layout.hosts}` });
      cleaned = true;
    }
    await rm(layout.knownHosts, { force: true });
    if (state) cleaned = true;
    await removeState(layout);

    const what = [
      ...(stopped.length ? [`${stopped.join(', ')} shut down`] : []),
      ...(killed.length ? [`${killed.join(', ')} killed`] : []),
    ];
    const message = what.length
      ? `the lab is down (${what.join('; ')})`
      : cleaned
        ? 'the lab is down (no host was running; cleaned up what was left)'
        : 'nothing to do: the lab is down';
    progress(message);
    return { stopped, killed, message, seconds: (Date.now() - since) / 1000 };
  });
}

/** Some hosts out of the lab: stopped, overlays unmounted and deleted, network and known_hosts lines gone. */
async function removeHosts(
  layout: LabLayout,
  hosts: readonly LabHost[],
  options: LabDownOptions,
  since: number,
): Promise<LabDownResult> {
  const progress = options.onProgress ?? (() => undefined);
  const state = await readState(layout);
  const outcomes = await Promise.all(
    hosts.map(async (h) => ({
      host: h.name,
      outcome: await stopHost(h, state?.hosts[h.name]?.nspawn, options.timeoutMs),
    })),
  );
  const removed: string[] = [];
  for (const host of hosts) {
    const dirs = layout.host(host.name);
    let had = Boolean(state?.hosts[host.name]);
    if ((await mountsUnder(dirs.dir)).length) await unmountAll(dirs.dir);
    if (await removeHostNetwork(host.netns, host.veth)) had = true;
    if (existsSync(dirs.dir)) {
      await run(sh`rm -rf --one-file-system ${dirs.dir}`, { step: `remove ${dirs.dir}` });
      had = true;
    }
    if (had) removed.push(host.name);
    if (state) delete state.hosts[host.name];
  }
  if (state) {
    await writeState(layout, state);
    await writeKnownHosts(
      layout,
      stateHosts(state).map((host) => ({ host, root: layout.host(host.name).root })),
    );
  }
  const stopped = outcomes.filter((o) => o.outcome === 'stopped').map((o) => o.host);
  const killed = outcomes.filter((o) => o.outcome === 'killed').map((o) => o.host);
  const message = removed.length
    ? `removed ${removed.join(', ')} from the lab` +
      (killed.length ? ` (${killed.join(', ')} killed: no orderly shutdown in time)` : '')
    : `nothing to do: the lab has no ${hosts.map((h) => h.name).join(', ')}`;
  progress(message);
  return { stopped, killed, message, seconds: (Date.now() - since) / 1000 };
}
