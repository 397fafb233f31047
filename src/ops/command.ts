import { Command } from '../core/command.js';
import { request } from '../facts/fact.js';
import { checkFact, existsFact } from '../facts/shell.js';
import { change, defineOperation, exec, noChange } from './operation.js';

export interface CommandArgs {
  /** A shell script written by the role's author. */
  cmd: string;
  /** Skip when this path exists. */
  creates?: string;
  /** Skip when this read-only check exits 0. */
  unless?: string;
}

/** A command guarded so that it only runs when needed. Without a guard it always runs (and says so). */
export const commandOp = defineOperation<CommandArgs>({
  module: 'command',
  facts: ({ creates, unless }) => [
    ...(creates ? [request(existsFact, { path: creates })] : []),
    ...(unless ? [request(checkFact, { script: unless })] : []),
  ],
  plan: ({ cmd, creates, unless }, facts) => {
    if (creates && facts.get(existsFact, { path: creates })) return noChange(`${creates} exists`);
    const check = unless ? facts.get(checkFact, { script: unless }) : undefined;
    // A check that says why (its last line of output) is quoted instead of its script.
    if (check?.ok) return noChange(check.said || `check passed: ${unless}`);
    const why = creates
      ? `${creates} is missing`
      : check
        ? `check failed: ${check.said || unless}`
        : 'no guard: always runs';
    return change(`run (${why})`, [exec(new Command([cmd]))]);
  },
});
