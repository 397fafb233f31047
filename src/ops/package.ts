import type { Command } from '../core/command.js';
import { raw, sh } from '../core/command.js';
import { request } from '../facts/fact.js';
import { packagesFact } from '../facts/package.js';
import { change, defineOperation, exec, noChange } from './operation.js';

export interface PackageArgs {
  names: string[];
  state: 'present' | 'absent';
  /** Refresh apt's lists first when they are older than this (seconds). */
  cacheValidSeconds: number;
  /**
   * Debian starts services on install (etcd starts a default single-member cluster). false installs with a
   * policy-rc.d that forbids starting them, so the role configures the service before its first start.
   */
  startServices: boolean;
}

const APT = 'DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300';
/**
 * apt-get update exits 0 when an index fails to download (it warns and keeps the old lists), so the install
 * after it fails later with "Unable to locate package". --error-on=any makes the update fail, with the mirror's
 * error; Acquire::Retries rides out a mirror or proxy that fails once.
 */
const UPDATE = 'update --error-on=any -o Acquire::Retries=3';

export const packageOp = defineOperation<PackageArgs>({
  module: 'package',
  facts: ({ names }) => [request(packagesFact, { names })],
  plan: ({ names, state, cacheValidSeconds, startServices }, facts) => {
    const { installed, candidates, listsAgeSeconds } = facts.get(packagesFact, { names });
    if (state === 'absent') {
      const present = names.filter((n) => installed[n]);
      if (present.length === 0) return noChange(`${names.join(', ')} not installed`);
      return change(`remove ${present.join(', ')}`, [exec(sh`${raw(APT)} remove ${present}`)]);
    }
    const missing = names.filter((n) => !installed[n]);
    if (missing.length === 0) {
      return noChange(`installed: ${names.map((n) => `${n} ${installed[n]}`).join(', ')}`);
    }
    const steps = [];
    // Fresh lists that do not know a missing package mean the last update failed part-way (or a source was
    // added since): update again rather than fail with "Unable to locate package" until the lists age out.
    const unknown = missing.filter((n) => !candidates[n]);
    if (listsAgeSeconds > cacheValidSeconds || unknown.length > 0)
      steps.push(exec(sh`${raw(APT)} ${raw(UPDATE)}`));
    const install = sh`${raw(APT)} install --no-install-recommends ${missing}`;
    steps.push(exec(startServices ? install : withoutServiceStarts(install)));
    return change(
      `install ${missing.join(', ')}${startServices ? '' : ' (services not started by the package)'}`,
      steps,
    );
  },
});

/** Runs an install under a policy-rc.d that denies service starts; an existing policy is left alone. */
function withoutServiceStarts(install: Command): Command {
  return sh`if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d && trap 'rm -f /usr/sbin/policy-rc.d' EXIT; fi; ${install}`;
}
