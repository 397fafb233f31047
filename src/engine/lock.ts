import { hostname, userInfo } from 'node:os';
import { sh } from '../core/command.js';
import { LockError } from '../core/errors.js';
import type { Transport } from '../transport/transport.js';

/** The lock lives in /run (tmpfs): a reboot clears a lock whose holder died with the host. */
export const LOCK_DIR = '/run/lock/pgprov';

export function describeHolder(now = new Date()): string {
  return `${userInfo().username}@${hostname()} pid ${process.pid} since ${now.toISOString()}`;
}

/**
 * Takes the host's apply lock: mkdir is atomic, so of two runs exactly one wins. The loser reads who holds it
 * and says so.
 */
export async function acquireLock(transport: Transport, holder: string): Promise<void> {
  const result = await transport.exec(
    sh`mkdir -p /run/lock && if mkdir ${LOCK_DIR} 2>/dev/null; then printf '%s\n' ${holder} > ${LOCK_DIR}/holder; echo acquired; else cat ${LOCK_DIR}/holder 2>/dev/null || echo unknown; fi`,
  );
  const out = result.stdout.trim();
  if (out === 'acquired') return;
  throw new LockError(transport.host, out || 'unknown holder', {
    hint: `wait for that run to finish; if it died, remove the lock on ${transport.host} with: sudo rm -r ${LOCK_DIR}`,
  });
}

export async function releaseLock(transport: Transport): Promise<void> {
  await transport.exec(sh`rm -rf -- ${LOCK_DIR}`);
}
