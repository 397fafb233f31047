import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { sh } from '../core/command.js';
import { EnvironmentError } from '../core/errors.js';
import {
  cgroupHierarchies,
  cgroupPids,
  endCgroup,
  joinCgroups,
  prepareCgroups,
  removeCgroups,
} from './cgroups.js';
import type { LabLayout } from './layout.js';
import { isAlive, parseStat, recordOf, signal, waitForExit, type ProcessRecord } from './processes.js';
import type { LabHost } from './topology.js';

/**
 * Booting and stopping one lab host: systemd-nspawn with systemd as PID 1, in the host's network namespace and
 * its own cgroup, detached from the caller, its console written to hosts/<name>/console.log.
 */

/** How long an orderly shutdown may take before the host's processes are killed. */
export const POWEROFF_TIMEOUT_MS = 30_000;

/** The boot command: the wrapper joins the host's cgroups, then becomes systemd-nspawn (same PID). */
export function bootCommand(layout: LabLayout, host: LabHost, cgroupProcs: readonly string[]) {
  return sh`set -e; ${joinCgroups(cgroupProcs)}exec systemd-nspawn --quiet --register=no --keep-unit --boot ${[
    `--directory=${layout.host(host.name).root}`,
    `--machine=${host.name}`,
    `--network-namespace-path=/run/netns/${host.netns}`,
    // LAB-NOTES trap 2: keepalived needs CAP_NET_ADMIN (VIPs) and a writable /proc/sys/net (ip_nonlocal_bind).
    '--capability=CAP_NET_ADMIN,CAP_IPC_LOCK',
    '--console=read-only',
    '--resolv-conf=off',
    '--timezone=off',
    '--link-journal=no',
  ]}`;
}

/** Boots a host (its root mounted, its network made) and returns the nspawn process's record. */
export async function bootHost(layout: LabLayout, host: LabHost): Promise<ProcessRecord> {
  const dirs = layout.host(host.name);
  const command = bootCommand(layout, host, await prepareCgroups(host.name));
  const log = openSync(dirs.consoleLog, 'a');
  try {
    writeSync(log, `\n=== pgprov lab: booting ${host.name} at ${new Date().toISOString()} ===\n`);
    const child = spawn('/bin/sh', ['-c', command.script()], {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, SYSTEMD_NSPAWN_API_VFS_WRITABLE: 'network' },
    });
    child.on('error', () => undefined);
    child.unref();
    const record = child.pid === undefined ? undefined : recordOf(child.pid);
    if (!record) {
      throw new EnvironmentError(`lab: ${host.name}: systemd-nspawn did not start`, {
        hint: `see its console log: ${dirs.consoleLog}`,
      });
    }
    return record;
  } finally {
    closeSync(log);
  }
}

/** The host's nspawn process found in its cgroup, for when state.json was lost. */
async function findNspawn(host: LabHost): Promise<ProcessRecord | undefined> {
  const comm = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      return '';
    }
  };
  for (const pid of cgroupPids(await cgroupHierarchies(), host.name)) {
    let ppid: number | undefined;
    try {
      ppid = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.ppid;
    } catch {
      continue;
    }
    if (comm(pid) === 'systemd-nspawn' && (ppid === undefined || comm(ppid) !== 'systemd-nspawn'))
      return recordOf(pid);
  }
  return undefined;
}

/**
 * Stops a host: an orderly shutdown first (SIGTERM makes nspawn ask the host's systemd to halt, like a power
 * button), then SIGKILL of everything left in the host's cgroup after `timeoutMs`. Returns how it ended.
 */
export async function stopHost(
  host: LabHost,
  record: ProcessRecord | undefined,
  timeoutMs = POWEROFF_TIMEOUT_MS,
): Promise<'stopped' | 'killed' | 'not running'> {
  const nspawn = isAlive(record) ? record : await findNspawn(host);
  let outcome: 'stopped' | 'killed' | 'not running' = 'not running';
  // timeoutMs 0: no orderly shutdown at all (a power cut); the cgroup is killed below.
  if (nspawn && timeoutMs > 0 && signal(nspawn, 'SIGTERM')) {
    outcome = (await waitForExit([nspawn], timeoutMs)) ? 'stopped' : 'killed';
  }
  if (await endCgroup(host.name, 0)) outcome = 'killed';
  if (nspawn) await waitForExit([nspawn], 5_000);
  await removeCgroups(host.name);
  return outcome;
}
