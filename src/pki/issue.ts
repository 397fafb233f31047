/**
 * Issuing certificates: pure functions of the key material, names, dates and serial number they are given (RSA
 * PKCS#1 v1.5 signatures are deterministic, so the same input gives the same PEM). node-forge builds the
 * certificates and Node's crypto signs them; nothing here touches the disk or draws random numbers.
 */
import { sign } from 'node:crypto';
import forge from 'node-forge';
import type { Secret } from '../core/secret.js';
import type { KeyPair } from './keys.js';
import { normalizeIp } from './sans.js';

const DAY_MS = 86_400_000;

/** A certificate and its private key, both PEM. */
export interface CertifiedKey {
  certPem: string;
  keyPem: Secret;
}

export type ExtendedUsage = 'serverAuth' | 'clientAuth';

export interface IssueCaInput {
  commonName: string;
  keys: KeyPair;
  notBefore: Date;
  validityDays: number;
  /** Positive serial number as hex, an even number of digits, at most 20 octets (see `randomSerial`). */
  serial: string;
}

export interface IssueLeafInput {
  ca: CertifiedKey;
  commonName: string;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  usages: readonly ExtendedUsage[];
  keys: KeyPair;
  notBefore: Date;
  /** Capped so the certificate never outlives its CA. */
  validityDays: number;
  serial: string;
}

/** A self-signed CA certificate: basicConstraints cA (critical), keyUsage keyCertSign and cRLSign (critical). */
export function issueCa(input: IssueCaInput): string {
  const cert = newCertificate(
    input.keys,
    input.serial,
    input.notBefore,
    addDays(input.notBefore, input.validityDays),
  );
  const name = [{ name: 'commonName', value: input.commonName }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  signSha256(cert, input.keys.privateKeyPem);
  return toPem(cert);
}

/** A host certificate signed by `ca`, for the given names and addresses and extended key usages. */
export function issueLeaf(input: IssueLeafInput): string {
  if (input.dnsNames.length + input.ipAddresses.length === 0) {
    throw new Error('a leaf certificate needs a SAN');
  }
  if (input.usages.length === 0) throw new Error('a leaf certificate needs at least one extended key usage');
  const caCert = forge.pki.certificateFromPem(input.ca.certPem);
  const wantedEnd = addDays(input.notBefore, input.validityDays);
  const notAfter = wantedEnd < caCert.validity.notAfter ? wantedEnd : caCert.validity.notAfter;
  const cert = newCertificate(input.keys, input.serial, input.notBefore, notAfter);
  cert.setSubject([{ name: 'commonName', value: input.commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [
    ...input.dnsNames.map((value) => ({ type: 2, value })),
    ...input.ipAddresses.map((ip) => ({ type: 7, ip: checkedIp(ip) })),
  ];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', ...Object.fromEntries(input.usages.map((u) => [u, true])) },
    { name: 'subjectAltName', altNames },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  signSha256(cert, input.ca.keyPem);
  return toPem(cert);
}

function newCertificate(
  keys: KeyPair,
  serial: string,
  notBefore: Date,
  notAfter: Date,
): forge.pki.Certificate {
  if (!/^(?:0[1-9a-f]|[1-7][0-9a-f])(?:[0-9a-f]{2}){0,19}$/i.test(serial)) {
    throw new Error(`serial ${serial} is not a positive hex number of at most 20 octets`);
  }
  if (!(notAfter > notBefore)) throw new Error('a certificate must end after it starts');
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = serial.toLowerCase();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  return cert;
}

/**
 * Signs with sha256WithRSAEncryption. forge's `sign` fills in the algorithm and encodes the to-be-signed part;
 * the signature itself comes from Node's native RSA, because forge's JavaScript RSA takes ~0.2 s a signature.
 */
function signSha256(cert: forge.pki.Certificate, privateKeyPem: Secret): void {
  const nativeKey = {
    sign: (): string => {
      const tbs = Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), 'binary');
      return sign('sha256', tbs, privateKeyPem.reveal()).toString('binary');
    },
  };
  cert.sign(nativeKey as unknown as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
}

/** PEM with Unix line endings (forge writes CRLF), like the keys and like every tool on the hosts. */
function toPem(cert: forge.pki.Certificate): string {
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
}

function addDays(date: Date, days: number): Date {
  if (!Number.isInteger(days) || days < 1)
    throw new Error(`validity of ${days} days is not a positive integer`);
  return new Date(date.getTime() + days * DAY_MS);
}

function checkedIp(text: string): string {
  const ip = normalizeIp(text);
  if (ip === undefined) throw new Error(`${text} is not an IP address`);
  return ip;
}
