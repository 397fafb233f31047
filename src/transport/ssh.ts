/**
 * The SSH transport: the only module that imports node-ssh. One connection per host for the whole run; every
 * exec, put and get is one command on it, i.e. one round trip.
 *
 * The TCP socket is ours (net.connect): we time the connect out ourselves, name the failure in words, and turn
 * Nagle's algorithm off. With Nagle on, each command waits ~40 ms for a delayed ACK, because ssh2 writes the
 * channel request and the end of stdin as separate small packets.
 */
import { Readable } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import type { Command } from '../core/command.js';
import { ConnectionError, RemoteCommandError, tail } from '../core/errors.js';
import { Masker, Secret } from '../core/secret.js';
import { becomeRefusal, remoteCommandLine } from './become.js';
import { connectionLost, ExecTimeoutError, sshFailure, type Endpoint } from './connect-errors.js';
import { decodeGetOutput, getCommand, putCommand, putInput } from './file-transfer.js';
import { loadKnownHosts, recordHostKey } from './known-hosts-store.js';
import { credentials, openSocket } from './login.js';
import {
  checkHostKey,
  fingerprint,
  hostKeyAlgorithms,
  hostKeyError,
  hostKeyFromBlob,
  knownHostsName,
  type HostKey,
  type HostKeyCheck,
} from './known-hosts.js';
import type { ConnectionSpec, ExecOptions, ExecResult, FileUpload, Transport } from './transport.js';

/** Knobs for measuring, not for inventories. */
export interface ConnectTuning {
  /** Disable Nagle's algorithm on the socket (default true). False exists only to measure its effect. */
  noDelay?: boolean;
}

export interface HostKeyInfo {
  type: string;
  fingerprint: string;
  /** True when this connection was the first contact and the key was recorded in known_hosts. */
  recorded: boolean;
}

export interface SshTransport extends Transport {
  readonly hostKey: HostKeyInfo;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The parts of ssh2's Client and Channel we use (ssh2 ships no types). */
interface Client {
  on(event: 'close', listener: () => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  once(event: 'close', listener: () => void): void;
}
interface Channel {
  signal(name: string): void;
  close(): void;
}

/** Opens the connection, verifying (or on first contact recording) the host key. */
export async function connect(spec: ConnectionSpec, tuning: ConnectTuning = {}): Promise<SshTransport> {
  const timeoutMs = spec.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const name = knownHostsName(spec.address, spec.port);
  const entries = await loadKnownHosts(spec.knownHostsFile);
  const auth = await credentials(spec);
  const endpoint: Endpoint = { ...spec, host: spec.name, keySource: auth.keySource };
  const hostKeyContext = {
    host: spec.name,
    address: spec.address,
    port: spec.port,
    file: spec.knownHostsFile,
  };

  const sock = await openSocket(endpoint, timeoutMs, tuning.noDelay ?? true);
  let presented: HostKey | undefined;
  let check: HostKeyCheck | undefined;
  const ssh = new NodeSSH();
  try {
    await ssh.connect({
      sock,
      username: spec.user,
      ...auth.config,
      readyTimeout: timeoutMs,
      keepaliveInterval: 5_000,
      keepaliveCountMax: 3,
      algorithms: { serverHostKey: hostKeyAlgorithms(entries, name) },
      hostVerifier: (blob: Buffer): boolean => {
        try {
          presented = hostKeyFromBlob(blob);
        } catch {
          return false;
        }
        check = checkHostKey(entries, name, presented);
        return check.status === 'known' || check.status === 'unknown';
      },
    });
  } catch (error) {
    sock.destroy();
    if (presented && check && (check.status === 'changed' || check.status === 'revoked')) {
      throw hostKeyError(check, presented, hostKeyContext);
    }
    throw sshFailure(endpoint, error as Error, timeoutMs);
  }
  if (!presented || !check) throw new Error(`${spec.name}: connected without verifying the host key`);
  let recorded = false;
  if (check.status === 'unknown') {
    // Recorded only now, after the handshake proved the server holds the key's private half.
    const again = await recordHostKey(spec.knownHostsFile, name, presented);
    if (again.status === 'changed' || again.status === 'revoked') {
      ssh.dispose();
      throw hostKeyError(again, presented, hostKeyContext);
    }
    recorded = again.status === 'unknown';
  }
  const hostKey = { type: presented.type, fingerprint: fingerprint(presented.key), recorded };
  return new Session(spec, endpoint, ssh, hostKey);
}

interface Output {
  code: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

class Session implements SshTransport {
  readonly host: string;
  #roundTrips = 0;
  #closed = false;
  /** Why the connection dropped, once it has. */
  #dropped: Error | undefined;
  #lastError: Error | undefined;
  readonly #inflight = new Set<(cause: Error) => void>();
  readonly #client: Client;

