import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { raw, sh, type Command } from '../core/command.js';
import { EnvironmentError } from '../core/errors.js';
import { mounts } from './mounts.js';

/**
 * The lab's processes live in cgroups of their own: `pgprov-lab/<host>` per host, `pgprov-lab/apt-cacher-ng` for
 * the proxy, in every mounted hierarchy. Without a systemd on this machine, nspawn's `--keep-unit` would put every
 * host in one cgroup, and one host's `systemctl stop` could reach another host's processes (LAB-NOTES trap 1).
 * Whatever runs in these groups descends from a process the lab started, so `down` can find it all even after a
 * crash lost state.json.
 */

const LAB_CGROUP = 'pgprov-lab';

/** The mount points of this machine's cgroup hierarchies (v1 controllers, name=systemd, the unified v2 tree). */
export async function cgroupHierarchies(): Promise<string[]> {
  return (await mounts())
    .filter((m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2')
    .map((m) => m.mountPoint)
    .sort();
}

export function labCgroup(hierarchy: string, name: string): string {
  return join(hierarchy, LAB_CGROUP, name);
}

/**
 * Creates the group in every hierarchy and returns the `cgroup.procs` files to join it through. A v1 cpuset group
 * starts with no CPUs or memory nodes, so those are copied from the parent.
 */
export async function prepareCgroups(name: string): Promise<string[]> {
  const procs: string[] = [];
  for (const hierarchy of await cgroupHierarchies()) {
    const dir = labCgroup(hierarchy, name);
    await mkdir(dir, { recursive: true });
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      for (const d of [dirname(dir), dir]) {
        const path = join(d, file);
        if (existsSync(path) && (await readFile(path, 'utf8')).trim() === '') {
          await writeFile(path, await readFile(join(dirname(d), file), 'utf8'));
        }
      }
    }
    procs.push(join(dir, 'cgroup.procs'));
  }
  return procs;
}

/** Shell that moves itself into the groups (then `exec`s what follows, keeping its PID and its groups). */
export function joinCgroups(procs: readonly string[]): Command {
  return procs.length ? sh`for f in ${procs}; do echo $$ > "$f"; done && ` : sh`${raw('')}`;
}

/** Every PID in the group's tree, in any hierarchy (the sets are the same; reading all of them misses nothing). */
export function cgroupPids(hierarchies: readonly string[], name: string): number[] {
  const pids = new Set<number>();
  const walk = (dir: string) => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
      for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) {
        if (line.trim()) pids.add(Number(line));
      }
    } catch {
      return;
    }
    for (const e of entries) {
      const sub = join(dir, e);
      if (existsSync(join(sub, 'cgroup.procs'))) walk(sub);
    }
  };
  for (const h of hierarchies) walk(labCgroup(h, name));
  return [...pids];
}

/** Removes the group's (empty) trees, deepest first, and the lab's parent group once it is empty. */
export async function removeCgroups(name: string): Promise<void> {
  for (const hierarchy of await cgroupHierarchies()) {
    const dir = labCgroup(hierarchy, name);
    try {
      await removeTree(dir);
    } catch (cause) {
      throw new EnvironmentError(`lab: cannot remove cgroup ${dir}: processes still run in it`, {
        hint: `see \`find ${dir} -name cgroup.procs | xargs cat\`; run \`pgprov lab down\` again`,
        cause,
      });
    }
    const parent = join(hierarchy, LAB_CGROUP);
    if (existsSync(parent) && (await subgroups(parent)).length === 0)
      await rmdir(parent).catch(() => undefined);
  }
}

async function subgroups(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }))
    if (e.isDirectory()) out.push(join(dir, e.name));
  return out;
}

async function removeTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const sub of await subgroups(dir)) await removeTree(sub);
  await rmdir(dir);
}

/**
 * Ends every process in the group: SIGTERM and up to `graceMs` to exit, then SIGKILL. Returns whether any was
 * running. They all descend from a process the lab started.
 */
export async function endCgroup(name: string, graceMs: number): Promise<boolean> {
  const hierarchies = await cgroupHierarchies();
  const pids = () => cgroupPids(hierarchies, name);
  if (pids().length === 0) return false;
  const send = (sig: NodeJS.Signals) => {
    for (const pid of pids()) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  if (graceMs > 0) send('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids().length > 0 && Date.now() < deadline) await sleep(100);
  for (let round = 0; round < 50 && pids().length > 0; round++) {
    send('SIGKILL');
    await sleep(100);
  }
  const left = pids();
  if (left.length > 0) {
    throw new EnvironmentError(`lab: ${name}: processes ${left.join(', ')} survived SIGKILL`, {
      hint: 'they may be stuck in the kernel (D state); wait, then run `pgprov lab down` again',
    });
  }
  return true;
}
