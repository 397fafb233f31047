/**
 * Reading certificates: a small typed summary, and the checks that decide whether a host certificate can be kept.
 * Pure; parsing uses Node's X509Certificate (OpenSSL), which reads any certificate, not only the ones we issue.
 */
import { X509Certificate } from 'node:crypto';
import { diffSans, describeSanDiff, toSanSet, type SanSet } from './sans.js';

const DAY_MS = 86_400_000;

export interface CertificateSummary {
  subjectCommonName: string | undefined;
  issuerCommonName: string | undefined;
  /** DNS and IP subject alternative names, normalized as in `toSanSet`. */
  sans: SanSet;
  notBefore: Date;
  notAfter: Date;
  /** Lowercase hex. */
  serial: string;
  /** SHA-256 of the DER, as `openssl x509 -fingerprint -sha256` prints it: `AB:CD:...`. */
  fingerprintSha256: string;
  isCa: boolean;
}

/** Parses one PEM certificate. Throws an Error saying what is wrong if the text is not one. */
export function parseCertificate(pem: string): CertificateSummary {
  const cert = toX509(pem);
  return {
    subjectCommonName: commonName(cert.subject),
    issuerCommonName: commonName(cert.issuer),
    sans: toSanSet(parseSubjectAltName(cert.subjectAltName ?? '')),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    serial: cert.serialNumber.toLowerCase(),
    fingerprintSha256: cert.fingerprint256,
    isCa: cert.ca,
  };
}

/** Whether `caPem` issued `certPem`: the issuer name matches and the signature verifies with the CA's key. */
export function isSignedBy(certPem: string, caPem: string): boolean {
  const cert = toX509(certPem);
  const ca = toX509(caPem);
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

export interface ExpiryPolicy {
  now: Date;
  /** Renew when fewer than this many days remain; 0 renews only what has already expired. */
  renewWithinDays: number;
}

/** Why a certificate is due for renewal under the policy, or undefined when it is not. */
export function expiryProblem(summary: CertificateSummary, policy: ExpiryPolicy): string | undefined {
  const day = (d: Date): string => d.toISOString().slice(0, 10);
  if (summary.notAfter.getTime() <= policy.now.getTime()) return `expired on ${day(summary.notAfter)}`;
  if (summary.notAfter.getTime() - policy.now.getTime() < policy.renewWithinDays * DAY_MS) {
    return `expires on ${day(summary.notAfter)}, within the ${policy.renewWithinDays}-day renewal window`;
  }
  return undefined;
}

export type LeafProblemKind = 'issuer' | 'sans' | 'expiry';

export interface LeafProblem {
  kind: LeafProblemKind;
  /** A phrase to follow "reissued certificate for pg1: ". */
  reason: string;
}

export interface LeafCheck extends ExpiryPolicy {
  certPem: string;
  caPem: string;
  wanted: SanSet;
}

/** Every reason to reissue a host certificate; an empty list means keep it. */
export function checkLeaf(check: LeafCheck): LeafProblem[] {
  const problems: LeafProblem[] = [];
  if (!isSignedBy(check.certPem, check.caPem))
    problems.push({ kind: 'issuer', reason: 'not signed by the current CA' });
  const summary = parseCertificate(check.certPem);
  const diff = diffSans(summary.sans, check.wanted);
  if (diff) problems.push({ kind: 'sans', reason: describeSanDiff(diff) });
  const expiry = expiryProblem(summary, check);
  if (expiry) problems.push({ kind: 'expiry', reason: expiry });
  return problems;
}

function toX509(pem: string): X509Certificate {
  if (!pem.includes('-----BEGIN CERTIFICATE-----'))
    throw new Error('no PEM certificate (BEGIN CERTIFICATE) found');
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new Error(`not a valid certificate (${(error as Error).message})`);
  }
}

/** The CN of a distinguished name as Node prints it (`CN=pg1\nO=x`). */
function commonName(dn: string): string | undefined {
  const line = dn.split('\n').find((l) => l.startsWith('CN='));
  return line?.slice(3).replace(/\\(.)/g, '$1');
}

/**
 * DNS names and IP addresses from Node's subjectAltName text: `DNS:pg1, IP Address:10.0.0.1`. Values with
 * special characters are JSON-quoted (`DNS:"a, b"`); other kinds of name (email, URI) are ignored.
 */
export function parseSubjectAltName(text: string): string[] {
  const values: string[] = [];
  for (const match of text.matchAll(/([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g)) {
    const [, kind, raw = ''] = match;
    if (kind !== 'DNS' && kind !== 'IP Address') continue;
    values.push(raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
  }
  return values;
}
