import { labLayout } from './layout.js';
import { isAlive } from './processes.js';
import { sshAnswers } from './ssh.js';
import { hostSuite, readState, stateHosts } from './state.js';

export interface LabHostStatus {
  name: string;
  address: string;
  /** The Debian suite the host was made from. */
  suite: string;
  running: boolean;
  /** PID of the host's systemd-nspawn process, while it runs. */
  pid?: number;
  /** sshd answered with its banner just now. */
  sshd: boolean;
}

export interface LabStatus {
  /** False when there is no lab (never brought up, or taken down). */
  up: boolean;
  /** The suite of the lab's first hosts (each host says its own). */
  suite?: string;
  hosts: LabHostStatus[];
  proxy: { running: boolean; pid?: number };
}

export interface LabStatusOptions {
  home?: string;
}

/** What the lab looks like now: per host, running or not, address, PID, and whether sshd answers. */
export async function labStatus(options: LabStatusOptions = {}): Promise<LabStatus> {
  const state = await readState(labLayout(options.home));
  if (!state) return { up: false, hosts: [], proxy: { running: false } };
  const hosts = await Promise.all(
    stateHosts(state).map(async (host): Promise<LabHostStatus> => {
      const record = state.hosts[host.name]?.nspawn;
      const running = isAlive(record);
      return {
        name: host.name,
        address: host.address,
        suite: hostSuite(state, host.name),
        running,
        ...(running ? { pid: record.pid } : {}),
        sshd: running && (await sshAnswers(host.address, 1_000)),
      };
    }),
  );
  const proxyRunning = isAlive(state.proxy);
  return {
    up: true,
    suite: state.suite,
    hosts,
    proxy: { running: proxyRunning, ...(proxyRunning && state.proxy ? { pid: state.proxy.pid } : {}) },
  };
}
