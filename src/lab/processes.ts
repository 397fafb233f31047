import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Processes the lab started, recorded by PID and start time, so a PID reused by an unrelated process after a
 * reboot or a crash is never signalled. The lab only ever signals processes it recorded (and their descendants).
 */

export interface ProcessRecord {
  pid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat). */
  startTime: number;
}

interface Stat {
  state: string;
  ppid: number;
  startTime: number;
}

/** Parses /proc/<pid>/stat; the command name may contain spaces and parentheses, so fields count from the last ')'. */
export function parseStat(text: string): Stat | undefined {
  const end = text.lastIndexOf(')');
  if (end < 0) return undefined;
  const fields = text.slice(end + 2).split(' ');
  // fields[0] is field 3 (state); field N is fields[N - 3].
  const state = fields[0];
  const ppid = Number(fields[1]);
  const startTime = Number(fields[19]);
  if (state === undefined || !Number.isFinite(ppid) || !Number.isFinite(startTime)) return undefined;
  return { state, ppid, startTime };
}

function stat(pid: number): Stat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** A record for a process that is running now, or undefined. */
export function recordOf(pid: number): ProcessRecord | undefined {
  const s = stat(pid);
  return s ? { pid, startTime: s.startTime } : undefined;
}

/** True while the recorded process runs (a zombie or a reused PID counts as gone). */
export function isAlive(record: ProcessRecord | undefined): record is ProcessRecord {
  if (!record) return false;
  const s = stat(record.pid);
  return s !== undefined && s.startTime === record.startTime && s.state !== 'Z' && s.state !== 'X';
}

/** The direct children of a process (from /proc/<pid>/task/<pid>/children). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Sends a signal to a recorded process if it is still that process. Returns whether it was sent. */
export function signal(record: ProcessRecord, sig: NodeJS.Signals): boolean {
  if (!isAlive(record)) return false;
  try {
    process.kill(record.pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Waits until none of the records is alive; true if they all ended within the timeout. */
export async function waitForExit(records: readonly ProcessRecord[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (records.some(isAlive)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}
