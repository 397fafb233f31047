import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether an `openssl` binary is on the PATH, to cross-check what we issue. */
export const hasOpenssl = ((): boolean => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Runs `openssl verify -CAfile` on PEM text; returns its output, throws if verification fails. */
export function opensslVerify(caPem: string, certPem: string, purpose: 'sslserver' | 'sslclient'): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgprov-openssl-'));
  try {
    writeFileSync(join(dir, 'ca.crt'), caPem);
    writeFileSync(join(dir, 'leaf.crt'), certPem);
    return execFileSync(
      'openssl',
      ['verify', '-CAfile', join(dir, 'ca.crt'), '-purpose', purpose, join(dir, 'leaf.crt')],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
