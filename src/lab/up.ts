import { UsageError } from '../core/errors.js';
import { mountHostRoot, writeEtcHosts, writeHostIdentity } from './host-root.js';
import { ensureLabImage, type ImageResult } from './image.js';
import { ensureLabKey, labPublicKey, writeKnownHosts } from './keys.js';
import { labLayout } from './layout.js';
import { bootHost } from './machine.js';
import { ensureBridge, ensureHostNetwork } from './network.js';
import { checkCanRunLab, ensureControllerPackages } from './prerequisites.js';
import { isAlive } from './processes.js';
import { ensureProxy } from './proxy.js';
import { waitForHosts } from './ssh.js';
import { emptyState, hostSuite, readState, stateHosts, withLabLock, writeState } from './state.js';
import { INOTIFY_INSTANCES, inotifyInstancesFor, raiseSysctl } from './sysctl.js';
import {
  APT_PROXY_URL,
  BRIDGE_ADDRESS,
  BRIDGE_NAME,
  checkSuite,
  DEFAULT_HOST_COUNT,
  DEFAULT_SUITE,
  labHostNamed,
  labHosts,
  type LabHost,
} from './topology.js';

export interface LabUpOptions {
  /** Hosts pg1..pg<hosts> (default 3). Hosts beyond that which the lab already has are kept. */
  hosts?: number;
  /** These hosts instead of pg1..pg<hosts> (`['pg7', 'pg8']`). */
  names?: readonly string[];
  /**
   * Debian suite of the image for the hosts this call adds (default: the lab's suite, else bookworm). One lab
   * can run hosts of several suites; a host the lab has keeps its own.
   */
  suite?: string;
  /** Rebuild the suite's cached image first (refused while hosts are mounted over it). */
  rebuildImage?: boolean;
  /** How long each host may take to boot to a listening sshd (default 90 s). */
  bootTimeoutMs?: number;
  home?: string;
  onProgress?: (message: string) => void;
}

export interface LabUpResult {
  /** Every host the lab has now, in order. */
  hosts: LabHost[];
  /** Hosts this call booted. */
  started: string[];
  /** Hosts that were running already. */
  alreadyRunning: string[];
  image: ImageResult;
  /** One sentence: what was done, or why nothing was needed. */
  message: string;
  seconds: number;
}

/**
 * Brings the lab up: pg1..pgN booted, each answering SSH, their host keys pinned in known_hosts. Idempotent:
 * running hosts are left alone, so a second call does nothing (and says so) and a larger N adds hosts.
 */
