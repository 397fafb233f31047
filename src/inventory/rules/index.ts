import type { InputIssue } from '../../core/errors.js';
import type { ResolvedInventory } from '../resolve.js';
import {
  addressesUnique,
  addressIsPlain,
  connectionNamesAgree,
  knownHostsForWholeInventory,
  noUnsupportedAnsibleVars,
  privateKeyIsPrivate,
  rootOrBecome,
} from './connection.js';
import {
  clusterGroupsNotEmpty,
  etcdMemberCountIsOdd,
  groupNamesDifferFromHosts,
  hostDefinedOnce,
  hostNamesUnique,
} from './groups.js';
import type { Rule } from './rule.js';

export type { Rule } from './rule.js';

export const RULES: readonly Rule[] = [
  etcdMemberCountIsOdd,
  clusterGroupsNotEmpty,
  hostNamesUnique,
  hostDefinedOnce,
  addressesUnique,
  groupNamesDifferFromHosts,
  connectionNamesAgree,
  rootOrBecome,
  addressIsPlain,
  privateKeyIsPrivate,
  knownHostsForWholeInventory,
  noUnsupportedAnsibleVars,
];

/** Runs every rule. */
export function checkRules(inventory: ResolvedInventory): InputIssue[] {
  return RULES.flatMap((rule) => rule(inventory));
}
