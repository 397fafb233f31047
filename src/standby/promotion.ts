/**
 * What `pgprov promote` leaves in the primary's state folder: the record that a standby of it now takes writes.
 * `status` of the primary reads it, so a primary that still runs after its standby was promoted is never left
 * taking writes without a warning (two clusters taking writes for the same clients diverge).
 */
import { readdir } from 'node:fs/promises';
import type { PromotedStandby } from '../cluster/standby.js';
import { join } from 'node:path';
import { ensurePrivateDir, PUBLIC_FILE_MODE, readOptional, writeFileAtomic } from '../pki/state-dir.js';

/** What promote records: the standby, its inventory, when, and where it takes writes now. */
export type Promotion = Omit<PromotedStandby, 'file'>;

const folder = (stateDir: string) => join(stateDir, 'promoted-standbys');
/** The record's file: the operator deletes it once the primary takes no more writes (said by status). */
const promotionFile = (stateDir: string, cluster: string) =>
  join(folder(stateDir), `${cluster.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);

export async function recordPromotion(primaryStateDir: string, promotion: Promotion): Promise<string> {
  await ensurePrivateDir(folder(primaryStateDir));
  const file = promotionFile(primaryStateDir, promotion.cluster);
  await writeFileAtomic(file, `${JSON.stringify(promotion, null, 2)}\n`, PUBLIC_FILE_MODE);
  return file;
}

/** Every promotion recorded against this (primary) cluster's state folder. */
export async function readPromotions(stateDir: string): Promise<PromotedStandby[]> {
  const names = await readdir(folder(stateDir)).catch(() => [] as string[]);
  const out: PromotedStandby[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const file = join(folder(stateDir), name);
    const text = await readOptional(file);
    if (!text) continue;
    try {
      out.push({ ...(JSON.parse(text) as Promotion), file });
    } catch {
      out.push({ cluster: name.slice(0, -5), inventory: '?', at: '?', file });
    }
  }
  return out;
}
