/**
 * Rotating the CA without a moment in which a host distrusts another: three steps, each rolled out to every host
 * by an apply before the next begins.
 *
 *   trust-new   a new CA is created beside the current one (pki/ca-next.*); hosts trust both, certificates are
 *               still the old CA's.
 *   issue-new   the new CA becomes pki/ca.* (the old one is kept as pki/ca-previous.*); every host certificate is
 *               reissued by it; hosts still trust both, so a host with a new certificate and one with an old
 *               certificate keep talking while the rollout goes member by member.
 *   drop-old    hosts trust the new CA only. When that is rolled out, the old CA's files are deleted.
 *
 * The step is kept in pki/rotation.json, so an interrupted rotation is resumed (by `pgprov certs --rotate-ca`) and a
 * plain `pgprov apply` meanwhile deploys what the current step says, never an earlier or later state.
 */
import { withLock } from '../core/file-lock.js';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EnvironmentError } from '../core/errors.js';
import {
  PRIVATE_FILE_MODE,
  PUBLIC_FILE_MODE,
  ensurePrivateDir,
  fileError,
  readOptional,
  writeFileAtomic,
} from './state-dir.js';

export type RotationStep = 'trust-new' | 'issue-new' | 'drop-old';

export const ROTATION_STEPS: readonly RotationStep[] = ['trust-new', 'issue-new', 'drop-old'];

/** What each step rolls out, as a person would say it. */
export const STEP_MEANING: Record<RotationStep, string> = {
  'trust-new': 'every host trusts the old and the new CA',
  'issue-new': 'every host certificate is reissued by the new CA (both CAs still trusted)',
  'drop-old': 'every host trusts the new CA only',
};

export interface RotationFiles {
  lock: string;
  state: string;
  caCert: string;
  caKey: string;
  nextCert: string;
  nextKey: string;
  previousCert: string;
  previousKey: string;
}

export function rotationFiles(stateDir: string): RotationFiles {
  const pki = join(stateDir, 'pki');
  return {
    lock: join(stateDir, 'pki.lock'),
    state: join(pki, 'rotation.json'),
    caCert: join(pki, 'ca.crt'),
    caKey: join(pki, 'ca.key'),
    nextCert: join(pki, 'ca-next.crt'),
    nextKey: join(pki, 'ca-next.key'),
    previousCert: join(pki, 'ca-previous.crt'),
    previousKey: join(pki, 'ca-previous.key'),
  };
}

/** The rotation under way, if any. A file that says something else is an error, never ignored. */
export async function readRotation(files: RotationFiles): Promise<RotationStep | undefined> {
  const text = await readOptional(files.state);
  if (text === undefined) return undefined;
  let step: unknown;
  try {
    step = (JSON.parse(text) as { step?: unknown }).step;
  } catch {
    step = undefined;
  }
  if (!ROTATION_STEPS.includes(step as RotationStep)) {
    throw new EnvironmentError(`${files.state} does not say which step of a CA rotation is under way`, {
      hint: `it should read {"step": "trust-new" | "issue-new" | "drop-old"}; restore it from a backup, or write the step the hosts are at`,
    });
  }
  return step as RotationStep;
}

/**
 * The CA certificates hosts are to trust at this step, the issuing CA first: their concatenation is every host's
 * ca.crt. `current` is pki/ca.crt.
 */
export async function trustedCas(
  files: RotationFiles,
  step: RotationStep | undefined,
  current: string,
): Promise<string[]> {
  const other = async (file: string): Promise<string> => {
    const pem = await readOptional(file);
    if (pem === undefined) {
      throw new EnvironmentError(`a CA rotation is at step ${step} but ${file} is missing`, {
        hint: 'restore the file from a backup of the state folder; a rotation cannot go on without it',
      });
    }
    return pem;
  };
  if (step === 'trust-new') return [current, await other(files.nextCert)];
  if (step === 'issue-new') return [current, await other(files.previousCert)];
  return [current];
}

