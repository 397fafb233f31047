import { describe, expect, it } from 'vitest';
import { HostKeyError } from '../../src/core/errors.js';
import {
  checkHostKey,
  fingerprint,
  hostKeyAlgorithms,
  hostKeyError,
  hostKeyFromBlob,
  hostMatches,
  knownHostsLine,
  knownHostsName,
  parseKnownHosts,
} from '../../src/transport/known-hosts.js';

// Two ed25519 keys made with ssh-keygen; the fingerprints are what `ssh-keygen -lf` printed for them.
const KEY1 = 'AAAAC3NzaC1lZDI1NTE5AAAAIAhGwuaQ4pWSBYsYCEk32XUN9DXPS6FtzjGp4nB8Y2KT';
const FP1 = 'SHA256:YPgDVldhXyjNWVCJbfcWW87mly96YcyRbALRwEjgZvc';
const KEY2 = 'AAAAC3NzaC1lZDI1NTE5AAAAIH3orZ8+cF7fe/uSkdbJMJJbYBz8iuATuyKYlPaBl6xK';
const FP2 = 'SHA256:ZVvRskPTIJWXuwKC2V50n91XI2bBm/CTsz8eXFJ+wB0';
// `ssh-keygen -H` of "[10.0.0.5]:2222 ssh-ed25519 KEY1" and "pg1.example.com ssh-ed25519 KEY1".
const HASHED_10_0_0_5_2222 = '|1|WgDwULxBvTzj6CQ5mPwW0VbTY3c=|FhOugV/MlpZpAcvkg1qbDjGURC8=';
const HASHED_PG1 = '|1|/j4/KPEVRrod9F3pzyr1HZpTbRs=|VfV4T0LvjzCtexifO4xVLGt1Shs=';

const ed = (key: string) => ({ type: 'ssh-ed25519', key });

describe('parseKnownHosts', () => {
  it('reads entries with their line numbers and skips comments, blanks and junk', () => {
    const text = [
      '# a comment',
      '',
      `10.0.0.1 ssh-ed25519 ${KEY1}`,
      `[10.0.0.2]:2222,pg2 ssh-ed25519 ${KEY2} a comment`,
      'garbage',
      `@revoked * ssh-ed25519 ${KEY2}`,
      `@cert-authority *.example ssh-ed25519 ${KEY1}`,
      `@unknown-marker 10.0.0.9 ssh-ed25519 ${KEY1}`,
      `   ${HASHED_PG1} ssh-ed25519 ${KEY1}`,
    ].join('\n');
    expect(parseKnownHosts(text)).toEqual([
      { line: 3, hosts: '10.0.0.1', keyType: 'ssh-ed25519', key: KEY1 },
      { line: 4, hosts: '[10.0.0.2]:2222,pg2', keyType: 'ssh-ed25519', key: KEY2 },
      { line: 6, marker: 'revoked', hosts: '*', keyType: 'ssh-ed25519', key: KEY2 },
      { line: 7, marker: 'cert-authority', hosts: '*.example', keyType: 'ssh-ed25519', key: KEY1 },
      { line: 9, hosts: HASHED_PG1, keyType: 'ssh-ed25519', key: KEY1 },
    ]);
  });
});

describe('host names and matching', () => {
  it('names a host as OpenSSH does: bare on port 22, [address]:port otherwise', () => {
    expect(knownHostsName('10.0.0.5', 22)).toBe('10.0.0.5');
    expect(knownHostsName('PG1.Example.com', 2222)).toBe('[pg1.example.com]:2222');
  });

  it('matches lists, wildcards and negations', () => {
    expect(hostMatches('pg1,10.0.0.1', '10.0.0.1')).toBe(true);
    expect(hostMatches('pg1,10.0.0.1', '10.0.0.11')).toBe(false);
    expect(hostMatches('10.0.0.*', '10.0.0.42')).toBe(true);
    expect(hostMatches('10.0.0.?', '10.0.0.42')).toBe(false);
    expect(hostMatches('10.0.0.*,!10.0.0.42', '10.0.0.42')).toBe(false);
    expect(hostMatches('[10.0.0.1]:2222', '[10.0.0.1]:2222')).toBe(true);
    expect(hostMatches('[10.0.0.1]:2222', '10.0.0.1')).toBe(false);
  });

  it('matches hashed names written by ssh-keygen -H, and ignores ones it cannot match', () => {
    expect(hostMatches(HASHED_10_0_0_5_2222, '[10.0.0.5]:2222')).toBe(true);
    expect(hostMatches(HASHED_10_0_0_5_2222, '10.0.0.5')).toBe(false);
    expect(hostMatches(HASHED_PG1, 'pg1.example.com')).toBe(true);
    expect(hostMatches('|1|broken', 'pg1.example.com')).toBe(false);
  });
});

