import { execFileSync } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sh } from '../../src/core/command.js';
import { ConnectionError, HostKeyError } from '../../src/core/errors.js';
import { connect, type SshTransport } from '../../src/transport/ssh.js';
import { canRunSshd, startSshd, SUDO_USER, type Sshd } from '../support/sshd.js';

// Host key verification and connection failures, against a real OpenSSH server (see test/support/sshd.ts).
describe.skipIf(!canRunSshd())('connecting over SSH', { timeout: 60_000 }, () => {
  let sshd: Sshd;
  let hostFingerprint: string;
  const open: SshTransport[] = [];
  let files = 0;
  /** A spec with its own, fresh known_hosts file in a directory that does not exist yet. */
  const fresh = (overrides = {}) =>
    sshd.spec({
      user: SUDO_USER,
      knownHostsFile: join(sshd.dir, `kh${++files}`, 'known_hosts'),
      ...overrides,
    });
  const login = async (...args: Parameters<typeof connect>) => {
    const transport = await connect(...args);
    open.push(transport);
    return transport;
  };
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (e: unknown) => e as Error,
    );

  beforeAll(async () => {
    sshd = await startSshd();
    const printed = execFileSync('ssh-keygen', ['-l', '-f', join(sshd.dir, 'host.pub')], {
      encoding: 'utf8',
    });
    hostFingerprint = printed.split(' ')[1] ?? '';
  }, 600_000);

  afterAll(async () => {
    await Promise.all(open.map((t) => t.close()));
    await sshd?.stop();
  });

  describe('host keys', () => {
    it('records the key on first contact, quietly, in a new 0600 file in a new 0700 directory', async () => {
      const spec = fresh();
      const transport = await login(spec);
      expect(transport.hostKey).toEqual({
        type: 'ssh-ed25519',
        fingerprint: hostFingerprint,
        recorded: true,
      });
      expect(await readFile(spec.knownHostsFile, 'utf8')).toBe(
        `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n`,
      );
      expect((await stat(spec.knownHostsFile)).mode & 0o777).toBe(0o600);
      expect((await stat(join(spec.knownHostsFile, '..'))).mode & 0o777).toBe(0o700);
      // ssh itself accepts what we wrote.
      const ssh = ['-o', `UserKnownHostsFile=${spec.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes'];
      execFileSync('ssh', [
        ...ssh,
        '-i',
        sshd.clientKeyFile,
        '-p',
        `${sshd.port}`,
        `${SUDO_USER}@127.0.0.1`,
        'true',
      ]);

      const again = await login(spec);
      expect(again.hostKey.recorded).toBe(false);
      expect((await readFile(spec.knownHostsFile, 'utf8')).split('\n')).toHaveLength(2);
    });

    it('keeps every first-contact entry when hosts connect in parallel', async () => {
      const spec = fresh();
      // 127.0.0.1 and localhost are different names in known_hosts, as two hosts would be.
      const names = ['127.0.0.1', 'localhost', '127.0.0.1', 'localhost', '127.0.0.1'];
      await Promise.all(names.map((address) => login({ ...spec, address })));
      const lines = (await readFile(spec.knownHostsFile, 'utf8')).split('\n').filter(Boolean).sort();
      expect(lines).toEqual([
        `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}`,
        `[localhost]:${sshd.port} ${sshd.hostPublicKey}`,
      ]);
    });

    it('refuses a changed host key, naming both fingerprints, the file and line, and the fix', async () => {
      const spec = fresh();
      const other = 'AAAAC3NzaC1lZDI1NTE5AAAAIH3orZ8+cF7fe/uSkdbJMJJbYBz8iuATuyKYlPaBl6xK';
      const before = `# pgprov test\n[127.0.0.1]:${sshd.port} ssh-ed25519 ${other}\n`;
      await mkdir(join(spec.knownHostsFile, '..'), { recursive: true });
      await writeFile(spec.knownHostsFile, before);
      const error = await failure(login(spec));
      expect(error).toBeInstanceOf(HostKeyError);
      expect(error?.message).toContain(`sshd-fixture: the host key of 127.0.0.1:${sshd.port} has changed`);
      expect(error?.message).toContain(
        `expected ssh-ed25519 SHA256:ZVvRskPTIJWXuwKC2V50n91XI2bBm/CTsz8eXFJ+wB0 (${spec.knownHostsFile}:2)`,
      );
      expect(error?.message).toContain(`presented ssh-ed25519 ${hostFingerprint}`);
      expect((error as HostKeyError).hint).toBe(
        `if the change is expected (host reinstalled or its keys regenerated), remove the old entry with ` +
          `\`ssh-keygen -R '[127.0.0.1]:${sshd.port}' -f '${spec.knownHostsFile}'\` and run again to record the new key`,
      );
      expect(await readFile(spec.knownHostsFile, 'utf8')).toBe(before);
    });

    it('refuses a host known only by a key type it no longer offers', async () => {
      const spec = fresh();
      execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', join(sshd.dir, 'other-ecdsa')]);
      const key = (await readFile(join(sshd.dir, 'other-ecdsa.pub'), 'utf8'))
        .split(' ')
        .slice(0, 2)
        .join(' ');
      await mkdir(join(spec.knownHostsFile, '..'), { recursive: true });
      await writeFile(spec.knownHostsFile, `[127.0.0.1]:${sshd.port} ${key}\n`);
      const error = await failure(login(spec));
      expect(error).toBeInstanceOf(HostKeyError);
      expect(error?.message).toMatch(/expected ecdsa-sha2-nistp256 SHA256:\S+ .* presented ssh-ed25519/);
    });
  });

  describe('failures', () => {
    let silent: Server;
    let silentPort: number;
    const accepted: Socket[] = [];
    beforeAll(async () => {
      // Accepts TCP connections and never says a word, like a hung sshd.
      silent = createServer((socket) => accepted.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      silentPort = (silent.address() as { port: number }).port;
    });
    afterAll(async () => {
      accepted.forEach((socket) => socket.destroy());
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });

    it('says the connection was refused, with address, port and what to check', async () => {
      const port = await closedPort();
      const error = await failure(login(fresh({ port })));
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as ConnectionError).code).toBe('E_CONNECT');
      expect(error?.message).toBe(`sshd-fixture: cannot connect to 127.0.0.1:${port}: connection refused`);
      expect((error as ConnectionError).hint).toContain(
        `sshd is running on 127.0.0.1 and listens on port ${port}`,
      );
    });

    it('says an SSH handshake timed out', async () => {
      const error = await failure(login(fresh({ port: silentPort, connectTimeoutMs: 500 })));
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error?.message).toBe(
        `sshd-fixture: SSH handshake with 127.0.0.1:${silentPort} timed out after 0.5 s`,
      );
    });

    it('says authentication failed, for which user and key', async () => {
      const keyFile = join(sshd.dir, 'stranger');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
      const error = await failure(login(fresh({ privateKeyFile: keyFile })));
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error?.message).toBe(
        `sshd-fixture: authentication failed for user ${SUDO_USER} at 127.0.0.1:${sshd.port} (${keyFile})`,
      );
      expect((error as ConnectionError).hint).toContain(`~${SUDO_USER}/.ssh/authorized_keys`);
    });

    it('says which private key file it cannot read', async () => {
      const error = await failure(login(fresh({ privateKeyFile: '/nonexistent/id_ed25519' })));
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error?.message).toBe('sshd-fixture: cannot read the private key /nonexistent/id_ed25519');
    });

    it('works after all that', async () => {
      expect((await (await login(fresh())).exec(sh`echo ok`)).stdout).toBe('ok\n');
    });
  });
});

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
