/**
 * The PKI on disk, in the inventory's state folder:
 *
 *   pki/ca.crt  pki/ca.key  pki/hosts/<name>.crt  pki/hosts/<name>.key
 *
 * `ensurePki` creates what is missing and reuses what exists. It never rotates the CA, and reissues a host
 * certificate only when it no longer fits: its names or addresses changed, another CA signed it, or it expires
 * within the renewal window. A file it cannot read is an error, never silently replaced.
 */
import { withLock } from '../core/file-lock.js';
import { join } from 'node:path';
import { EnvironmentError, InputError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import { checkLeaf, expiryProblem, parseCertificate, type CertificateSummary } from './inspect.js';
import { issueCa, issueLeaf, type CertifiedKey } from './issue.js';
import {
  certificateMatchesKey,
  generateKeyPair,
  keyPairFromPrivateKey,
  randomSerial,
  type KeyPair,
} from './keys.js';
import {
  readRotation,
  rotationFiles,
  STEP_MEANING,
  ROTATION_STEPS,
  trustedCas,
  knownCas,
} from './rotation.js';
import { hostSans, type PkiHost } from './sans.js';
import {
  PRIVATE_FILE_MODE,
  PUBLIC_FILE_MODE,
  ensurePrivateDir,
  readOptional,
  writeFileAtomic,
} from './state-dir.js';

export type { PkiHost } from './sans.js';

/** Certificates start this long before `now`, so a host whose clock is a little behind accepts them. */
export const BACKDATE_MS = 3_600_000;

export interface EnsurePkiOptions {
  /** The inventory's state folder, e.g. `inventory/.pgprov/lab/`. */
  stateDir: string;
  /** Names the CA: `pgprov <clusterName> CA`. */
  clusterName: string;
  hosts: readonly PkiHost[];
  now: Date;
  /** Reissue host certificates that expire within this many days (default 0: only expired ones). */
  renewWithinDays?: number;
  /** Reissue every host certificate, whatever its expiry (with the same keys). */
  renewAll?: boolean;
  /** The caller is rotating the CA and reports its steps: no warning that a rotation is under way. */
  rotating?: boolean;
  /** Lifetime of a new host certificate (default 365 days; never beyond the CA's). */
  leafValidityDays?: number;
  /** Lifetime of a new CA (default 3650 days). */
  caValidityDays?: number;
  /** How long to wait for another pgprov process working on the same state folder (default 60 s). */
  lockTimeoutMs?: number;
}

export interface PkiState {
  /** The CA that issues host certificates. */
  ca: CertifiedKey;
  /** The CA certificates hosts are to trust now (more than one while a CA rotation is under way), issuer first. */
  trust: string[];
  /** Every CA certificate in the state folder: what a host's ca.crt may be made of without being foreign. */
  known: string[];
  hosts: Record<string, CertifiedKey>;
  /** One sentence per file created or replaced; empty when everything was reused. */
  changes: string[];
  /** Problems that need a person, such as a CA close to expiry. */
  warnings: string[];
}

export async function ensurePki(options: EnsurePkiOptions): Promise<PkiState> {
  checkHostNames(options.hosts);
  const files = pkiFiles(options.stateDir);
  await ensurePrivateDir(files.hostsDir);
  return withLock(files.lock, { timeoutMs: options.lockTimeoutMs ?? 60_000 }, async () => {
    // Read and check every file before writing any, so a bad file stops the run with nothing half done.
    const warnings: string[] = [];
    const existingCa = await readCa(options, files, warnings);
    const existingHosts = await Promise.all(options.hosts.map((host) => readHost(host, files)));

    const changes: string[] = [];
    const ca = existingCa ?? (await createCa(options, files, changes));
    const rotation = rotationFiles(options.stateDir);
    const step = await readRotation(rotation);
    const trust = await trustedCas(rotation, step, ca.certPem);
    if (step && !options.rotating) {
      warnings.push(
        `a CA rotation is under way (step ${ROTATION_STEPS.indexOf(step) + 1} of 3: ${STEP_MEANING[step]}); ` +
          '`pgprov certs --rotate-ca` goes on with it',
      );
    }
    const results = await Promise.all(
      options.hosts.map((host, i) => ensureHost(host, existingHosts[i] ?? {}, ca, options, files)),
    );
    for (const result of results) if (result.change) changes.push(result.change);
    const hosts = Object.fromEntries(options.hosts.map((host, i) => [host.name, results[i]!.certified]));
    return { ca, trust, known: await knownCas(rotation), hosts, changes, warnings };
  });
}

interface PkiFiles {
  lock: string;
  caCert: string;
  caKey: string;
  hostsDir: string;
  hostCert(name: string): string;
  hostKey(name: string): string;
}

export function pkiFiles(stateDir: string): PkiFiles {
  const pki = join(stateDir, 'pki');
  const hostsDir = join(pki, 'hosts');
  return {
    lock: join(stateDir, 'pki.lock'),
    caCert: join(pki, 'ca.crt'),
    caKey: join(pki, 'ca.key'),
    hostsDir,
    hostCert: (name) => join(hostsDir, `${name}.crt`),
    hostKey: (name) => join(hostsDir, `${name}.key`),
  };
}

const NEW_CA_HINT =
  'Deleting pki/ca.crt and pki/ca.key starts a new CA: every host certificate is then reissued and must be ' +
  'deployed again before clients trust it.';

/** The existing CA, checked; undefined when there is none yet. */
async function readCa(
  options: EnsurePkiOptions,
  files: PkiFiles,
  warnings: string[],
): Promise<CertifiedKey | undefined> {
  const certPem = await readOptional(files.caCert);
  const keyText = await readOptional(files.caKey);
  if (certPem === undefined && keyText === undefined) return undefined;
  if (certPem === undefined || keyText === undefined) {
    const [present, missing] =
      certPem === undefined ? [files.caKey, files.caCert] : [files.caCert, files.caKey];
    throw new EnvironmentError(`${missing} is missing but ${present} exists`, {
      hint: `Restore ${missing} from a backup. ${NEW_CA_HINT}`,
    });
  }
  const restore = `Restore it from a backup. ${NEW_CA_HINT}`;
  const summary = readCertificate(files.caCert, certPem, restore);
  const keys = readKey(files.caKey, keyText, restore);
  if (!summary.isCa) throw new EnvironmentError(`${files.caCert} is not a CA certificate`, { hint: restore });
  checkPair(files.caCert, files.caKey, certPem, keys, `Restore the matching pair. ${NEW_CA_HINT}`);
  const expiry = expiryProblem(summary, { now: options.now, renewWithinDays: options.renewWithinDays ?? 0 });
  if (summary.notAfter <= options.now) {
    throw new EnvironmentError(`the CA in ${files.caCert} ${expiry}`, {
      hint: `The cluster's TLS stopped working when it expired, so it cannot be rotated with both CAs trusted. ${NEW_CA_HINT} (apply then with -e pgprov_replace_ca=true)`,
    });
  }
  if (expiry)
    warnings.push(`the CA in ${files.caCert} ${expiry}: rotate it with \`pgprov certs --rotate-ca\``);
  return { certPem, keyPem: keys.privateKeyPem };
}

async function createCa(
  options: EnsurePkiOptions,
  files: PkiFiles,
  changes: string[],
): Promise<CertifiedKey> {
  const commonName = `pgprov ${options.clusterName} CA`;
  const ca = await newCa({ ...options, commonName });
  await writeFileAtomic(files.caKey, ca.keyPem.reveal(), PRIVATE_FILE_MODE);
  await writeFileAtomic(files.caCert, ca.certPem, PUBLIC_FILE_MODE);
  changes.push(`created CA "${commonName}", valid until ${day(parseCertificate(ca.certPem).notAfter)}`);
  return ca;
}

/**
 * A new self-signed CA (not written anywhere). A rotation's next CA is named with the time it was made, so the old and the
 * new CA never share a subject while hosts trust both.
 */
export async function newCa(options: {
  commonName: string;
  now: Date;
  caValidityDays?: number;
}): Promise<CertifiedKey> {
  const keys = await generateKeyPair();
  const certPem = issueCa({
    commonName: options.commonName,
    keys,
    notBefore: new Date(options.now.getTime() - BACKDATE_MS),
    validityDays: options.caValidityDays ?? 3650,
    serial: randomSerial(),
  });
  return { certPem, keyPem: keys.privateKeyPem };
}

/** A host's files as found: each may be missing, but what is there is readable and belongs together. */
interface ExistingHost {
  certPem?: string;
  keys?: KeyPair;
}

async function readHost(host: PkiHost, files: PkiFiles): Promise<ExistingHost> {
  const certFile = files.hostCert(host.name);
  const keyFile = files.hostKey(host.name);
  const certPem = await readOptional(certFile);
  const keyText = await readOptional(keyFile);
  const startOver = `Restore it from a backup, or delete ${certFile} and ${keyFile} to issue a new key and certificate for ${host.name}.`;
  const keys = keyText === undefined ? undefined : readKey(keyFile, keyText, startOver);
  if (certPem !== undefined) readCertificate(certFile, certPem, startOver);
  if (certPem !== undefined && keys) checkPair(certFile, keyFile, certPem, keys, startOver);
  return { certPem, keys };
}

interface HostResult {
  certified: CertifiedKey;
  change?: string;
}

/** Keeps the host's certificate if it still fits; otherwise issues one (with its existing key, if any). */
async function ensureHost(
  host: PkiHost,
  existing: ExistingHost,
  ca: CertifiedKey,
  options: EnsurePkiOptions,
  files: PkiFiles,
): Promise<HostResult> {
  const wanted = hostSans(host);
  let change: string;
  if (existing.certPem === undefined) {
    change = existing.keys
      ? `issued certificate for ${host.name} (its certificate file was missing)`
      : `issued certificate for ${host.name} (new host)`;
  } else if (!existing.keys) {
    change = `reissued certificate for ${host.name}: its key file was missing`;
  } else {
    const problems = checkLeaf({
      certPem: existing.certPem,
      caPem: ca.certPem,
      wanted,
      now: options.now,
      renewWithinDays: options.renewWithinDays ?? 0,
    });
    if (problems.length === 0 && !options.renewAll) {
      return { certified: { certPem: existing.certPem, keyPem: existing.keys.privateKeyPem } };
    }
    const reasons = problems.length > 0 ? problems.map((p) => p.reason) : ['renewal asked for'];
    change = `reissued certificate for ${host.name}: ${reasons.join('; ')}`;
  }

  const keys = existing.keys ?? (await generateKeyPair());
  const certPem = issueLeaf({
    ca,
    commonName: host.name,
    dnsNames: wanted.dnsNames,
    ipAddresses: wanted.ipAddresses,
    usages: ['serverAuth', 'clientAuth'],
    keys,
    notBefore: new Date(options.now.getTime() - BACKDATE_MS),
    validityDays: options.leafValidityDays ?? 365,
    serial: randomSerial(),
  });
  if (!existing.keys)
    await writeFileAtomic(files.hostKey(host.name), keys.privateKeyPem.reveal(), PRIVATE_FILE_MODE);
  await writeFileAtomic(files.hostCert(host.name), certPem, PUBLIC_FILE_MODE);
  return { certified: { certPem, keyPem: keys.privateKeyPem }, change };
}

function readCertificate(file: string, pem: string, hint: string): CertificateSummary {
  try {
    return parseCertificate(pem);
  } catch (error) {
    throw new EnvironmentError(`${file} is not a readable certificate: ${(error as Error).message}`, {
      hint,
    });
  }
}

/** The key pair in a private key file. The parser's message is left out: it could quote the key. */
function readKey(file: string, text: string, hint: string): KeyPair {
  try {
    return keyPairFromPrivateKey(new Secret(text));
  } catch {
    throw new EnvironmentError(`${file} is not a readable private key (PEM)`, { hint });
  }
}

function checkPair(certFile: string, keyFile: string, certPem: string, keys: KeyPair, hint: string): void {
  if (!certificateMatchesKey(certPem, keys)) {
    throw new EnvironmentError(`${certFile} was not issued for the key in ${keyFile}`, { hint });
  }
}

/** Host names become file names: refuse anything that could leave pki/hosts/ or clash with another host. */
function checkHostNames(hosts: readonly PkiHost[]): void {
  const seen = new Set<string>();
  for (const { name } of hosts) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
      throw new InputError(`host name "${name}" cannot name a certificate file`, [], {
        hint: 'Use letters, digits, ".", "-" and "_" in host names, starting with a letter or digit.',
      });
    }
    if (seen.has(name.toLowerCase())) {
      throw new InputError(`host name "${name}" appears twice (names are compared without case)`, [], {
        hint: 'Give every host a different name.',
      });
    }
    seen.add(name.toLowerCase());
  }
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}
