/**
 * Turns socket and SSH failures into errors a person can act on: which host, which address and port, what
 * happened in words (refused, timed out, no route, authentication failed) and what to check. Pure.
 */
import { ConnectionError, RemoteCommandError } from '../core/errors.js';

export interface Endpoint {
  /** Inventory name. */
  host: string;
  address: string;
  port: number;
  user: string;
  /** The private key offered, or how keys were looked for. */
  keySource: string;
}

const at = (e: Endpoint): string => `${e.address}:${e.port}`;
const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

/** A failure to open the TCP connection. */
export function socketFailure(e: Endpoint, error: NodeJS.ErrnoException, timeoutMs: number): ConnectionError {
  const cannot = `cannot connect to ${at(e)}`;
  const options = (hint: string) => ({ hint, cause: error });
  switch (error.code) {
    case 'ECONNREFUSED':
      return new ConnectionError(
        e.host,
        `${cannot}: connection refused`,
        options(
          `check that sshd is running on ${e.address} and listens on port ${e.port}, and that the port is right`,
        ),
      );
    case 'ETIMEDOUT':
      return new ConnectionError(
        e.host,
        `${cannot}: timed out after ${seconds(timeoutMs)}`,
        options(`check that ${e.address} is up and that no firewall drops port ${e.port}`),
      );
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return new ConnectionError(
        e.host,
        `${cannot}: no route to host`,
        options(`check the address ${e.address} and the network between this machine and the host`),
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new ConnectionError(
        e.host,
        `${cannot}: the name ${e.address} does not resolve`,
        options('check the address in the inventory and DNS (or /etc/hosts) on this machine'),
      );
    default:
      return new ConnectionError(
        e.host,
        `${cannot}: ${error.message}`,
        options(`check that ${e.address} is up and reachable on port ${e.port}`),
      );
  }
}

/** A failure after TCP connected: SSH handshake, authentication, or the private key itself. */
export function sshFailure(
  e: Endpoint,
  error: Error & { level?: string },
  timeoutMs: number,
): ConnectionError {
  if (error.level === 'client-authentication' || /authentication methods failed/i.test(error.message)) {
    return new ConnectionError(
      e.host,
      `authentication failed for user ${e.user} at ${at(e)} (${e.keySource})`,
      {
        hint:
          `check that the user is right and that the public key is in ~${e.user}/.ssh/authorized_keys on ` +
          `${e.address} (and that sshd permits this user to log in)`,
        cause: error,
      },
    );
  }
  if (error.level === 'client-timeout' || /timed out/i.test(error.message)) {
    return new ConnectionError(e.host, `SSH handshake with ${at(e)} timed out after ${seconds(timeoutMs)}`, {
      hint: `check that port ${e.port} on ${e.address} is an SSH server and that the host is not overloaded`,
      cause: error,
    });
  }
  if (/private key|passphrase|unsupported key/i.test(error.message)) {
    return new ConnectionError(e.host, `cannot use the private key (${e.keySource}): ${error.message}`, {
      hint: 'use an unencrypted deploy key, or load the key into ssh-agent and leave the key file unset',
      cause: error,
    });
  }
  return new ConnectionError(e.host, `SSH connection to ${at(e)} failed: ${error.message}`, {
    hint: `check that port ${e.port} on ${e.address} is an SSH server and that sshd logs no error`,
    cause: error,
  });
}

/** The connection dropped while a command ran, or before it could start. */
export function connectionLost(e: Endpoint, command: string, cause: Error | undefined): ConnectionError {
  const why = cause ? `: ${cause.message}` : '';
  return new ConnectionError(e.host, `lost the connection to ${at(e)} while running: ${command}${why}`, {
    hint: `the command may or may not have completed; check that ${e.address} is up, then run again`,
    cause,
  });
}

/** A command that ran longer than its timeout; it was sent SIGTERM and its channel closed. */
export class ExecTimeoutError extends RemoteCommandError {
  constructor(
    host: string,
    command: string,
    readonly timeoutMs: number,
    stderrTail: string,
  ) {
    super(host, command, null, stderrTail, {
      hint: 'find out why the command hangs on the host, or give this step a longer timeout',
    });
    this.message =
      `${host}: command timed out after ${seconds(timeoutMs)} and was stopped: ${command}` +
      (stderrTail ? `\n${stderrTail}` : '');
  }
}
