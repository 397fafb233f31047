import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnvironmentError, tail } from '../core/errors.js';
import { labLayout, type LabLayout } from './layout.js';
import { isAlive, type ProcessRecord } from './processes.js';
import type { LabState } from './state.js';
import { LAB_USER, labHostNamed, type LabHost } from './topology.js';

/** Reaching lab hosts over SSH: is sshd answering, and the `ssh` command line to log in. */

/** True if an SSH server answers on address:22 with its banner within `timeoutMs`. */
export function sshAnswers(address: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port: 22 });
    let banner = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (data: Buffer) => {
      banner += data.toString('latin1');
      if (banner.startsWith('SSH-')) done(true);
      else if (banner.length >= 4) done(false);
    });
    socket.on('end', () => done(false));
  });
}

/**
 * Waits until the host's sshd answers. Fails early if its nspawn process ends, and after `timeoutMs` otherwise,
 * naming the host and its console log (with the log's last lines).
 */
export async function waitForSsh(
  host: LabHost,
  nspawn: ProcessRecord,
  consoleLog: string,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await sshAnswers(host.address, 1_000)) return;
    const exited = !isAlive(nspawn);
    if (exited || Date.now() >= deadline) {
      const log = tail(await readFile(consoleLog, 'utf8').catch(() => ''), 12);
      const what = exited
        ? 'stopped while booting'
        : `did not answer on ${host.address}:22 within ${(timeoutMs / 1000).toFixed(timeoutMs < 10_000 ? 1 : 0)} s`;
      throw new EnvironmentError(`lab: ${host.name}: sshd ${what}` + (log ? `\n${log}` : ''), {
        hint: `see its console log: ${consoleLog}`,
      });
    }
    await sleep(200);
  }
}

/** Waits for every booted host's sshd; reports the first failure after all have settled. */
export async function waitForHosts(
  layout: LabLayout,
  state: LabState,
  hosts: readonly LabHost[],
  timeoutMs?: number,
): Promise<void> {
  const results = await Promise.allSettled(
    hosts.map((host) => {
      const record = state.hosts[host.name]?.nspawn;
      if (!record) throw new Error(`internal: ${host.name} has no nspawn record`);
      return waitForSsh(host, record, layout.host(host.name).consoleLog, timeoutMs);
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export interface SshArgsOptions {
  home?: string;
}

/**
 * The argv (`ssh` first) to log into a lab host as vagrant with the lab key, checking its host key against the
 * lab's known_hosts (pinned by `up`) and nothing else. Append a remote command to run one.
 */
export function labSshArgs(host: string, options: SshArgsOptions = {}): string[] {
  const layout = labLayout(options.home);
  const { address } = labHostNamed(host);
  return [
    'ssh',
    '-i',
    layout.sshKey,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${layout.knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    '-o',
    'LogLevel=ERROR',
    `${LAB_USER}@${address}`,
  ];
}
