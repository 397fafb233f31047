import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../src/core/errors.js';
import { isSignedBy, parseCertificate } from '../../src/pki/inspect.js';
import {
  acceptableTrustFiles,
  advanceRotation,
  readRotation,
  rotationFiles,
  trustBundle,
} from '../../src/pki/rotation.js';
import { ensurePki, newCa, type EnsurePkiOptions } from '../../src/pki/store.js';
import { hasOpenssl, opensslVerify } from './fixtures.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const HOSTS = [
  { name: 'pg1', address: '10.0.0.1' },
  { name: 'pg2', address: '10.0.0.2' },
];

let stateDir: string;
const options = (): EnsurePkiOptions => ({ stateDir, clusterName: 'lab', hosts: HOSTS, now: NOW });
const advance = () =>
  advanceRotation({
    stateDir,
    newCa: async () => {
      const ca = await newCa({ commonName: 'pgprov lab CA 2026-03-01', now: NOW });
      return { certPem: ca.certPem, keyPem: ca.keyPem.reveal() };
    },
  });

beforeEach(async () => {
  stateDir = join(await mkdtemp(join(tmpdir(), 'pgprov-rotation-')), 'lab');
});
afterEach(async () => {
  await rm(join(stateDir, '..'), { recursive: true, force: true });
});

describe('CA rotation', () => {
  it('goes trust both -> certificates from the new CA -> trust the new only, and no host is ever left out', async () => {
    const before = await ensurePki(options());
    const oldCa = before.ca.certPem;
    expect(before.trust).toEqual([oldCa]);

    expect((await advance()).step).toBe('trust-new');
    const trusting = await ensurePki(options());
    const newCaPem = trusting.trust[1]!;
    expect(trusting.trust).toEqual([oldCa, newCaPem]);
    expect(parseCertificate(newCaPem).subjectCommonName).toBe('pgprov lab CA 2026-03-01');
    // Step 1 changes no host certificate: they are still the old CA's, trusted by everyone.
    expect(trusting.changes).toEqual([]);
    expect(trusting.hosts.pg1!.certPem).toBe(before.hosts.pg1!.certPem);
    expect(trusting.warnings.join()).toContain('step 1 of 3');
    // The rotation's own applies say nothing of it: `certs --rotate-ca` reports its steps.
    expect((await ensurePki({ ...options(), rotating: true })).warnings).toEqual([]);

    expect((await advance()).step).toBe('issue-new');
    const issuing = await ensurePki(options());
    expect(issuing.ca.certPem).toBe(newCaPem);
    expect(issuing.trust).toEqual([newCaPem, oldCa]);
    expect(issuing.changes).toEqual([
      expect.stringMatching(/^reissued certificate for pg1: .*CA/),
      expect.stringMatching(/^reissued certificate for pg2: .*CA/),
    ]);
    for (const host of ['pg1', 'pg2']) {
      const leaf = issuing.hosts[host]!.certPem;
      expect(isSignedBy(leaf, newCaPem)).toBe(true);
      // Same key: only the signature changed.
      expect(issuing.hosts[host]!.keyPem.reveal()).toBe(before.hosts[host]!.keyPem.reveal());
      if (hasOpenssl) {
        // A host at step 1 (old + new in its ca.crt) verifies a new certificate; one at step 2 an old one.
        expect(opensslVerify(trustBundle(trusting.trust), leaf, 'sslserver')).toContain('OK');
        expect(opensslVerify(trustBundle(issuing.trust), before.hosts[host]!.certPem, 'sslclient')).toContain(
          'OK',
        );
      }
    }

    expect((await advance()).step).toBe('drop-old');
    const dropping = await ensurePki(options());
    expect(dropping.trust).toEqual([newCaPem]);
    expect(dropping.changes).toEqual([]);
    // The hosts may still hold the bundle from step 2: it is this controller's, not foreign.
    expect(acceptableTrustFiles(dropping.known)).toContain(trustBundle(issuing.trust));

    const done = await advance();
    expect(done.step).toBeUndefined();
    const files = rotationFiles(stateDir);
    expect(await readRotation(files)).toBeUndefined();
    await expect(readFile(files.previousCert)).rejects.toThrow(/ENOENT/);
    await expect(readFile(files.previousKey)).rejects.toThrow(/ENOENT/);
    const after = await ensurePki(options());
    expect(after.trust).toEqual([newCaPem]);
    expect(after.known).toEqual([newCaPem]);
    expect(after.warnings).toEqual([]);
  });

  it('a move interrupted after the CA files were swapped completes on the next attempt', async () => {
    await ensurePki(options());
    await advance();
    const files = rotationFiles(stateDir);
    const oldCa = await readFile(files.caCert, 'utf8');
    const next = await readFile(files.nextCert, 'utf8');
    // As if the process died after writing ca.* and ca-previous.* but before recording the step.
    await writeFile(files.previousCert, oldCa);
    await writeFile(files.previousKey, await readFile(files.caKey, 'utf8'));
    await writeFile(files.caCert, next);
    await writeFile(files.caKey, await readFile(files.nextKey, 'utf8'));
    expect((await advance()).step).toBe('issue-new');
    expect(await readFile(files.previousCert, 'utf8')).toBe(oldCa);
    expect((await ensurePki(options())).trust).toEqual([next, oldCa]);
  });

  it('a rotation file that names no step stops the run instead of being ignored', async () => {
    await ensurePki(options());
    const files = rotationFiles(stateDir);
    await writeFile(files.state, '{"step": "halfway"}\n');
    await expect(ensurePki(options())).rejects.toThrow(EnvironmentError);
    await expect(ensurePki(options())).rejects.toThrow(/does not say which step/);
  });

  it('a rotation cannot start without a CA, and a missing next CA is named', async () => {
    await expect(advance()).rejects.toThrow(/no CA to rotate/);
    await ensurePki(options());
    await advance();
    await rm(rotationFiles(stateDir).nextCert);
    await expect(ensurePki(options())).rejects.toThrow(/step trust-new but .*ca-next.crt is missing/);
  });

  it('accepts each CA alone and each ordered pair, nothing else', () => {
    const files = acceptableTrustFiles(['A\n', 'B\n']);
    expect(files.sort()).toEqual(['A\n', 'A\nB\n', 'B\n', 'B\nA\n']);
  });
});
