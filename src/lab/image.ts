import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sh } from '../core/command.js';
import { withLock } from '../core/file-lock.js';
import { UsageError } from '../core/errors.js';
import { aptProxy, dpkgConfig, aptSources, policyRcD, sshdConfig, sudoers } from './host-files.js';
import { type LabLayout, labLayout } from './layout.js';
import { run } from './local.js';
import { machineDebianMirror } from './mirror.js';
import { overlaysOver, unmountAll } from './mounts.js';
import { checkCanRunLab, ensureControllerPackages } from './prerequisites.js';
import { checkSuite, LAB_USER } from './topology.js';

/**
 * The lab image: a debootstrap rootfs per Debian suite, built once and cached under images/<suite>/. It is every
 * host's overlay lower layer, so it is never rebuilt while a host is mounted over it. It holds no identity: no
 * machine-id, no SSH host keys, no hostname, no login key; `up` gives each host its own.
 */

export const IMAGE_PACKAGES = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'libpam-systemd',
  'openssh-server',
  'sudo',
  'python3',
  'iproute2',
  'iputils-ping',
  'procps',
  'ca-certificates',
  'curl',
  'less',
] as const;

/** debootstrap through the machine's mirror takes 2-3 minutes; a build still going after this is stuck. */
const BUILD_TIMEOUT_MS = 20 * 60_000;

/** Written last: an image folder without it is an interrupted build. */
const MARKER = '.pgprov-image.json';

export interface ImageOptions {
  suite: string;
  /** Rebuild even if the image is cached (refused while hosts use it). */
  rebuild?: boolean;
  home?: string;
  onProgress?: (message: string) => void;
}

export interface ImageResult {
  path: string;
  suite: string;
  /** False when the cached image was used. */
  built: boolean;
  seconds: number;
}

/** True when images/<suite>/ holds a complete image. */
export function imageReady(suite: string, home?: string): boolean {
  return existsSync(join(labLayout(home).image(suite), MARKER));
}

/** `pgprov lab image`: this machine's lab packages, then the suite's image (no host booted). */
export async function labImage(options: ImageOptions): Promise<ImageResult> {
  checkCanRunLab();
  await ensureControllerPackages(options.onProgress ? { onProgress: options.onProgress } : {});
  return ensureLabImage(options);
}

/** Builds the suite's image unless it is cached (or rebuilds it on request, only if no host uses it). */
export async function ensureLabImage(options: ImageOptions): Promise<ImageResult> {
  const suite = checkSuite(options.suite);
  const layout = labLayout(options.home);
  const path = layout.image(suite);
  const started = Date.now();
  if (imageReady(suite, options.home) && !options.rebuild) {
    return { path, suite, built: false, seconds: 0 };
  }
  await mkdir(layout.images, { recursive: true });
  // One build per suite at a time: a second `up` or `image` (the test suite builds trixie's ahead) waits for it.
  return withLock(
    join(layout.images, `.${suite}.lock`),
    {
      timeoutMs: BUILD_TIMEOUT_MS,
      pollMs: 2000,
      mode: 0o644,
      takeOverStale: true,
      onWait: (holder) => options.onProgress?.(`waiting for another build of the ${suite} image (${holder})`),
      hint: `wait for that build to finish; if no pgprov process is building it, delete the lock file`,
    },
    async () => {
      if (imageReady(suite, options.home) && !options.rebuild) {
        return { path, suite, built: false, seconds: (Date.now() - started) / 1000 };
      }
      return build(suite, layout, options, started);
    },
  );
}

