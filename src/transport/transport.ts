import type { Command } from '../core/command.js';
import type { Secret } from '../core/secret.js';

/** How to run one command. Execution options stay apart from what the command does. */
export interface ExecOptions {
  /** Run with privilege escalation (sudo) when the login user is not root. Default: the host's `become`. */
  become?: boolean;
  /** Data for the command's standard input. */
  stdin?: string | Buffer | Secret;
  /** Give up after this many milliseconds (the host is then treated as failed for this step). */
  timeoutMs?: number;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A file to place on a host atomically: written beside the destination, then renamed over it. */
export interface FileUpload {
  path: string;
  content: string | Buffer | Secret;
  mode: string;
  owner: string;
  group: string;
  /** A check run on the new file before it replaces the old one; `%s` is its path (`haproxy -c -f %s`). */
  validate?: string;
}

/** The one narrow interface between the engine and a host. */
export interface Transport {
  readonly host: string;
  /** Runs a command; never throws for a non-zero exit (the caller decides), only for a lost connection. */
  exec(command: Command, options?: ExecOptions): Promise<ExecResult>;
  /** Places a file atomically with its owner and mode, in one round trip. */
  put(file: FileUpload, options?: ExecOptions): Promise<void>;
  /** Reads a file's bytes. */
  get(path: string, options?: ExecOptions): Promise<Buffer>;
  close(): Promise<void>;
  /** Commands sent so far (each exec, put or get is one round trip). */
  readonly roundTrips: number;
}

/** Connection settings for one host, resolved from the inventory. */
export interface ConnectionSpec {
  /** Inventory name of the host. */
  name: string;
  address: string;
  port: number;
  user: string;
  privateKeyFile?: string;
  /** Use sudo for commands when the user is not root. */
  become: boolean;
  /** known_hosts file used to verify (and, on first contact, record) host keys. */
  knownHostsFile: string;
  connectTimeoutMs?: number;
}
