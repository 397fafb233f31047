import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkLeaf,
  expiryProblem,
  isSignedBy,
  parseCertificate,
  parseSubjectAltName,
} from '../../src/pki/inspect.js';
import { issueCa, issueLeaf } from '../../src/pki/issue.js';
import { generateKeyPair, type KeyPair } from '../../src/pki/keys.js';
import { hostSans } from '../../src/pki/sans.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const DAY = 86_400_000;
const pg1 = { name: 'pg1', address: '10.0.0.1' };

let caPem: string;
let otherCaPem: string;
let leafPem: string;

beforeAll(async () => {
  const [caKeys, otherKeys, leafKeys] = await Promise.all([
    generateKeyPair(),
    generateKeyPair(),
    generateKeyPair(),
  ]);
  const ca = (keys: KeyPair): string =>
    issueCa({ commonName: 'pgprov lab CA', keys, notBefore: NOW, validityDays: 3650, serial: '01' });
  caPem = ca(caKeys);
  otherCaPem = ca(otherKeys); // same name, different key: only the signature tells them apart
  const sans = hostSans(pg1);
  leafPem = issueLeaf({
    ca: { certPem: caPem, keyPem: caKeys.privateKeyPem },
    commonName: 'pg1',
    ...sans,
    usages: ['serverAuth', 'clientAuth'],
    keys: leafKeys,
    notBefore: NOW,
    validityDays: 365,
    serial: '0badc0de',
  });
});

describe('parseCertificate', () => {
  it('summarizes a host certificate', () => {
    expect(parseCertificate(leafPem)).toEqual({
      subjectCommonName: 'pg1',
      issuerCommonName: 'pgprov lab CA',
      sans: { dnsNames: ['localhost', 'pg1'], ipAddresses: ['10.0.0.1', '127.0.0.1'] },
      notBefore: NOW,
      notAfter: new Date(NOW.getTime() + 365 * DAY),
      serial: '0badc0de',
      fingerprintSha256: new X509Certificate(leafPem).fingerprint256,
      isCa: false,
    });
    expect(parseCertificate(caPem)).toMatchObject({ isCa: true, sans: { dnsNames: [], ipAddresses: [] } });
  });

  it('says what is wrong with text that is not a certificate', () => {
    expect(() => parseCertificate('hello')).toThrow(/no PEM certificate/);
    const damaged = leafPem.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA');
    expect(() => parseCertificate(damaged)).toThrow(/not a valid certificate/);
  });
});

describe('parseSubjectAltName', () => {
  it('reads DNS names and IP addresses, quoted or not, and skips other kinds', () => {
    const text = 'DNS:pg1, IP Address:10.0.0.1, email:a@b, DNS:"a, b", IP Address:FE80:0:0:0:0:0:1:2, URI:x';
    expect(parseSubjectAltName(text)).toEqual(['pg1', '10.0.0.1', 'a, b', 'FE80:0:0:0:0:0:1:2']);
    expect(parseSubjectAltName('')).toEqual([]);
  });
});

describe('isSignedBy', () => {
  it('tells the signing CA from another CA with the same name', () => {
    expect(isSignedBy(leafPem, caPem)).toBe(true);
    expect(isSignedBy(leafPem, otherCaPem)).toBe(false);
    expect(isSignedBy(caPem, caPem)).toBe(true);
  });
});

describe('expiryProblem', () => {
  const summary = (): ReturnType<typeof parseCertificate> => parseCertificate(leafPem);
  const end = NOW.getTime() + 365 * DAY;

  it('with the default window of 0 days, renews only what has expired', () => {
    expect(expiryProblem(summary(), { now: new Date(end - 1000), renewWithinDays: 0 })).toBeUndefined();
    expect(expiryProblem(summary(), { now: new Date(end), renewWithinDays: 0 })).toBe(
      'expired on 2027-03-01',
    );
  });

  it('renews inside the window and not before it', () => {
    const policy = { renewWithinDays: 30 };
    expect(expiryProblem(summary(), { ...policy, now: new Date(end - 31 * DAY) })).toBeUndefined();
    expect(expiryProblem(summary(), { ...policy, now: new Date(end - 29 * DAY) })).toBe(
      'expires on 2027-03-01, within the 30-day renewal window',
    );
  });
});

describe('checkLeaf', () => {
  const check = { now: NOW, renewWithinDays: 0 };

  it('keeps a certificate that fits', () => {
    expect(checkLeaf({ ...check, certPem: leafPem, caPem, wanted: hostSans(pg1) })).toEqual([]);
  });

  it('says what no longer fits', () => {
    const wanted = hostSans({ ...pg1, address: '10.0.0.5', extraNames: ['db1.example.com'] });
    const problems = checkLeaf({
      ...check,
      now: new Date(NOW.getTime() + 400 * DAY),
      certPem: leafPem,
      caPem: otherCaPem,
      wanted,
    });
    expect(problems).toEqual([
      { kind: 'issuer', reason: 'not signed by the current CA' },
      { kind: 'sans', reason: 'address changed 10.0.0.1 -> 10.0.0.5; name db1.example.com added' },
      { kind: 'expiry', reason: 'expired on 2027-03-01' },
    ]);
  });
});
