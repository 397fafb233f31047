/**
 * What a connection needs before SSH starts: the credentials to offer, and a connected TCP socket with our own
 * connect timeout, Nagle's algorithm off, and a failure named in words.
 */
import { readFile } from 'node:fs/promises';
import { connect as tcpConnect, type Socket } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConnectionError } from '../core/errors.js';
import { socketFailure, type Endpoint } from './connect-errors.js';
import type { ConnectionSpec } from './transport.js';

/** The credentials handed to ssh2: the host's key file, else ssh-agent, else the usual ~/.ssh keys. */
export async function credentials(spec: ConnectionSpec): Promise<{ config: object; keySource: string }> {
  const read = async (file: string) => ({
    config: { privateKey: await readFile(file, 'utf8') },
    keySource: file,
  });
  if (spec.privateKeyFile) {
    try {
      return await read(spec.privateKeyFile);
    } catch (error) {
      throw new ConnectionError(spec.name, `cannot read the private key ${spec.privateKeyFile}`, {
        hint: 'check the private key file set for this host in the inventory',
        cause: error,
      });
    }
  }
  const agent = process.env.SSH_AUTH_SOCK;
  if (agent) return { config: { agent }, keySource: `ssh-agent at ${agent}` };
  const candidates = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((key) => join(homedir(), '.ssh', key));
  for (const file of candidates) {
    try {
      return await read(file);
    } catch {
      // try the next one
    }
  }
  throw new ConnectionError(spec.name, 'no SSH private key to log in with', {
    hint: `set a private key file for this host in the inventory, start ssh-agent, or create ${candidates[0]}`,
  });
}

/** A connected socket, or a ConnectionError that says refused, timed out, no route or does not resolve. */
export function openSocket(endpoint: Endpoint, timeoutMs: number, noDelay: boolean): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = tcpConnect({ host: endpoint.address, port: endpoint.port });
    const fail = (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      sock.destroy();
      // With several addresses tried (happy eyeballs) the cause is in the first inner error.
      const inner = (error as Partial<AggregateError>).errors?.[0] as NodeJS.ErrnoException | undefined;
      reject(socketFailure(endpoint, error.code === undefined && inner ? inner : error, timeoutMs));
    };
    const timer = setTimeout(
      () => fail(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })),
      timeoutMs,
    );
    sock.once('error', fail);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeListener('error', fail);
      sock.setNoDelay(noDelay);
      resolve(sock);
    });
  });
}
