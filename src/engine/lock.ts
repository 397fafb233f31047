import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { type Command, sh } from '../core/command.js';
import { LockError } from '../core/errors.js';
import type { Transport } from '../transport/transport.js';

/** The lock lives in /run (tmpfs): a reboot clears a lock whose holder died with the host. */
export const LOCK_DIR = '/run/lock/pgprov';

/** Runs of this process that hold locks now; a lock naming this process but none of these is stale. */
const activeRuns = new Set<string>();

export interface Holder {
  text: string;
  run: string;
}

/** Describes this run as a lock holder: who, where, which process and run, since when. */
export function newHolder(now = new Date()): Holder {
  const run = randomBytes(4).toString('hex');
  return {
    run,
    text: `${userInfo().username}@${hostname()} pid ${process.pid} run ${run} since ${now.toISOString()}`,
  };
}

export function startRun(holder: Holder): void {
  activeRuns.add(holder.run);
}

export function endRun(holder: Holder): void {
  activeRuns.delete(holder.run);
}

/**
 * A lock is stale when it was taken on this controller by a process that is gone, or by this process in a run
 * that has ended (a host that dropped mid-run could not be unlocked). Locks from other machines are never
 * judged: only their owner knows.
 */
export function isStale(text: string, here = hostname()): boolean {
  const m = /^\S+@(\S+) pid (\d+)(?: run (\w+))? since /.exec(text);
  if (!m || m[1] !== here) return false;
  const pid = Number(m[2]);
  if (pid === process.pid) return m[3] !== undefined && !activeRuns.has(m[3]);
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The command that takes the lock: prints `acquired`, or the holder of the lock, as its first line. */
export function lockCommand(holder: Holder): Command {
  return sh`mkdir -p /run/lock && if mkdir ${LOCK_DIR} 2>/dev/null; then printf '%s\n' ${holder.text} > ${LOCK_DIR}/holder; echo acquired; else head -n1 ${LOCK_DIR}/holder 2>/dev/null || echo unknown; fi`;
}

/**
 * Takes the host's apply lock given the first line `lockCommand` printed: mkdir is atomic, so of two runs
 * exactly one wins. The loser says who holds it; a stale lock left by a dead run of this controller is taken
 * over, and the caller is told.
 */
export async function settleLock(
  transport: Transport,
  holder: Holder,
  firstLine: string,
): Promise<string | undefined> {
  const first = firstLine.trim();
  if (first === 'acquired') return undefined;
  if (isStale(first)) {
    await transport.exec(sh`rm -rf -- ${LOCK_DIR}`);
    const again = (await transport.exec(lockCommand(holder))).stdout.trim();
    if (again === 'acquired') return `took over a stale lock (${first})`;
  }
  throw new LockError(transport.host, first || 'unknown holder', {
    hint: `wait for that run to finish; if it died, remove the lock on ${transport.host} with: sudo rm -r ${LOCK_DIR}`,
  });
}

/** Releases the lock only if this run holds it: another run's lock is never removed by mistake. */
export async function releaseLock(transport: Transport, holder: Holder): Promise<void> {
  await transport.exec(
    sh`if [ "$(head -n1 ${LOCK_DIR}/holder 2>/dev/null)" = ${holder.text} ]; then rm -rf -- ${LOCK_DIR}; fi`,
  );
}
