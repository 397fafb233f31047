import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueCa, issueLeaf, type CertifiedKey, type IssueLeafInput } from '../../src/pki/issue.js';
import { generateKeyPair, type KeyPair } from '../../src/pki/keys.js';
import { hasOpenssl, opensslVerify } from './fixtures.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const DAY = 86_400_000;

let caKeys: KeyPair;
let leafKeys: KeyPair;
let ca: CertifiedKey;

beforeAll(async () => {
  [caKeys, leafKeys] = await Promise.all([generateKeyPair(), generateKeyPair()]);
  const certPem = issueCa({
    commonName: 'pgprov lab CA',
    keys: caKeys,
    notBefore: NOW,
    validityDays: 3650,
    serial: '01a2',
  });
  ca = { certPem, keyPem: caKeys.privateKeyPem };
});

function leaf(overrides: Partial<IssueLeafInput> = {}): string {
  return issueLeaf({
    ca,
    commonName: 'pg1',
    dnsNames: ['localhost', 'pg1'],
    ipAddresses: ['10.0.0.1', '127.0.0.1'],
    usages: ['serverAuth', 'clientAuth'],
    keys: leafKeys,
    notBefore: NOW,
    validityDays: 365,
    serial: '7f01',
    ...overrides,
  });
}

describe('issueCa', () => {
  it('makes a self-signed CA with critical basicConstraints and keyCertSign + cRLSign', () => {
    const cert = new X509Certificate(ca.certPem);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('CN=pgprov lab CA');
    expect(cert.issuer).toBe('CN=pgprov lab CA');
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(new Date(cert.validFrom)).toEqual(NOW);
    expect(new Date(cert.validTo)).toEqual(new Date(NOW.getTime() + 3650 * DAY));
    expect(cert.serialNumber.toLowerCase()).toBe('01a2');

    const parsed = forge.pki.certificateFromPem(ca.certPem);
    expect(parsed.getExtension('basicConstraints')).toMatchObject({ cA: true, critical: true });
    expect(parsed.getExtension('keyUsage')).toMatchObject({
      keyCertSign: true,
      cRLSign: true,
      digitalSignature: false,
      critical: true,
    });
    expect(parsed.getExtension('subjectKeyIdentifier')).toBeTruthy();
    expect(parsed.siginfo.algorithmOid).toBe(forge.pki.oids['sha256WithRSAEncryption']);
  });

  it('writes PEM with Unix line endings', () => {
    expect(ca.certPem).toMatch(/^-----BEGIN CERTIFICATE-----\n[^\r]+-----END CERTIFICATE-----\n$/);
  });

  it('is a pure function of its input', () => {
    const again = issueCa({
      commonName: 'pgprov lab CA',
      keys: caKeys,
      notBefore: NOW,
      validityDays: 3650,
      serial: '01a2',
    });
    expect(again).toBe(ca.certPem);
  });

  it('refuses serials that are not positive DER integers', () => {
    const input = { commonName: 'x', keys: caKeys, notBefore: NOW, validityDays: 1 };
    for (const serial of ['', '80', '00', '0001', 'abc', 'zz', '01'.repeat(21)]) {
      expect(() => issueCa({ ...input, serial })).toThrow(/serial/);
    }
  });
});

describe('issueLeaf', () => {
  it('is signed by the CA, for its names and addresses, for servers and clients', () => {
    const cert = new X509Certificate(leaf());
    const caCert = new X509Certificate(ca.certPem);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.subject).toBe('CN=pg1');
    expect(cert.issuer).toBe('CN=pgprov lab CA');
    expect(cert.subjectAltName).toBe('DNS:localhost, DNS:pg1, IP Address:10.0.0.1, IP Address:127.0.0.1');
    expect(cert.checkHost('pg1')).toBe('pg1');
    expect(cert.checkIP('10.0.0.1')).toBe('10.0.0.1');
    expect(cert.checkIP('10.0.0.2')).toBeUndefined();
    expect(cert.keyUsage.sort()).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']); // serverAuth, clientAuth
    expect(new Date(cert.validTo)).toEqual(new Date(NOW.getTime() + 365 * DAY));

    const parsed = forge.pki.certificateFromPem(leaf());
    expect(parsed.getExtension('keyUsage')).toMatchObject({
      digitalSignature: true,
      keyEncipherment: true,
      keyCertSign: false,
      critical: true,
    });
    const caSki = forge.pki.certificateFromPem(ca.certPem).generateSubjectKeyIdentifier().getBytes();
    const aki = parsed.getExtension('authorityKeyIdentifier') as { value: string } | undefined;
    expect(aki?.value).toContain(caSki); // the issuer's key identifier, so chain building finds the CA
    expect(forge.pki.certificateFromPem(ca.certPem).verify(parsed)).toBe(true);
  });

  it('carries IPv6 addresses', () => {
    const cert = new X509Certificate(leaf({ ipAddresses: ['fd00::0:5'] }));
    expect(cert.checkIP('fd00::5')).toBe('fd00::5');
  });

  it('never outlives its CA', () => {
    const late = new Date(NOW.getTime() + 3600 * DAY);
    const cert = new X509Certificate(leaf({ notBefore: late, validityDays: 365 }));
    expect(new Date(cert.validTo)).toEqual(new Date(NOW.getTime() + 3650 * DAY));
  });

  it('refuses input that cannot make a useful certificate', () => {
    expect(() => leaf({ dnsNames: [], ipAddresses: [] })).toThrow(/SAN/);
    expect(() => leaf({ usages: [] })).toThrow(/usage/);
    expect(() => leaf({ ipAddresses: ['pg1'] })).toThrow(/not an IP address/);
    expect(() => leaf({ validityDays: 0 })).toThrow(/validity/);
  });

  it.skipIf(!hasOpenssl)('passes openssl verify for both purposes', () => {
    expect(opensslVerify(ca.certPem, leaf(), 'sslserver')).toMatch(/: OK/);
    expect(opensslVerify(ca.certPem, leaf(), 'sslclient')).toMatch(/: OK/);
  });
});