export async function labUp(options: LabUpOptions = {}): Promise<LabUpResult> {
  const started = Date.now();
  const wanted = options.names
    ? options.names.map(labHostNamed)
    : labHosts(options.hosts ?? DEFAULT_HOST_COUNT);
  if (options.suite !== undefined) checkSuite(options.suite);
  const progress = options.onProgress ?? (() => undefined);
  checkCanRunLab();
  const layout = labLayout(options.home);
  // This machine's packages, and the image built (or another build of it waited for), before the lab lock, so
  // other lab commands go on meanwhile.
  await ensureControllerPackages({ onProgress: progress });
  if (!options.rebuildImage) {
    const suite = options.suite ?? (await readState(layout))?.suite ?? DEFAULT_SUITE;
    await ensureLabImage({ suite, home: options.home, onProgress: progress });
  }
  return withLabLock(
    layout,
    async () => {
      const state = (await readState(layout)) ?? emptyState(options.suite ?? DEFAULT_SUITE);
      if (Object.keys(state.hosts).length === 0) state.suite = options.suite ?? state.suite;
      const suite = options.suite ?? state.suite;
      const other = wanted.filter((h) => state.hosts[h.name] && hostSuite(state, h.name) !== suite);
      if (other.length) {
        const names = other.map((h) => h.name);
        throw new UsageError(
          `lab: ${names.join(', ')} ${other.length === 1 ? 'runs' : 'run'} ${hostSuite(state, names[0]!)}, not ${suite}`,
          {
            hint: `run \`pgprov lab down ${names.join(' ')}\` first to change the suite, or leave --suite out`,
          },
        );
      }
      for (const h of wanted) state.hosts[h.name] ??= { suite };
      const all = stateHosts(state);
      // Hosts by name boot only those; a host count brings the whole lab up, stopped hosts included.
      const asked = new Set(wanted.map((h) => h.name));
      const toBoot = all.filter(
        (h) => (!options.names || asked.has(h.name)) && !isAlive(state.hosts[h.name]?.nspawn),
      );
      const alreadyRunning = all.filter((h) => isAlive(state.hosts[h.name]?.nspawn)).map((h) => h.name);

      const image = await ensureLabImage({
        suite,
        rebuild: options.rebuildImage,
        home: options.home,
        onProgress: progress,
      });
      // A stopped host of another suite boots on its own image.
      for (const other of new Set(toBoot.map((h) => hostSuite(state, h.name)))) {
        if (other !== suite) await ensureLabImage({ suite: other, home: options.home, onProgress: progress });
      }
      // Everything below is idempotent, so `up` also repairs a lab whose proxy or bridge went away.
      const changes: string[] = [];
      const note = (change: string) => {
        changes.push(change);
        progress(change);
      };
      if (await ensureLabKey(layout)) note(`generated the lab SSH key ${layout.sshKey}`);
      await writeState(layout, state);
      const inotify = await raiseSysctl(
        INOTIFY_INSTANCES,
        inotifyInstancesFor(all.length),
        state.sysctls[INOTIFY_INSTANCES],
      );
      if (inotify && inotify.set !== state.sysctls[INOTIFY_INSTANCES]?.set) {
        state.sysctls[INOTIFY_INSTANCES] = inotify;
        await writeState(layout, state);
        note(`raised ${INOTIFY_INSTANCES} from ${inotify.original} to ${inotify.set}`);
      }
      if (await ensureBridge()) note(`created the lab bridge ${BRIDGE_NAME} (${BRIDGE_ADDRESS}/24)`);
      const proxy = await ensureProxy(layout, state.proxy);
      state.proxy = proxy.record;
      await writeState(layout, state);
      if (proxy.started) note(`started apt-cacher-ng on ${APT_PROXY_URL} (PID ${proxy.record.pid})`);

      const loginKey = await labPublicKey(layout);
      for (const host of all) {
        const root = layout.host(host.name).root;
        if (toBoot.includes(host)) {
          await ensureHostNetwork(host);
          await mountHostRoot(layout, host, hostSuite(state, host.name));
          await writeHostIdentity(root, host, all, loginKey);
        } else if (await writeEtcHosts(root, all)) {
          note(`${host.name}: updated /etc/hosts`);
        }
      }
      await writeKnownHosts(
        layout,
        all.map((host) => ({ host, root: layout.host(host.name).root })),
      );
      if (toBoot.length === 0) {
        const running = `${alreadyRunning.join(', ')} already running`;
        const message = changes.length ? `${changes.join('; ')}; ${running}` : `nothing to do: ${running}`;
        if (!changes.length) progress(message);
        return result(all, [], alreadyRunning, image, message, started);
      }

      progress(`booting ${toBoot.map((h) => h.name).join(', ')}`);
      for (const host of toBoot) {
        state.hosts[host.name] = { ...state.hosts[host.name], nspawn: await bootHost(layout, host) };
        await writeState(layout, state);
      }
      await waitForHosts(layout, state, toBoot, options.bootTimeoutMs);
      const names = toBoot.map((h) => h.name);
      const message =
        `started ${names.join(', ')}` +
        (alreadyRunning.length ? `; ${alreadyRunning.join(', ')} already running` : '');
      progress(message);
      return result(all, names, alreadyRunning, image, message, started);
    },
    { onWait: progress },
  );
}

function result(
  hosts: LabHost[],
  started: string[],
  alreadyRunning: string[],
  image: ImageResult,
  message: string,
  since: number,
): LabUpResult {
  return { hosts, started, alreadyRunning, image, message, seconds: (Date.now() - since) / 1000 };
}
