import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sh } from '../../src/core/command.js';
import { ConnectionError, RemoteCommandError } from '../../src/core/errors.js';
import { MASK, Secret } from '../../src/core/secret.js';
import { ExecTimeoutError } from '../../src/transport/connect-errors.js';
import { connect, type SshTransport } from '../../src/transport/ssh.js';
import { canRunSshd, PLAIN_USER, startSshd, SUDO_USER, type Sshd } from '../support/sshd.js';

// Against a real OpenSSH server on 127.0.0.1 (see test/support/sshd.ts); needs root, as in CI.
describe.skipIf(!canRunSshd())('SSH transport against a real sshd', { timeout: 60_000 }, () => {
  let sshd: Sshd;
  // Most tests log in as an unprivileged user with passwordless sudo, as a deployment would.
  let admin: SshTransport;
  const open: SshTransport[] = [];
  const login = async (...args: Parameters<typeof connect>) => {
    const transport = await connect(...args);
    open.push(transport);
    return transport;
  };
  let scratch: string;

  beforeAll(async () => {
    sshd = await startSshd();
    admin = await login(sshd.spec({ user: SUDO_USER, become: true }));
    scratch = `/tmp/pgprov-transport-test-${sshd.port}`;
    await admin.exec(sh`rm -rf ${scratch} && mkdir -m 0755 ${scratch}`);
  }, 600_000);

  afterAll(async () => {
    await admin?.exec(sh`rm -rf ${scratch}`);
    await Promise.all(open.map((t) => t.close()));
    await sshd?.stop();
  });

  describe('exec', () => {
    it('returns stdout, stderr and the exit code, and does not throw for a non-zero exit', async () => {
      const result = await admin.exec(sh`echo out; echo err >&2; exit 3`);
      expect(result).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    });

    it('passes awkward values through unchanged', async () => {
      const values = [
        'two words',
        `it's "quoted"`,
        '$HOME `id` $(id)',
        'line one\nline two',
        '*',
        '',
        'naïve ☃',
      ];
      const result = await admin.exec(sh`printf '%s\\0' ${values}`);
      expect(result.stdout.split('\0').slice(0, -1)).toEqual(values);
    });

    it('runs with LC_ALL=C and a PATH that has the sbin directories, whatever the login shell had', async () => {
      const result = await admin.exec(sh`echo "$LC_ALL|$PATH"; command -v useradd`);
      expect(result.stdout).toBe(
        'C|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n/usr/sbin/useradd\n',
      );
    });

    it('feeds stdin as text, bytes or a Secret', async () => {
      expect((await admin.exec(sh`cat`, { stdin: 'text in' })).stdout).toBe('text in');
      const bytes = randomBytes(1000);
      expect((await admin.exec(sh`sha256sum`, { stdin: bytes })).stdout).toMatch(/^[0-9a-f]{64} {2}-\n$/);
      expect((await admin.exec(sh`cat`, { stdin: new Secret('from a secret') })).stdout).toBe(
        'from a secret',
      );
      expect((await admin.exec(sh`wc -c`)).stdout.trim()).toBe('0'); // no stdin: EOF right away
    });

    it('reveals a Secret to the host only: never in display or errors', async () => {
      const value = `pa ss'word$`;
      const secret = new Secret(value);
      const command = sh`printf %s ${secret} | sha256sum; echo ${secret} >&2; sleep 5`;
      expect(command.display()).toBe(`printf %s ${MASK} | sha256sum; echo ${MASK} >&2; sleep 5`);
      const error = await admin.exec(command, { timeoutMs: 1_000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ExecTimeoutError);
      const { message, stderrTail, command: shown } = error as ExecTimeoutError;
      expect(`${message} ${stderrTail} ${shown}`).not.toContain('word');
      expect(stderrTail).toBe(MASK); // the host did print the value; it is masked in the error
      const hash = createHash('sha256').update(value).digest('hex');
      expect((await admin.exec(sh`printf %s ${secret} | sha256sum`)).stdout).toBe(`${hash}  -\n`);
    });

    it('gives up after timeoutMs with a RemoteCommandError, and the connection stays usable', async () => {
      const started = Date.now();
      const error = await admin.exec(sh`sleep 30`, { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(error).toBeInstanceOf(RemoteCommandError);
      expect((error as Error).message).toBe(
        'sshd-fixture: command timed out after 0.3 s and was stopped: sleep 30',
      );
      expect((await admin.exec(sh`echo still here`)).stdout).toBe('still here\n');
    });

    it('counts one round trip for each exec, put and get', async () => {
      const before = admin.roundTrips;
      await admin.exec(sh`true`);
      await admin.put({
        path: `${scratch}/counted`,
        content: 'x',
        mode: '0644',
        owner: 'root',
        group: 'root',
      });
      await admin.get(`${scratch}/counted`);
      expect(admin.roundTrips - before).toBe(3);
    });
  });

  describe('put and get', () => {
    it('round-trips binary content with its mode and owner', async () => {
      const path = `${scratch}/binary file`;
      const content = Buffer.concat([randomBytes(200_000), Buffer.from([0, 13, 10, 255])]);
      await admin.put({ path, content, mode: '0640', owner: SUDO_USER, group: SUDO_USER });
      expect((await admin.exec(sh`stat -c '%a %U:%G' ${path}`)).stdout).toBe(
        `640 ${SUDO_USER}:${SUDO_USER}\n`,
      );
      expect(await admin.get(path)).toEqual(content);
    });

    it('writes Secret content without it appearing anywhere else', async () => {
      const path = `${scratch}/secret.conf`;
      await admin.put({
        path,
        content: new Secret('password=hunter2\n'),
        mode: '0600',
        owner: 'root',
        group: 'root',
      });
      expect((await admin.get(path)).toString()).toBe('password=hunter2\n');
    });

    it('replaces the destination atomically: readers see the old or the new file, never a part', async () => {
      const dir = `${scratch}/atomic`;
      const path = `${dir}/big.dat`;
      const started = `${scratch}/atomic-watching`;
      const done = `${scratch}/atomic-done`;
      await admin.exec(sh`mkdir -p ${dir} && printf old >${path}`);
      // A second connection lists the directory and the destination's size, over and over, during the upload.
      const watcher = await login(sshd.spec({ user: SUDO_USER, become: true }));
      const watching = watcher.exec(
        sh`touch ${started}; i=0; while [ ! -e ${done} ] && [ $i -lt 100000 ]; do ls -A ${dir}; stat -c 'size %s' ${path}; i=$((i+1)); done | sort -u`,
      );
      while ((await admin.exec(sh`test -e ${started}`)).code !== 0);
      const content = randomBytes(8_000_000);
      await admin.put({ path, content, mode: '0644', owner: 'root', group: 'root' });
      await admin.exec(sh`touch ${done}`);
      const seen = (await watching).stdout.split('\n').filter(Boolean);
      expect(seen.filter((l) => l.startsWith('size ')).sort()).toEqual(['size 3', `size ${content.length}`]);
      expect(seen.some((l) => /^\.big\.dat\.pgprov-[A-Za-z0-9]{6}$/.test(l))).toBe(true); // the temp file, beside it
      expect((await admin.exec(sh`ls -A ${dir}`)).stdout).toBe('big.dat\n');
    });

    it('fails without touching the destination or leaving a temp file', async () => {
      const dir = `${scratch}/failing`;
      await admin.exec(sh`mkdir -p ${dir} && printf old >${dir}/file`);
      const file = {
        path: `${dir}/file`,
        content: 'new',
        mode: '0644',
        owner: 'no-such-user',
        group: 'root',
      };
      const error = await admin.put(file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteCommandError);
      expect((error as Error).message).toMatch(
        /^sshd-fixture: command exited with 1: put .*\/file\nchown: invalid user/,
      );
      expect((await admin.exec(sh`ls -A ${dir}; cat ${dir}/file`)).stdout).toBe('file\nold');
    });

    it('validates the new file before it replaces the old one (haproxy -c style)', async () => {
      const dir = `${scratch}/validated`;
      await admin.exec(sh`mkdir -p ${dir} && printf 'good 1' >${dir}/cfg`);
      const file = {
        path: `${dir}/cfg`,
        mode: '0644',
        owner: 'root',
        group: 'root',
        validate: "grep -q '^good' %s",
      };
      await admin.put({ ...file, content: 'good 2' });
      expect((await admin.exec(sh`cat ${dir}/cfg`)).stdout).toBe('good 2');
      const error = await admin.put({ ...file, content: 'broken 3' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteCommandError);
      expect((error as Error).message).toContain("validation failed: grep -q '^good' %s");
      expect((await admin.exec(sh`ls -A ${dir}; cat ${dir}/cfg`)).stdout).toBe('cfg\ngood 2');
    });

    it('reports a missing file on get', async () => {
      const error = await admin.get(`${scratch}/absent`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteCommandError);
      expect((error as Error).message).toContain(`get ${scratch}/absent`);
      expect((error as Error).message).toMatch(/No such file/);
    });
  });

  describe('become', () => {
    it('logs in as root directly, without sudo', async () => {
      const root = await login(sshd.spec({ user: 'root', become: true }));
      expect((await root.exec(sh`id -un`)).stdout).toBe('root\n');
    });

    it('runs as root through sudo for a non-root user, and as that user without become', async () => {
      const deploy = admin;
      expect((await deploy.exec(sh`id -un; echo $HOME`)).stdout).toBe('root\n/root\n');
      expect((await deploy.exec(sh`id -un`, { become: false })).stdout).toBe(`${SUDO_USER}\n`);
      const path = `${scratch}/by-sudo`;
      await deploy.put({ path, content: 'x', mode: '0600', owner: 'root', group: 'root' });
      expect((await admin.exec(sh`stat -c '%a %U' ${path}`)).stdout).toBe('600 root\n');
    });

    it('explains a sudo that wants a password', async () => {
      const plain = await login(sshd.spec({ user: PLAIN_USER, become: true }));
      expect((await plain.exec(sh`id -un`, { become: false })).stdout).toBe(`${PLAIN_USER}\n`);
      const error = await plain.exec(sh`id -un`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as Error).message).toBe(
        `sshd-fixture: user ${PLAIN_USER} cannot run sudo without a password on host sshd-fixture (127.0.0.1); ` +
          'configure NOPASSWD or use root',
      );
    });
  });

  describe('connection', () => {
    it('throws ConnectionError when the connection is lost, for this and later commands', async () => {
      const doomed = await login(sshd.spec({ user: SUDO_USER, become: false }));
      // Kill this connection's sshd session process on the host.
      const error = await doomed.exec(sh`kill -9 $PPID; sleep 10`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as Error).message).toMatch(
        /^sshd-fixture: lost the connection to 127\.0\.0\.1:\d+ while running/,
      );
      await expect(doomed.exec(sh`true`)).rejects.toBeInstanceOf(ConnectionError);
    });

    it('rejects a command still running when the transport is closed', async () => {
      const closing = await login(sshd.spec({ user: SUDO_USER, become: false }));
      const running = closing.exec(sh`sleep 10`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await closing.close();
      const error = await running.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as Error).message).toMatch(/while running: sleep 10: pgprov closed the connection$/);
    });

    it('measures exec latency with and without TCP_NODELAY', async () => {
      const mean = async (transport: SshTransport) => {
        await transport.exec(sh`true`); // warm up
        const started = performance.now();
        for (let i = 0; i < 50; i++) await transport.exec(sh`true`);
        return (performance.now() - started) / 50;
      };
      // As a user whose login shell is /bin/sh: no rc files, so this measures the transport, not the host.
      const spec = sshd.spec({ user: SUDO_USER, become: false });
      const withNoDelay = await mean(await login(spec));
      const withNagle = await mean(await login(spec, { noDelay: false }));
      console.log(
        `exec latency over 50 commands: ${withNoDelay.toFixed(2)} ms mean with setNoDelay(true), ` +
          `${withNagle.toFixed(2)} ms mean without`,
      );
      expect(withNoDelay).toBeGreaterThan(0);
    });
  });
});
