import { join } from 'node:path';
import pLimit from 'p-limit';
import { EnvironmentError } from '../core/errors.js';
import { request } from '../facts/fact.js';
import { type OsRelease, osReleaseFact } from '../facts/platform.js';
import type { InventoryHost } from '../inventory/model.js';
import { ensurePrivateDir, PUBLIC_FILE_MODE, readOptional, writeFileAtomic } from '../pki/state-dir.js';
import type { Platform, Project } from '../roles/model.js';
import type { Transport } from '../transport/transport.js';
import { gather } from './gather.js';

/**
 * Which release each host runs decides the roles' versions, paths and units (roles/platforms.yaml). `apply` reads
 * it from every host before planning (one round trip on the connection the run then uses: a host reinstalled
 * with another release is planned for what it runs now) and records it in the state folder, so that day-2
 * commands plan the same paths without reading every host first. A host that is down keeps the release it had.
 */
export interface PlatformOptions {
  project: Project;
  hosts: readonly InventoryHost[];
  /** The host's connection (the caller keeps it: apply reuses it for the run). */
  open(host: InventoryHost): Promise<Transport>;
  stateDir: string;
  forks: number;
  /** Read every host even if its release is recorded (and refuse an unsupported one); else only new hosts. */
  refresh: boolean;
}

/** The release a host runs when it is supported; a sentence saying what it runs otherwise. */
export function supportedPlatform(
  project: Project,
  os: OsRelease | undefined,
): { platform: Platform } | { unsupported: string } {
  if (!os) return { unsupported: 'has no readable /etc/os-release' };
  const platform = os.id === 'debian' ? project.platforms.find((p) => p.codename === os.codename) : undefined;
  return platform ? { platform } : { unsupported: `runs ${os.prettyName}` };
}

const supportedList = (project: Project): string =>
  project.platforms.map((p) => `${p.name} (${p.codename})`).join(' or ');

/**
 * Each host's release. A host that cannot be reached keeps the release recorded for it, else that of the other
 * hosts (the connection error is the caller's to report). With `refresh`, a host that runs a release pgprov does
 * not deploy on stops everything before any host is changed.
 */
export async function hostPlatforms(options: PlatformOptions): Promise<Map<string, Platform>> {
  const { project } = options;
  const recorded = await readRecorded(project, options.stateDir);
  const found = new Map<string, Platform>();
  const problems: string[] = [];
  const limit = pLimit(Math.max(1, options.forks));
  await Promise.all(
    options.hosts.map((host) =>
      limit(async () => {
        const known = recorded.get(host.name);
        if (known && !options.refresh) return found.set(host.name, known);
        let os: OsRelease | undefined;
        try {
          const facts = await gather(await options.open(host), [request(osReleaseFact, {})]);
          os = facts.get(osReleaseFact, {});
        } catch {
          if (known) found.set(host.name, known);
          return;
        }
        const result = supportedPlatform(project, os);
        if ('platform' in result) found.set(host.name, result.platform);
        else problems.push(`${host.name} ${result.unsupported}`);
      }),
    ),
  );
  if (problems.length > 0) {
    throw new EnvironmentError(`${problems.sort().join('; ')}: pgprov deploys on ${supportedList(project)}`, {
      hint: 'install a supported release on that host, or leave it out of this run with --limit',
    });
  }
  await record(project, options.stateDir, found);
  const fallback = mostCommon([...found.values()]) ?? project.platforms[0];
  if (!fallback) throw new Error('internal: roles/platforms.yaml names no release');
  return new Map(options.hosts.map((h) => [h.name, found.get(h.name) ?? fallback]));
}

const recordFile = (stateDir: string) => join(stateDir, 'platforms.json');

async function readRecorded(project: Project, stateDir: string): Promise<Map<string, Platform>> {
  return parseRecorded(project, await readOptional(recordFile(stateDir)));
}

/** Adds these hosts' releases to the record (written only when something differs). */
async function record(
  project: Project,
  stateDir: string,
  found: ReadonlyMap<string, Platform>,
): Promise<void> {
  const recorded = await readRecorded(project, stateDir);
  if (![...found].some(([name, p]) => recorded.get(name)?.codename !== p.codename)) return;
  // What was read now wins over what was recorded; hosts in name order.
  const codenames = new Map([...recorded, ...found].map(([name, p]) => [name, p.codename] as const));
  const merged = Object.fromEntries([...codenames].sort(([a], [b]) => a.localeCompare(b)));
  await ensurePrivateDir(stateDir);
  await writeFileAtomic(recordFile(stateDir), `${JSON.stringify(merged, null, 2)}\n`, PUBLIC_FILE_MODE);
}

function parseRecorded(project: Project, text: string | undefined): Map<string, Platform> {
  const out = new Map<string, Platform>();
  if (!text) return out;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return out; // a damaged record is read again from the hosts
  }
  if (!value || typeof value !== 'object') return out;
  for (const [host, codename] of Object.entries(value)) {
    const platform = project.platforms.find((p) => p.codename === codename);
    if (platform) out.set(host, platform);
  }
  return out;
}

function mostCommon(platforms: Platform[]): Platform | undefined {
  const counts = new Map<Platform, number>();
  for (const p of platforms) counts.set(p, (counts.get(p) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
}
