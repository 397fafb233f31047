/**
 * One JSON file per standby cluster in a primary's state folder, under a folder per kind of record (promoted
 * standbys, standbys reading its repository). Only the controller reads them; a person may too.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir, PUBLIC_FILE_MODE, readOptional, writeFileAtomic } from '../pki/state-dir.js';

/** The record's file for this cluster: its name made safe for a file name. */
export const recordFile = (stateDir: string, kind: string, cluster: string): string =>
  join(stateDir, kind, `${cluster.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);

/** Writes a cluster's record unless it already says the same; true when it was written. */
export async function writeRecord(
  stateDir: string,
  kind: string,
  cluster: string,
  record: unknown,
): Promise<{ file: string; written: boolean }> {
  const file = recordFile(stateDir, kind, cluster);
  const text = `${JSON.stringify(record, null, 2)}\n`;
  if ((await readOptional(file)) === text) return { file, written: false };
  await ensurePrivateDir(join(stateDir, kind));
  await writeFileAtomic(file, text, PUBLIC_FILE_MODE);
  return { file, written: true };
}

export async function removeRecord(stateDir: string, kind: string, cluster: string): Promise<void> {
  await rm(recordFile(stateDir, kind, cluster), { force: true });
}

/** Every record of this kind, by file name; `parsed` is undefined for a file that is not JSON. */
export async function readRecords(
  stateDir: string,
  kind: string,
): Promise<{ file: string; name: string; parsed: unknown }[]> {
  const names = await readdir(join(stateDir, kind)).catch(() => [] as string[]);
  const out: { file: string; name: string; parsed: unknown }[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const file = join(stateDir, kind, name);
    const text = await readOptional(file);
    if (!text) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    out.push({ file, name: name.slice(0, -'.json'.length), parsed });
  }
  return out;
}
