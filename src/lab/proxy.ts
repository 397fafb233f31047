import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { portOpen } from '../core/port.js';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sh } from '../core/command.js';
import { EnvironmentError, tail } from '../core/errors.js';
import { endCgroup, joinCgroups, prepareCgroups, removeCgroups } from './cgroups.js';
import { aptCacherConfig } from './host-files.js';
import type { LabLayout } from './layout.js';
import { run } from './local.js';
import { machineDebianMirror } from './mirror.js';
import { isAlive, recordOf, signal, waitForExit, type ProcessRecord } from './processes.js';
import { APT_PROXY_PORT, BRIDGE_ADDRESS } from './topology.js';

/**
 * The lab's package proxy: apt-cacher-ng, our own process (there is no service manager on this machine), bound to
 * the bridge address only, with its own configuration folder and a cache kept across labs. Hosts have no route
 * out; this is how they install Debian packages.
 */

const USER = 'apt-cacher-ng';
const PROXY_CGROUP = 'apt-cacher-ng';

/** Starts the proxy unless the recorded one runs. Returns its record and whether it was started now. */
export async function ensureProxy(
  layout: LabLayout,
  current: ProcessRecord | undefined,
): Promise<{ record: ProcessRecord; started: boolean }> {
  if (isAlive(current)) return { record: current, started: false };
  await stopProxy(undefined); // one of ours that state.json lost track of
  if (await portOpen(BRIDGE_ADDRESS, APT_PROXY_PORT, 500)) {
    throw new EnvironmentError(`lab: something else already listens on ${BRIDGE_ADDRESS}:${APT_PROXY_PORT}`, {
      hint: 'stop it (a system-wide apt-cacher-ng, perhaps), then run `pgprov lab up` again',
    });
  }
  const { proxy } = layout;
  const conf = join(proxy.dir, 'conf');
  for (const d of [proxy.dir, proxy.cache, proxy.log, conf]) await mkdir(d, { recursive: true });
  const files = aptCacherConfig({
    cacheDir: proxy.cache,
    logDir: proxy.log,
    socketPath: proxy.socket,
    debianMirror: await machineDebianMirror(),
  });
  for (const [name, text] of Object.entries(files)) await writeFile(join(conf, name), text);
  const uid = Number(await run(sh`id -u ${USER}`, { step: `look up the ${USER} user` }));
  const gid = Number(await run(sh`id -g ${USER}`, { step: `look up the ${USER} group` }));
  // The cache may hold files from earlier labs: give the whole tree to the proxy's user.
  await run(sh`chown -R ${`${uid}:${gid}`} ${proxy.cache} ${proxy.log}`, { step: 'own the proxy cache' });
  await chown(proxy.dir, uid, gid);

  const stdout = join(proxy.log, 'stdout.log');
  const out = openSync(stdout, 'a');
  let record: ProcessRecord | undefined;
  try {
    // Joins its own cgroup as root, then drops to the proxy's user (same PID throughout).
    const procs = await prepareCgroups(PROXY_CGROUP);
    const command = sh`set -e; ${joinCgroups(procs)}exec setpriv ${[
      `--reuid=${uid}`,
      `--regid=${gid}`,
      '--clear-groups',
    ]} /usr/sbin/apt-cacher-ng -c ${conf}`;
    const child = spawn('/bin/sh', ['-c', command.script()], {
      detached: true,
      stdio: ['ignore', out, out],
      cwd: proxy.dir,
    });
    child.on('error', () => undefined);
    child.unref();
    record = child.pid === undefined ? undefined : recordOf(child.pid);
  } finally {
    closeSync(out);
  }
  const deadline = Date.now() + 15_000;
  while (
    record &&
    isAlive(record) &&
    !(await portOpen(BRIDGE_ADDRESS, APT_PROXY_PORT, 500)) &&
    Date.now() < deadline
  )
    await sleep(100);
  if (!record || !isAlive(record) || !(await portOpen(BRIDGE_ADDRESS, APT_PROXY_PORT, 500))) {
    if (record) await stopProxy(record);
    const log = tail(await readFile(stdout, 'utf8').catch(() => ''));
    throw new EnvironmentError(
      `lab: apt-cacher-ng did not start listening on ${BRIDGE_ADDRESS}:${APT_PROXY_PORT}` +
        (log ? `\n${log}` : ''),
      { hint: `see ${stdout} and ${proxy.log}/apt-cacher.err` },
    );
  }
  return { record, started: true };
}

/**
 * Stops our proxy: SIGTERM, SIGKILL after 10 s, and then anything else left in its cgroup (which also finds it
 * when state.json was lost). True if it was running.
 */
export async function stopProxy(record: ProcessRecord | undefined): Promise<boolean> {
  let stopped = false;
  if (record && signal(record, 'SIGTERM')) {
    stopped = true;
    await waitForExit([record], 10_000);
  }
  if (await endCgroup(PROXY_CGROUP, 10_000)) stopped = true;
  await removeCgroups(PROXY_CGROUP);
  return stopped;
}
