import { readFile } from 'node:fs/promises';
import type { RunEvent } from '../core/events.js';
import { IncompleteError } from '../core/errors.js';
import { runApply } from '../engine/run.js';
import { certificatesFact } from '../facts/certificate.js';
import { request } from '../facts/fact.js';
import { parseCertificate } from '../pki/inspect.js';
import {
  ROTATION_STEPS,
  STEP_MEANING,
  advanceRotation,
  readRotation,
  rotationFiles,
} from '../pki/rotation.js';
import { newCa, pkiFiles } from '../pki/store.js';
import type { Session } from './session.js';
import { certificatePaths } from './status.js';

export interface CertificateRow {
  /** The host it is on, or "controller" for the PKI in the state folder. */
  host: string;
  path: string;
  subject: string;
  notAfter: string;
  daysLeft: number;
}

/** Every certificate: the controller's PKI, and each copy pgprov placed on each host (each service has its own). */
export async function listCertificates(
  session: Session,
  now = new Date(),
): Promise<{ rows: CertificateRow[]; unreachable: Record<string, string> }> {
  const row = (host: string, path: string, subject: string, notAfter: Date): CertificateRow => ({
    host,
    path,
    subject,
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000),
  });
  const files = pkiFiles(session.inventory.stateDir);
  const rotation = rotationFiles(session.inventory.stateDir);
  const rows: CertificateRow[] = [];
  for (const path of [
    files.caCert,
    rotation.nextCert,
    rotation.previousCert,
    ...session.inventory.hosts.map((h) => files.hostCert(h.name)),
  ]) {
    const pem = await readFile(path, 'utf8').catch(() => undefined);
    if (!pem) continue;
    const c = parseCertificate(pem);
    rows.push(row('controller', path, c.subjectCommonName ?? '?', c.notAfter));
  }
  const unreachable: Record<string, string> = {};
  await Promise.all(
    session.inventory.hosts.map(async (h) => {
      const args = { paths: certificatePaths(session, h.name) };
      const read = await session.read(h.name, [request(certificatesFact, args)]);
      if (!read.reachable) {
        unreachable[h.name] = read.why;
        return;
      }
      for (const f of read.facts.get(certificatesFact, args))
        rows.push(row(h.name, f.path, f.subject, f.notAfter));
    }),
  );
  const order = ['controller', ...session.inventory.hosts.map((h) => h.name)];
  rows.sort((a, b) => order.indexOf(a.host) - order.indexOf(b.host) || a.path.localeCompare(b.path));
  return { rows, unreachable };
}

interface RolloutOptions {
  extraVars?: Record<string, unknown>;
  progress: (message: string) => void;
}

/**
 * Reissues host certificates on the controller (those expiring within `withinDays`, or all) and rolls them out
 * with the same apply as always: each copy is replaced where it differs and what uses it reloads (Patroni and
 * PostgreSQL, pgBackRest, HAProxy) or restarts one member at a time (etcd), so the leader stays.
 */
export async function renewCertificates(
  session: Session,
  options: RolloutOptions & { withinDays?: number; all?: boolean },
): Promise<{ changed: number }> {
  return rollOut(session, options, {
    ...(options.withinDays !== undefined ? { withinDays: options.withinDays } : {}),
    ...(options.all ? { all: true } : {}),
  });
}

/**
 * Replaces the CA in three rollouts (see pki/rotation.ts): hosts trust old and new, then get certificates from
 * the new, then trust the new only. Each step is a whole apply that succeeded before the next begins; a failed
 * step stops with the rotation recorded, and running this again resumes it at that step.
 */
export async function rotateCa(
  session: Session,
  options: RolloutOptions & { now?: Date },
): Promise<{ changed: number }> {
  const stateDir = session.inventory.stateDir;
  const clusterName = String(session.setting('cluster_name') ?? 'pgprov');
  let step = await readRotation(rotationFiles(stateDir));
  if (step === undefined) {
    // Named by the second it was made: the old and the new CA never share a subject while hosts trust both.
    const made = `${(options.now ?? new Date()).toISOString().slice(0, 19)}Z`;
    const started = await advanceRotation({
      stateDir,
      newCa: async () => {
        const ca = await newCa({
          commonName: `pgprov ${clusterName} CA ${made}`,
          now: options.now ?? new Date(),
        });
        return { certPem: ca.certPem, keyPem: ca.keyPem.reveal() };
      },
    });
    options.progress(`pki: ${started.change}`);
    step = started.step;
  } else {
    options.progress(`a CA rotation was left at step ${ROTATION_STEPS.indexOf(step) + 1} of 3: resuming it`);
  }
  let changed = 0;
  while (step !== undefined) {
    options.progress(`step ${ROTATION_STEPS.indexOf(step) + 1} of 3: ${STEP_MEANING[step]}`);
    changed += (await rollOut(session, options, { rotation: true })).changed;
    const next = await advanceRotation({
      stateDir,
      newCa: () => Promise.reject(new Error('a rotation under way needs no new CA')),
    });
    options.progress(`pki: ${next.change}`);
    step = next.step;
  }
  return { changed };
}

/** One apply of the whole inventory, its progress told as it goes; a failure says the run can be repeated. */
async function rollOut(
  session: Session,
  options: RolloutOptions,
  renew: { withinDays?: number; all?: boolean; rotation?: boolean },
): Promise<{ changed: number }> {
  const events: RunEvent[] = [];
  const run = await runApply({
    inventoryFile: session.inventory.file,
    check: false,
    diff: false,
    ...(options.extraVars ? { extraVars: options.extraVars } : {}),
    renew,
    sink: (e) => {
      events.push(e);
      if (e.type === 'log') options.progress(e.message);
      if (e.type === 'task-result' && e.status === 'changed') options.progress(`  ${e.host}: ${e.task}`);
    },
  });
  if (run.failed) {
    const failures = events.flatMap((e) =>
      e.type === 'host-failed' ? [`${e.host}: ${e.error.message}`] : [],
    );
    throw new IncompleteError(`the rollout of the certificates failed: ${failures.join('; ')}`, {
      hint: 'the controller keeps the new certificates: fix the cause and run `pgprov apply` (or the same command) again',
    });
  }
  return { changed: Object.values(run.recap).reduce((n, r) => n + r.changed, 0) };
}
