import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { sh } from '../core/command.js';
import { EnvironmentError } from '../core/errors.js';
import { run, tryRun } from './local.js';

/** What this machine needs to run the lab: Debian packages, root, overlayfs. */

export const CONTROLLER_PACKAGES = [
  'debootstrap',
  'systemd-container',
  'apt-cacher-ng',
  'openssh-client',
] as const;

const POLICY_RC_D = '/usr/sbin/policy-rc.d';

export interface PrerequisiteOptions {
  onProgress?: (message: string) => void;
}

/** Throws unless this process can build the lab: root on Linux. */
export function checkCanRunLab(): void {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    throw new EnvironmentError(
      'lab: the local lab needs root on Linux (it creates network namespaces and mounts)',
      {
        hint: 'run `pgprov lab` as root on a Debian machine, or use your own VMs with an inventory',
      },
    );
  }
  if (!existsSync('/usr/bin/apt-get')) {
    throw new EnvironmentError('lab: the local lab needs a Debian (apt) machine', {
      hint: 'run it on Debian 12 or newer, or use your own VMs with an inventory',
    });
  }
}

/** Debian packages from `wanted` that are not installed on this machine. */
export async function missingPackages(wanted: readonly string[]): Promise<string[]> {
  const result = await tryRun(sh`dpkg-query -W -f ${'${Package} ${Status}\n'} ${wanted}`);
  const installed = new Set(
    result.stdout
      .split('\n')
      .filter((line) => line.endsWith(' install ok installed'))
      .map((line) => line.split(' ')[0]),
  );
  return wanted.filter((p) => !installed.has(p));
}

/**
 * Installs the lab's Debian packages on this machine if any is missing (`apt-get update` once first). Package
 * scripts are kept from starting services (apt-cacher-ng would start a system-wide daemon that is not ours).
 */
/** Every apt run pgprov (and its tests) makes on this machine takes this lock, so they never overlap. */
export const APT_LOCK = '/run/lock/pgprov-apt.lock';

export async function ensureControllerPackages(options: PrerequisiteOptions = {}): Promise<void> {
  const missing = await missingPackages(CONTROLLER_PACKAGES);
  if (missing.length === 0) return;
  options.onProgress?.(`installing ${missing.join(', ')} on this machine`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  const hint =
    'check that this machine can reach its Debian mirror (`apt-get update`), then run `pgprov lab up` again';
  await run(sh`flock ${APT_LOCK} apt-get -o DPkg::Lock::Timeout=600 update -q`, {
    step: 'update the package lists',
    env,
    hint,
  });
  const ownPolicy = !existsSync(POLICY_RC_D);
  if (ownPolicy)
    await writeFile(
      POLICY_RC_D,
      '#!/bin/sh\n# pgprov lab: no service starts while packages install\nexit 101\n',
      { mode: 0o755 },
    );
  try {
    await run(
      sh`flock ${APT_LOCK} apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends ${missing}`,
      {
        step: `install ${missing.join(', ')}`,
        env,
        hint,
      },
    );
  } finally {
    if (ownPolicy) await rm(POLICY_RC_D, { force: true });
  }
}
