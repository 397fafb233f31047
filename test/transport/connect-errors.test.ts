import { describe, expect, it } from 'vitest';
import { ConnectionError, RemoteCommandError } from '../../src/core/errors.js';
import {
  connectionLost,
  ExecTimeoutError,
  socketFailure,
  sshFailure,
  type Endpoint,
} from '../../src/transport/connect-errors.js';

const endpoint: Endpoint = {
  host: 'pg1',
  address: '10.0.0.5',
  port: 2222,
  user: 'deploy',
  keySource: '/k/id',
};
const errno = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('socketFailure', () => {
  it.each([
    ['ECONNREFUSED', 'connection refused', 'sshd is running on 10.0.0.5 and listens on port 2222'],
    ['ETIMEDOUT', 'timed out after 1.5 s', 'no firewall drops port 2222'],
    ['EHOSTUNREACH', 'no route to host', 'check the address 10.0.0.5'],
    ['ENETUNREACH', 'no route to host', 'check the address 10.0.0.5'],
    ['ENOTFOUND', 'the name 10.0.0.5 does not resolve', 'DNS'],
  ])('names %s in words, with host, address:port and a hint', (code, words, hint) => {
    const error = socketFailure(endpoint, errno(code), 1_500);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toBe(`pg1: cannot connect to 10.0.0.5:2222: ${words}`);
    expect(error.hint).toContain(hint);
  });
});

describe('sshFailure', () => {
  it('names failed authentication with the user and key', () => {
    const cause = Object.assign(new Error('All configured authentication methods failed'), {
      level: 'client-authentication',
    });
    const error = sshFailure(endpoint, cause, 1_000);
    expect(error.message).toBe('pg1: authentication failed for user deploy at 10.0.0.5:2222 (/k/id)');
    expect(error.hint).toContain('~deploy/.ssh/authorized_keys');
  });

  it('names a handshake timeout', () => {
    const cause = Object.assign(new Error('Timed out while waiting for handshake'), {
      level: 'client-timeout',
    });
    expect(sshFailure(endpoint, cause, 10_000).message).toBe(
      'pg1: SSH handshake with 10.0.0.5:2222 timed out after 10 s',
    );
  });

  it('names an unusable private key', () => {
    const cause = new Error('Encrypted private OpenSSH key detected, but no passphrase given');
    expect(sshFailure(endpoint, cause, 1_000).message).toMatch(
      /^pg1: cannot use the private key \(\/k\/id\)/,
    );
  });
});

describe('errors while running', () => {
  it('says the connection was lost, during which command, and that it may have run', () => {
    const error = connectionLost(endpoint, 'systemctl restart patroni', new Error('read ECONNRESET'));
    expect(error.message).toBe(
      'pg1: lost the connection to 10.0.0.5:2222 while running: systemctl restart patroni: read ECONNRESET',
    );
    expect(error.hint).toContain('may or may not have completed');
  });

  it('reports a timeout as a failed remote command', () => {
    const error = new ExecTimeoutError('pg1', 'pg_basebackup ...', 30_000, 'waiting for checkpoint');
    expect(error).toBeInstanceOf(RemoteCommandError);
    expect(error.code).toBe('E_REMOTE');
    expect(error.message).toBe(
      'pg1: command timed out after 30 s and was stopped: pg_basebackup ...\nwaiting for checkpoint',
    );
  });
});
