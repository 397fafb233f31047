import type { InputIssue } from '../../core/errors.js';
import type { ResolvedHost, ResolvedInventory } from '../resolve.js';
import { locateOrigin, type Origin } from '../source.js';
import type { Segment } from '../yaml-path.js';

/**
 * Stage 4: small named rules over the resolved inventory (stages 1-3 passed), each returning its issues. Add a
 * rule to a file of this folder and to RULES (index.ts); test it with a bad and a good inventory.
 */
export type Rule = (inventory: ResolvedInventory) => InputIssue[];

/** An issue at a place: `below` is a path under the origin; `key` points at a key, `value` at its value. */
export const issueAt = (
  origin: Origin,
  below: Segment[],
  at: 'key' | 'value',
  message: string,
  hint: string,
): InputIssue => ({
  ...locateOrigin(origin, below, at),
  message,
  hint,
});

/** Where a host is first declared (its first key under some `hosts:`). */
export const hostKey = (host: ResolvedHost): Origin | undefined => host.entries[0]?.origin;
