import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LAB_HOME,
  labDown,
  labHosts,
  labLayout,
  labSshArgs,
  labStart,
  labStatus,
  labStop,
  labUp,
  type LabStatus,
  type LabUpResult,
} from '../../src/lab/index.js';
import { quote } from '../../src/core/command.js';
import { packagesFact } from '../../src/facts/package.js';
import { packageOp, type PackageArgs } from '../../src/ops/package.js';
import { env, recorded } from '../support/facts.js';
import { LAB_SUITE } from '../support/lab.js';

/**
 * The local lab on this machine, as a person would use it: bring up three hosts, log into each as vagrant with
 * the pinned host keys, install from the proxy, try to leave the lab, power one host off and on, take it all down.
 * The lab is taken down before and after, so a failing step never leaves it behind.
 */

const run = promisify(execFile);
const hosts = labHosts(3);
const layout = labLayout(LAB_HOME);
const log = (message: string) => console.log(`lab: ${message}`);

/** Runs a command on a lab host over ssh (StrictHostKeyChecking=yes against the lab's known_hosts). */
async function ssh(host: string, command: string, timeout = 120_000): Promise<string> {
  const [program, ...args] = labSshArgs(host);
  try {
    const { stdout } = await run(program!, [...args, command], { timeout });
    return stdout;
  } catch (error) {
    const e = error as { code?: number; stderr?: string; stdout?: string };
    throw new Error(`${host}: \`${command}\` exited with ${e.code}\n${e.stderr ?? ''}${e.stdout ?? ''}`);
  }
}