async function build(
  suite: string,
  layout: LabLayout,
  options: ImageOptions,
  started: number,
): Promise<ImageResult> {
  const path = layout.image(suite);
  const users = await overlaysOver(path);
  if (users.length > 0) {
    throw new UsageError(
      `lab: the ${suite} image is in use by ${users.join(', ')}; it cannot be rebuilt under them`,
      {
        hint: 'run `pgprov lab down` first, then rebuild the image',
      },
    );
  }
  const building = join(layout.images, `.${suite}.building`);
  await discard(building);

  const mirror = await machineDebianMirror();
  options.onProgress?.(`building the ${suite} image from ${mirror} (debootstrap, a few minutes)`);
  await run(
    sh`debootstrap --variant=minbase --include=${IMAGE_PACKAGES.join(',')} ${suite} ${building} ${mirror}`,
    {
      step: `debootstrap the ${suite} image`,
      hint: `check that ${mirror} is reachable from this machine and that ${suite} is a Debian suite; see debootstrap's log in ${building}/debootstrap/`,
      timeoutMs: BUILD_TIMEOUT_MS,
    },
  );
  await configure(building, suite, options.onProgress);
  await writeFile(
    join(building, MARKER),
    JSON.stringify({ suite, mirror, packages: IMAGE_PACKAGES, builtAt: new Date().toISOString() }, null, 2) +
      '\n',
  );

  if (existsSync(path)) {
    const old = join(layout.images, `.${suite}.old`);
    await discard(old);
    await rename(path, old);
    await rename(building, path);
    await discard(old);
  } else {
    await rename(building, path);
  }
  const seconds = (Date.now() - started) / 1000;
  options.onProgress?.(`built the ${suite} image in ${seconds.toFixed(0)} s`);
  return { path, suite, built: true, seconds };
}

/** Makes a fresh debootstrap root into a lab image: login user, apt through the proxy, no identity. */
async function configure(root: string, suite: string, onProgress?: (message: string) => void): Promise<void> {
  onProgress?.(`configuring the ${suite} image`);
  const policy = join(root, 'usr/sbin/policy-rc.d');
  await writeFile(policy, policyRcD(), { mode: 0o755 });
  try {
    await run(
      sh`chroot ${root} /bin/sh -euc ${`
        id -u ${LAB_USER} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash ${LAB_USER}
        install -d -m 0700 -o ${LAB_USER} -g ${LAB_USER} /home/${LAB_USER}/.ssh
        rm -f /etc/ssh/ssh_host_*
        apt-get clean
        rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/*.log /var/log/apt/*
      `}`,
      { step: `configure the ${suite} image` },
    );
    await writeFile(join(root, 'etc/apt/sources.list'), aptSources(suite));
    await writeFile(join(root, 'etc/apt/apt.conf.d/01pgprov-lab-proxy'), aptProxy());
    await writeFile(join(root, 'etc/dpkg/dpkg.cfg.d/01pgprov-lab'), dpkgConfig());
    await writeFile(join(root, 'etc/sudoers.d', LAB_USER), sudoers(), { mode: 0o440 });
    await writeFile(join(root, 'etc/ssh/sshd_config.d/pgprov-lab.conf'), sshdConfig());
    await writeFile(join(root, 'etc/resolv.conf'), '# Lab hosts have no DNS: lab names are in /etc/hosts.\n');
    // Identity comes per host at `up`. machine-id: empty here, and dbus's copy a link to it (LAB-NOTES trap 5).
    await writeFile(join(root, 'etc/hostname'), '');
    await writeFile(join(root, 'etc/machine-id'), '');
    await rm(join(root, 'var/lib/dbus/machine-id'), { force: true });
    await mkdir(join(root, 'var/lib/dbus'), { recursive: true });
    await symlink('/etc/machine-id', join(root, 'var/lib/dbus/machine-id'));
  } finally {
    await rm(policy, { force: true });
  }
}

/** Removes a folder left by an interrupted build, unmounting anything debootstrap left mounted in it first. */
async function discard(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  await unmountAll(dir);
  await run(sh`rm -rf --one-file-system ${dir}`, { step: `remove ${dir}` });
}

/** The image's build record, for status output. */
export async function imageInfo(
  suite: string,
  home?: string,
): Promise<{ builtAt: string; mirror: string } | undefined> {
  try {
    return JSON.parse(await readFile(join(labLayout(home).image(suite), MARKER), 'utf8')) as {
      builtAt: string;
      mirror: string;
    };
  } catch {
    return undefined;
  }
}
