import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
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

/**
 * A program from a Debian package, without installing the package (no service starts, nothing changes on this
 * machine): the .deb is downloaded once and unpacked under /var/cache/pgprov-test/<package>/. Returns its path.
 */
export function debianProgram(pkg: string, path: string): string {
  const root = `/var/cache/pgprov-test/${pkg}`;
  const program = `${root}/root/${path}`;
  if (existsSync(program)) return program;
  mkdirSync(root, { recursive: true });
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const download = () =>
    execFileSync('flock', [APT_LOCK, 'apt-get', 'download', '-q', pkg], { cwd: root, stdio: 'ignore', env });
  try {
    download();
  } catch {
    // A fresh machine has no package lists yet.
    execFileSync('flock', [APT_LOCK, 'apt-get', '-o', 'DPkg::Lock::Timeout=600', 'update', '-q'], {
      stdio: 'ignore',
      env,
    });
    download();
  }
  const deb = readdirSync(root).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${root}`);
  execFileSync('dpkg-deb', ['-x', `${root}/${deb}`, `${root}/root`]);
  return program;
}