describe('fingerprints and key blobs', () => {
  it('prints SHA256 fingerprints as ssh-keygen does', () => {
    expect(fingerprint(KEY1)).toBe(FP1);
    expect(fingerprint(Buffer.from(KEY2, 'base64'))).toBe(FP2);
  });

  it('reads the key type from the blob', () => {
    expect(hostKeyFromBlob(Buffer.from(KEY1, 'base64'))).toEqual(ed(KEY1));
    expect(() => hostKeyFromBlob(Buffer.from([0, 0, 0, 99, 1]))).toThrow(/bad type length/);
  });

  it('writes the first-contact line', () => {
    expect(knownHostsLine('[127.0.0.1]:2222', ed(KEY1))).toBe(`[127.0.0.1]:2222 ssh-ed25519 ${KEY1}\n`);
  });
});

describe('checkHostKey', () => {
  const entries = parseKnownHosts(
    [
      `10.0.0.1 ssh-ed25519 ${KEY1}`,
      `${HASHED_10_0_0_5_2222} ssh-ed25519 ${KEY1}`,
      `10.0.0.3 ecdsa-sha2-nistp256 AAAAE2VjZHNh`,
      `@revoked 10.0.0.4 ssh-ed25519 ${KEY2}`,
    ].join('\n'),
  );

  it('accepts the recorded key, plain or hashed', () => {
    expect(checkHostKey(entries, '10.0.0.1', ed(KEY1))).toMatchObject({
      status: 'known',
      entry: { line: 1 },
    });
    expect(checkHostKey(entries, '[10.0.0.5]:2222', ed(KEY1))).toMatchObject({ status: 'known' });
  });

  it('reports a host it has never seen as unknown', () => {
    expect(checkHostKey(entries, '10.0.0.9', ed(KEY1))).toEqual({ status: 'unknown' });
    // Same address, other port: another host as far as known_hosts goes.
    expect(checkHostKey(entries, '[10.0.0.1]:2222', ed(KEY1))).toEqual({ status: 'unknown' });
  });

  it('reports a different key of the same type as changed, with the expected entry', () => {
    expect(checkHostKey(entries, '10.0.0.1', ed(KEY2))).toMatchObject({
      status: 'changed',
      expected: [{ line: 1, key: KEY1 }],
    });
  });

  it('reports a key of a type not recorded for a known host as changed', () => {
    expect(checkHostKey(entries, '10.0.0.3', ed(KEY1))).toMatchObject({
      status: 'changed',
      expected: [{ line: 3, keyType: 'ecdsa-sha2-nistp256' }],
    });
  });

  it('refuses a revoked key', () => {
    expect(checkHostKey(entries, '10.0.0.4', ed(KEY2))).toMatchObject({
      status: 'revoked',
      entry: { line: 4 },
    });
  });

  it('offers the known key types first', () => {
    expect(hostKeyAlgorithms(entries, '10.0.0.3')[0]).toBe('ecdsa-sha2-nistp256');
    expect(hostKeyAlgorithms(entries, '10.0.0.9')[0]).toBe('ssh-ed25519');
  });
});

describe('hostKeyError', () => {
  it('names host, address, both fingerprints, the file and line, and how to remove the entry', () => {
    const entries = parseKnownHosts(`# mine\n[10.0.0.5]:2222 ssh-ed25519 ${KEY1}\n`);
    const check = checkHostKey(entries, '[10.0.0.5]:2222', ed(KEY2));
    const context = { host: 'pg1', address: '10.0.0.5', port: 2222, file: '/home/me/.pgprov/known_hosts' };
    const error = hostKeyError(check, ed(KEY2), context);
    expect(error).toBeInstanceOf(HostKeyError);
    expect(error.code).toBe('E_HOST_KEY');
    expect(error.message).toContain('pg1: ');
    expect(error.message).toContain('10.0.0.5:2222');
    expect(error.message).toContain(`expected ssh-ed25519 ${FP1} (/home/me/.pgprov/known_hosts:2)`);
    expect(error.message).toContain(`presented ssh-ed25519 ${FP2}`);
    expect(error.hint).toContain(`ssh-keygen -R '[10.0.0.5]:2222' -f '/home/me/.pgprov/known_hosts'`);
  });
});