/** A host's ca.crt: the trusted CAs, one after the other. */
export function trustBundle(cas: readonly string[]): string {
  return cas.map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`)).join('');
}

/**
 * Every ca.crt a host may hold while this controller's CAs are the `known` ones: each CA alone and each ordered
 * pair (a rotation interrupted at any point). A host holding anything else was set up by another controller.
 */
export function acceptableTrustFiles(known: readonly string[]): string[] {
  const out = known.map((pem) => trustBundle([pem]));
  for (const a of known) for (const b of known) if (a !== b) out.push(trustBundle([a, b]));
  return out;
}

/**
 * Every CA certificate in the state folder (current, next and previous): what a client of the cluster on the
 * controller should trust, whatever step a rotation is at.
 */
export async function knownCas(files: RotationFiles): Promise<string[]> {
  const pems = await Promise.all([files.caCert, files.nextCert, files.previousCert].map(readOptional));
  return pems.filter((p): p is string => p !== undefined);
}

export interface AdvanceOptions {
  stateDir: string;
  /** Creates the next CA (certificate and key, PEM): called only when a rotation starts. */
  newCa: () => Promise<{ certPem: string; keyPem: string }>;
  lockTimeoutMs?: number;
}

export type Advance = { step: RotationStep; change: string } | { step: undefined; change: string };

/**
 * Moves the rotation one step on, under the PKI's lock, and says what changed: no rotation -> trust-new ->
 * issue-new -> drop-old -> none. Each move is safe to repeat after a crash halfway through it.
 */
export async function advanceRotation(options: AdvanceOptions): Promise<Advance> {
  const files = rotationFiles(options.stateDir);
  await ensurePrivateDir(dirname(files.state));
  return withLock(files.lock, { timeoutMs: options.lockTimeoutMs ?? 60_000 }, async () => {
    const step = await readRotation(files);
    if (step === undefined) {
      if ((await readOptional(files.caCert)) === undefined) {
        throw new EnvironmentError(`there is no CA to rotate in ${files.caCert}`, {
          hint: 'run `pgprov apply` first: it creates the CA',
        });
      }
      const next = await options.newCa();
      await writeFileAtomic(files.nextKey, next.keyPem, PRIVATE_FILE_MODE);
      await writeFileAtomic(files.nextCert, next.certPem, PUBLIC_FILE_MODE);
      await writeStep(files, 'trust-new');
      return { step: 'trust-new', change: `created the next CA in ${files.nextCert}` };
    }
    if (step === 'trust-new') {
      const nextCert = await readOptional(files.nextCert);
      const nextKey = await readOptional(files.nextKey);
      const caCert = await readOptional(files.caCert);
      const caKey = await readOptional(files.caKey);
      if (nextCert === undefined || nextKey === undefined || caCert === undefined || caKey === undefined) {
        throw new EnvironmentError(
          `a CA rotation is at step trust-new but ${files.nextCert}, ${files.nextKey}, ${files.caCert} or ${files.caKey} is missing`,
          { hint: 'restore the state folder from a backup; a rotation cannot go on without both CAs' },
        );
      }
      // A crash after ca.* was replaced leaves ca.* equal to ca-next.*: the old CA is already in ca-previous.*.
      if (caCert !== nextCert) {
        await writeFileAtomic(files.previousKey, caKey, PRIVATE_FILE_MODE);
        await writeFileAtomic(files.previousCert, caCert, PUBLIC_FILE_MODE);
        await writeFileAtomic(files.caKey, nextKey, PRIVATE_FILE_MODE);
        await writeFileAtomic(files.caCert, nextCert, PUBLIC_FILE_MODE);
      }
      await writeStep(files, 'issue-new');
      await remove(files.nextCert, files.nextKey);
      return {
        step: 'issue-new',
        change: `the new CA issues certificates now; the old one is kept in ${files.previousCert}`,
      };
    }
    if (step === 'issue-new') {
      await writeStep(files, 'drop-old');
      return { step: 'drop-old', change: 'hosts are to trust the new CA only' };
    }
    await remove(files.previousCert, files.previousKey, files.state);
    return { step: undefined, change: `the old CA is retired: ${files.previousCert} and its key deleted` };
  });
}

async function writeStep(files: RotationFiles, step: RotationStep): Promise<void> {
  await writeFileAtomic(
    files.state,
    `${JSON.stringify({ step, since: new Date().toISOString() })}\n`,
    PUBLIC_FILE_MODE,
  );
}

async function remove(...paths: string[]): Promise<void> {
  for (const path of paths) {
    try {
      await rm(path, { force: true });
    } catch (error) {
      throw fileError('delete', path, error);
    }
  }
}