/** Exit code and output of a command that is expected to fail. */
async function sshFails(host: string, command: string): Promise<{ code: number; output: string }> {
  const [program, ...args] = labSshArgs(host);
  try {
    await run(program!, [...args, command], { timeout: 60_000 });
    return { code: 0, output: '' };
  } catch (error) {
    const e = error as { code?: number; stderr?: string; stdout?: string };
    return { code: e.code ?? -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function local(command: string, args: string[]): Promise<string> {
  return (await run(command, args)).stdout;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

describe('the local lab', () => {
  let up: LabUpResult;
  let inotifyBefore: string;
  let status: LabStatus;

  beforeAll(async () => {
    await labDown({ onProgress: log });
    inotifyBefore = readFileSync('/proc/sys/fs/inotify/max_user_instances', 'utf8').trim();
    up = await labUp({ hosts: 3, suite: LAB_SUITE, onProgress: log });
    log(
      `up (3 hosts) took ${up.seconds.toFixed(1)} s` +
        (up.image.built ? ` (image built in ${up.image.seconds.toFixed(0)} s)` : ''),
    );
  });

  afterAll(async () => {
    const down = await labDown({ onProgress: log });
    log(`down took ${down.seconds.toFixed(1)} s`);
  });

  it('brings up pg1, pg2 and pg3 on 10.231.0.11-13', () => {
    expect(up.started).toEqual(['pg1', 'pg2', 'pg3']);
    expect(up.hosts.map((h) => h.address)).toEqual(['10.231.0.11', '10.231.0.12', '10.231.0.13']);
  });

  it('pins each host key in known_hosts before the first login', () => {
    const lines = readFileSync(layout.knownHosts, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const [i, host] of hosts.entries()) {
      expect(lines[i]).toMatch(new RegExp(`^${host.address.replace(/\./g, '\\.')} ssh-ed25519 AAAA\\S+$`));
    }
  });

  it('logs into every host as vagrant with strict host key checking, and it knows its name', async () => {
    for (const host of hosts) {
      expect(labSshArgs(host.name)).toContain('StrictHostKeyChecking=yes');
      expect((await ssh(host.name, 'hostname')).trim()).toBe(host.name);
      expect((await ssh(host.name, 'id -un')).trim()).toBe('vagrant');
    }
  });

  it('gives each host its own machine-id and resolves every lab host by name', async () => {
    const ids = new Set<string>();
    for (const host of hosts) {
      ids.add((await ssh(host.name, 'cat /etc/machine-id')).trim());
      expect(await ssh(host.name, 'getent hosts pg1 pg2 pg3')).toContain('10.231.0.13');
    }
    expect(ids.size).toBe(3);
  });

  it('gives vagrant passwordless sudo', async () => {
    for (const host of hosts) {
      expect((await ssh(host.name, 'sudo -n true && sudo -n id -u')).trim()).toBe('0');
    }
  });

  it('installs Debian packages through the proxy on the bridge', async () => {
    const out = await ssh('pg1', 'sudo -n apt-get update 2>&1', 300_000);
    expect(out).toMatch(/Reading package lists/);
    expect(out).not.toMatch(/^(E|W): /m);
    expect(await ssh('pg1', 'apt-cache policy sudo')).toMatch(
      new RegExp(`deb\\.debian\\.org/debian ${LAB_SUITE}/main`),
    );
  });

  it("installs a package when apt's lists look fresh but do not know it (an update that failed part-way)", async () => {
    await ssh('pg1', 'sudo -n rm -rf /var/lib/apt/lists && sudo -n mkdir -p /var/lib/apt/lists/partial');
    const args: PackageArgs = {
      names: ['hello'],
      state: 'present',
      cacheValidSeconds: 3600,
      startServices: true,
    };
    const plan = async () => {
      const out = await ssh('pg1', `sudo -n sh -c ${quote(packagesFact.command(args).script())}`);
      return packageOp.plan(args, recorded([packagesFact, { names: args.names }, out]), env());
    };
    const first = await plan();
    const steps = first.changed ? first.steps : [];
    expect(steps.map((s) => (s.kind === 'exec' ? s.command.display() : s.kind))).toEqual([
      expect.stringMatching(/ update --error-on=any /),
      expect.stringMatching(/ install --no-install-recommends hello$/),
    ]);
    for (const step of steps) {
      if (step.kind === 'exec') await ssh('pg1', `sudo -n sh -c ${quote(step.command.script())}`, 300_000);
    }
    expect(await plan()).toMatchObject({
      changed: false,
      reason: expect.stringMatching(/^installed: hello /),
    });
  });

  it('keeps hosts inside the lab: no route out, and this machine refuses to forward their traffic', async () => {
    expect((await ssh('pg2', 'ip route')).trim()).toBe(
      '10.231.0.0/24 dev eth0 proto kernel scope link src 10.231.0.12',
    );
    const ping = await sshFails('pg2', 'ping -c 1 -W 2 198.51.100.1');
    expect(ping.code).not.toBe(0);
    expect(ping.output).toMatch(/Network is unreachable/);
    const curl = await sshFails('pg2', 'curl -sS -m 5 --noproxy "*" http://198.51.100.1/');
    expect(curl.code).toBe(7);
    // Even a host that adds a route of its own gets nowhere: the bridge's traffic is never routed off this machine.
    expect(await local('ip', ['rule', 'show', 'priority', '10231'])).toMatch(/iif pgprov0 prohibit/);
  });

  it('runs each host in its own cgroup', async () => {
    status = await labStatus();
    for (const h of status.hosts) {
      expect(h.pid).toBeGreaterThan(0);
      const cgroups = readFileSync(`/proc/${h.pid}/cgroup`, 'utf8');
      expect(cgroups).toContain(`:name=systemd:/pgprov-lab/${h.name}/`);
      expect(cgroups).toContain(`:memory:/pgprov-lab/${h.name}\n`);
    }
  });

  it('does nothing when brought up again, and says so', async () => {
    const again = await labUp({ hosts: 3, suite: LAB_SUITE });
    expect(again.started).toEqual([]);
    expect(again.alreadyRunning).toEqual(['pg1', 'pg2', 'pg3']);
    expect(again.message).toMatch(/^nothing to do/);
    const now = await labStatus();
    expect(now.hosts.map((h) => h.pid)).toEqual(status.hosts.map((h) => h.pid));
  });

  it('reports every host running with sshd answering', async () => {
    expect(status.up).toBe(true);
    expect(status.proxy.running).toBe(true);
    expect(
      status.hosts.map(({ name, address, running, sshd }) => ({ name, address, running, sshd })),
    ).toEqual(hosts.map((h) => ({ name: h.name, address: h.address, running: true, sshd: true })));
  });

  it('powers one host off and on again: a new boot, the same keys, the others untouched', async () => {
    const bootBefore = (await ssh('pg2', 'cat /proc/sys/kernel/random/boot_id')).trim();
    const keyBefore = readFileSync(layout.knownHosts, 'utf8');
    const pg1Boot = (await ssh('pg1', 'cat /proc/sys/kernel/random/boot_id')).trim();

    const stop = await labStop('pg2', { onProgress: log });
    expect(stop.message).toBe('pg2 shut down');
    const stopped = await labStatus();
    expect(stopped.hosts.find((h) => h.name === 'pg2')).toMatchObject({ running: false, sshd: false });
    expect(stopped.hosts.filter((h) => h.running).map((h) => h.name)).toEqual(['pg1', 'pg3']);
    expect((await labStop('pg2')).changed).toBe(false);

    const start = await labStart('pg2', { onProgress: log });
    expect(start.changed).toBe(true);
    log(`pg2 stopped in ${stop.seconds.toFixed(1)} s, booted in ${start.seconds.toFixed(1)} s`);
    expect((await ssh('pg2', 'cat /proc/sys/kernel/random/boot_id')).trim()).not.toBe(bootBefore);
    expect(readFileSync(layout.knownHosts, 'utf8')).toBe(keyBefore);
    expect((await ssh('pg1', 'cat /proc/sys/kernel/random/boot_id')).trim()).toBe(pg1Boot);
    status = await labStatus();
  });

  it('removes one host alone and boots it bare again: a new host key, the others untouched', async () => {
    const pg1Boot = (await ssh('pg1', 'cat /proc/sys/kernel/random/boot_id')).trim();
    await ssh('pg3', 'sudo touch /etc/pgprov-was-here');
    const keyBefore = readFileSync(layout.knownHosts, 'utf8');
    const pg3Key = keyBefore.split('\n').find((l) => l.includes('10.231.0.13'));

    const removed = await labDown({ hosts: ['pg3'], onProgress: log });
    expect(removed.message).toBe('removed pg3 from the lab');
    const without = await labStatus();
    expect(without.hosts.map((h) => h.name)).toEqual(['pg1', 'pg2']);
    expect(without.proxy.running).toBe(true);
    expect(existsSync(layout.host('pg3').dir)).toBe(false);
    expect(await local('ip', ['netns', 'list'])).not.toMatch(/pgprov-pg3\b/);
    expect(readFileSync(layout.knownHosts, 'utf8')).not.toContain('10.231.0.13');
    expect((await labDown({ hosts: ['pg3'] })).message).toBe('nothing to do: the lab has no pg3');

    const again = await labUp({ names: ['pg3'], onProgress: log });
    expect(again.started).toEqual(['pg3']);
    expect(again.alreadyRunning).toEqual(['pg1', 'pg2']);
    expect((await sshFails('pg3', 'test -e /etc/pgprov-was-here')).code).toBe(1);
    const keyAfter = readFileSync(layout.knownHosts, 'utf8');
    expect(keyAfter.split('\n').find((l) => l.includes('10.231.0.13'))).not.toBe(pg3Key);
    expect((await ssh('pg1', 'cat /proc/sys/kernel/random/boot_id')).trim()).toBe(pg1Boot);
    status = await labStatus();
  });

  it('takes everything down and leaves nothing behind', async () => {
    const pids = [...status.hosts.map((h) => h.pid!), status.proxy.pid!];
    const down = await labDown({ onProgress: log });
    log(`down took ${down.seconds.toFixed(1)} s`);
    expect(down.stopped).toEqual(['pg1', 'pg2', 'pg3']);
    expect(down.killed).toEqual([]);

    expect(await local('ip', ['netns', 'list'])).not.toMatch(/pgprov-/);
    expect(await local('ip', ['-br', 'link'])).not.toMatch(/pgprov0|pgpv-/);
    expect(await local('ip', ['rule'])).not.toMatch(/pgprov0/);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(`${LAB_HOME}/hosts`);
    expect(pids.filter(alive)).toEqual([]);
    for (const hierarchy of ['systemd', 'memory', 'unified']) {
      expect(existsSync(`/sys/fs/cgroup/${hierarchy}/pgprov-lab`)).toBe(false);
    }
    expect(readFileSync('/proc/sys/fs/inotify/max_user_instances', 'utf8').trim()).toBe(inotifyBefore);
    expect(existsSync(layout.hosts)).toBe(false);
    expect(existsSync(layout.state)).toBe(false);
    // Kept for the next lab: the image and the login key.
    expect(existsSync(layout.image(LAB_SUITE))).toBe(true);
    expect(existsSync(layout.sshKey)).toBe(true);

    expect((await labDown()).message).toBe('nothing to do: the lab is down');
    expect((await labStatus()).up).toBe(false);
  });
});
