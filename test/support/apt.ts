import { execFileSync } from 'node:child_process';

/** Installs Debian packages the tests need when they are missing (CI starts from a fresh machine, as root). */
export function ensureDebianPackages(packages: string[], binary: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
    return;
  } catch {
    // missing: install below
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-q'], { stdio: 'ignore', env });
  execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], {
    stdio: 'ignore',
    env,
  });
}
