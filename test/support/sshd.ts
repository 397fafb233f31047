/**
 * A real OpenSSH server for transport tests: `/usr/sbin/sshd -D -e -f <generated config>` on 127.0.0.1 and a
 * random free port, as this test process's own child (stopped by PID). Generated host and client keys, root
 * login by key, and two unprivileged users: `pgprov-test` (passwordless sudo through a sudoers.d file named for
 * this server, removed on stop) and `pgprov-test-nosudo` (no sudo rights).
 *
 * Needs root. Installs openssh-server and sudo with apt-get when they are missing (CI: fresh Debian 12). Setup
 * that touches the system runs under a file lock, so several test files can start servers in parallel.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ConnectionSpec } from '../../src/transport/transport.js';

const run = promisify(execFile);

export const SUDO_USER = 'pgprov-test';
export const PLAIN_USER = 'pgprov-test-nosudo';
/** Shared with the lab and other tests that install Debian packages, so their apt runs never overlap. */
const LOCK = '/run/lock/pgprov-apt.lock';
const SSHD = '/usr/sbin/sshd';

export interface Sshd {
  address: string;
  port: number;
  /** Scratch directory of this server (keys, config, known_hosts). */
  dir: string;
  /** The server's host public key, as `type base64`. */
  hostPublicKey: string;
  /** Private key accepted for root and both test users. */
  clientKeyFile: string;
  /** A connection spec for this server: root, a fresh known_hosts in `dir`, short connect timeout. */
  spec(overrides?: Partial<ConnectionSpec>): ConnectionSpec;
  /** What sshd logged so far (for failing tests). */
  log(): string;
  stop(): Promise<void>;
}

/** True when this process can run the fixture (it installs packages, adds users and writes sudoers.d). */
export const canRunSshd = (): boolean => process.getuid?.() === 0;

export async function startSshd(): Promise<Sshd> {
  if (!canRunSshd())
    throw new Error('the sshd fixture needs root (it installs packages and adds test users)');
  await prepareSystem();
  const dir = await mkdtemp(join(tmpdir(), 'pgprov-sshd-'));
  // sshd reads authorized_keys as the logging-in user, so the path must be traversable by the test users.
  await chmod(dir, 0o755);
  await run('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    'pgprov-test-host',
    '-f',
    join(dir, 'host'),
  ]);
  await run('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    'pgprov-test-client',
    '-f',
    join(dir, 'client'),
  ]);
  const clientPublic = await readFile(join(dir, 'client.pub'), 'utf8');
  await mkdir(join(dir, 'authorized_keys'), { mode: 0o755 });
  for (const user of ['root', SUDO_USER, PLAIN_USER]) {
    await writeFile(join(dir, 'authorized_keys', user), clientPublic, { mode: 0o644 });
  }
  const hostPublicKey = (await readFile(join(dir, 'host.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');

  let server: { child: ChildProcess; port: number; log: () => string } | undefined;
  for (let attempt = 1; server === undefined; attempt++) {
    try {
      server = await launch(dir, await freePort());
    } catch (error) {
      if (attempt >= 3) throw error; // the free port was taken in between: try another
    }
  }
  const { child, port, log } = server;
  const sudoers = `/etc/sudoers.d/pgprov-test-${process.pid}-${port}`;
  await installSudoers(sudoers, `${SUDO_USER} ALL=(ALL) NOPASSWD: ALL\n`);

  return {
    address: '127.0.0.1',
    port,
    dir,
    hostPublicKey,
    clientKeyFile: join(dir, 'client'),
    spec: (overrides = {}) => ({
      name: 'sshd-fixture',
      address: '127.0.0.1',
      port,
      user: 'root',
      privateKeyFile: join(dir, 'client'),
      become: true,
      knownHostsFile: join(dir, 'known_hosts'),
      connectTimeoutMs: 5_000,
      ...overrides,
    }),
    log,
    stop: async () => {
      await stopChild(child);
      await rm(sudoers, { force: true });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Packages, test users and sshd's privilege separation directory; idempotent, under a lock. */
async function prepareSystem(): Promise<void> {
  const script = `
    set -e
    export DEBIAN_FRONTEND=noninteractive
    if [ ! -x ${SSHD} ] || ! command -v sudo >/dev/null || ! command -v ssh-keygen >/dev/null; then
      # Keep the package scripts from starting a system sshd on port 22.
      if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\\nexit 101\\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
      fi
      # Other installs (the lab, other test files) may hold the dpkg lock for a while: wait for it.
      apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }
      install_packages() { apt_get -y -q --no-install-recommends install openssh-server openssh-client sudo; }
      install_packages || { apt_get -q update && install_packages; }
    fi
    for user in ${SUDO_USER} ${PLAIN_USER}; do
      id -u "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh --password '*' "$user"
    done
    mkdir -p /run/sshd && chmod 0755 /run/sshd
  `;
  try {
    await run('flock', [LOCK, 'sh', '-c', script], { maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`sshd fixture: preparing the system failed:\n${stderr ?? String(error)}`, {
      cause: error,
    });
  }
}

async function launch(dir: string, port: number) {
  const config = join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host')}`,
      'PidFile none',
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}/%u`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      `AllowUsers root ${SUDO_USER} ${PLAIN_USER}`,
      'PrintMotd no',
      'MaxStartups 100',
      'MaxSessions 50',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`sshd exited with ${code}:\n${log}`))),
  );
  exited.catch(() => undefined);
  await Promise.race([waitForPort(port, 10_000), exited]).catch(async (error: unknown) => {
    await stopChild(child);
    throw error;
  });
  return { child, port, log: () => log };
}

async function installSudoers(path: string, content: string): Promise<void> {
  const staged = `${path}.new`; // sudo ignores sudoers.d files with a dot in their name
  await writeFile(staged, content, { mode: 0o440 });
  try {
    await run('visudo', ['-c', '-q', '-f', staged]);
    await run('mv', ['-f', staged, path]);
  } finally {
    await rm(staged, { force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const sock = connect({ host: '127.0.0.1', port }, () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
