import { createInterface } from 'node:readline/promises';
import { SafetyError } from '../core/errors.js';
import type { Confirm } from '../operate/session.js';
import type { Output } from './output.js';

/**
 * Asks before a command discards data: the plan is printed, then the user types `word` (the cluster or host
 * name) to go on. --yes confirms ahead; without a terminal to ask on and without --yes, nothing is done.
 */
export function confirmer(output: Output, yes: boolean | undefined, command: string): Confirm {
  return async (plan, word) => {
    for (const line of plan) output.err(line);
    if (yes) return;
    if (!process.stdin.isTTY) {
      throw new SafetyError('not confirmed: nothing was changed', {
        hint: `read the plan above; to go ahead without a prompt, run it again with --yes (${command} ... --yes)`,
      });
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question(`Type ${word} to go ahead (anything else cancels): `);
      if (answer.trim() !== word) throw new SafetyError('cancelled: nothing was changed');
    } finally {
      rl.close();
    }
  };
}
