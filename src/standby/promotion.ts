/**
 * What `pgprov promote` leaves in the primary's state folder: the record that a standby of it now takes writes.
 * `status` of the primary reads it, so a primary that still runs after its standby was promoted is never left
 * taking writes without a warning (two clusters taking writes for the same clients diverge).
 */
import type { PromotedStandby } from '../cluster/standby.js';
import { readRecords, writeRecord } from './records.js';

/** What promote records: the standby, its inventory, when, and where it takes writes now. */
export type Promotion = Omit<PromotedStandby, 'file'>;

/** The records' folder: the operator deletes a record once the primary takes no more writes (said by status). */
const KIND = 'promoted-standbys';

export async function recordPromotion(primaryStateDir: string, promotion: Promotion): Promise<string> {
  return (await writeRecord(primaryStateDir, KIND, promotion.cluster, promotion)).file;
}

/** Every promotion recorded against this (primary) cluster's state folder. */
export async function readPromotions(stateDir: string): Promise<PromotedStandby[]> {
  return (await readRecords(stateDir, KIND)).map(({ file, name, parsed }) =>
    parsed === undefined
      ? { cluster: name, inventory: '?', at: '?', file }
      : { ...(parsed as Promotion), file },
  );
}