  constructor(
    private readonly spec: ConnectionSpec,
    private readonly endpoint: Endpoint,
    private readonly ssh: NodeSSH,
    readonly hostKey: HostKeyInfo,
  ) {
    this.host = spec.name;
    this.#client = ssh.connection as Client;
    // Without an 'error' listener a dropped connection would crash the process.
    this.#client.on('error', (error) => (this.#lastError = error));
    this.#client.on('close', () => {
      this.#dropped = this.#closed
        ? new Error('pgprov closed the connection')
        : (this.#lastError ?? new Error('the server closed the connection'));
      for (const drop of [...this.#inflight]) drop(this.#dropped);
    });
  }

  get roundTrips(): number {
    return this.#roundTrips;
  }

  async exec(command: Command, options: ExecOptions = {}): Promise<ExecResult> {
    return this.#exec(command, options, command.display());
  }

  async put(file: FileUpload, options: ExecOptions = {}): Promise<void> {
    const { content } = file;
    // The only place a Secret file content is revealed: it travels base64-encoded on stdin.
    const bytes = content instanceof Secret ? Buffer.from(content.reveal()) : Buffer.from(content);
    const shown = `put ${file.path}`;
    const result = await this.#exec(
      putCommand(file, bytes.length),
      { ...options, stdin: putInput(bytes) },
      shown,
    );
    if (result.code !== 0) {
      throw new RemoteCommandError(this.host, shown, result.code, tail(result.stderr), {
        hint: result.stderr.includes('validation failed:')
          ? `the new ${file.path} did not pass its check (output above); the old file is still in place`
          : `check that the directory exists and that ${file.owner}:${file.group} exist on the host`,
      });
    }
  }

  async get(path: string, options: ExecOptions = {}): Promise<Buffer> {
    const shown = `get ${path}`;
    const result = await this.#exec(getCommand(path), options, shown);
    if (result.code !== 0) throw new RemoteCommandError(this.host, shown, result.code, tail(result.stderr));
    return decodeGetOutput(result.stdout);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new Promise<void>((resolve) => {
      this.#client.once('close', resolve);
      setTimeout(resolve, 2_000).unref();
    });
    const open = this.#dropped === undefined;
    this.ssh.dispose();
    if (open) await closed;
  }

  async #exec(command: Command, options: ExecOptions, shown: string): Promise<ExecResult> {
    const context = { user: this.spec.user, become: options.become ?? this.spec.become, host: this.host };
    const stdin = options.stdin instanceof Secret ? options.stdin.reveal() : options.stdin;
    const line = remoteCommandLine(command.script(), context);
    const masker = new Masker().collect([command.parts, options.stdin]);
    const output = await this.#run(line, stdin, options.timeoutMs, shown, masker);
    const result = {
      code: output.code,
      stdout: output.stdout.toString('utf8'),
      stderr: output.stderr.toString('utf8'),
    };
    const refusal = becomeRefusal(result, { ...context, host: `${this.host} (${this.spec.address})` });
    if (refusal) throw new ConnectionError(this.host, refusal.message, { hint: refusal.hint });
    return result;
  }

  /** Runs one command line: one channel, one round trip. Rejects only for a lost connection or a timeout. */
  #run(
    line: string,
    stdin: string | Buffer | undefined,
    timeoutMs: number | undefined,
    shown: string,
    masker: Masker,
  ): Promise<Output> {
    if (this.#closed) return Promise.reject(new Error(`${this.host}: the transport was used after close()`));
    if (this.#dropped) return Promise.reject(connectionLost(this.endpoint, shown, this.#dropped));
    this.#roundTrips++;
    return new Promise<Output>((resolve, reject) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let channel: Channel | undefined;
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = (done: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#inflight.delete(onDrop);
        done();
      };
      const onDrop = (cause: Error) => settle(() => reject(connectionLost(this.endpoint, shown, cause)));
      this.#inflight.add(onDrop);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          try {
            channel?.signal('TERM');
            channel?.close();
          } catch {
            // the channel is already gone
          }
          const masked = masker.mask(tail(Buffer.concat(stderr).toString('utf8')));
          settle(() => reject(new ExecTimeoutError(this.host, shown, timeoutMs, masked)));
        }, timeoutMs);
      }
      this.ssh
        .execCommand(line, {
          stdin: typeof stdin === 'string' ? stdin : stdin && Readable.from([stdin]),
          noTrim: true,
          onChannel: (c) => (channel = c as Channel),
          onStdout: (chunk) => stdout.push(chunk),
          onStderr: (chunk) => stderr.push(chunk),
        })
        .then(
          (r) =>
            settle(() =>
              resolve({ code: r.code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) }),
            ),
          (error: Error) =>
            settle(() => reject(connectionLost(this.endpoint, shown, this.#dropped ?? error))),
        );
    });
  }
}
