import { execFileSync } from 'node:child_process';
import { APT_LOCK } from '../../src/lab/prerequisites.js';

/** Installs Debian packages the tests need when they are missing (CI starts from a fresh machine, as root). */
export function ensureDebianPackages(packages: string[], binary: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
    return;
  } catch {
    // missing: install below
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('flock', [APT_LOCK, 'apt-get', '-o', 'DPkg::Lock::Timeout=600', 'update', '-q'], {
    stdio: 'ignore',
    env,
  });
  execFileSync(
    'flock',
    [
      APT_LOCK,
      'apt-get',
      '-o',
      'DPkg::Lock::Timeout=600',
      'install',
      '-y',
      '-q',
      '--no-install-recommends',
      ...packages,
    ],
    {
      stdio: 'ignore',
      env,
    },
  );
}
