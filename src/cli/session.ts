import type { Command } from 'commander';
import { parseExtraVars } from '../inventory/extra-vars.js';
import { Session } from '../operate/session.js';
import { collectRepeat } from './options.js';

/** The options every day-2 command shares: the inventory is read as `apply` reads it. */
export interface SessionFlags {
  extraVars?: string[];
  secretsFile?: string;
}

export function sessionOptions(command: Command): Command {
  return command
    .argument('<inventory>', 'the inventory the cluster was deployed from')
    .option(
      '-e, --extra-vars <key=value>',
      'set a variable, as for apply (repeatable; @file.yaml reads a file)',
      collectRepeat,
    )
    .option('--secrets-file <file>', 'YAML file of secrets, as for apply');
}

/** Opens a session on the inventory's cluster, runs `work`, and always closes the connections and locks. */
export async function withSession<T>(
  inventory: string,
  flags: SessionFlags,
  work: (session: Session) => Promise<T>,
): Promise<T> {
  const session = await Session.open(inventory, {
    extraVars: parseExtraVars(flags.extraVars ?? []),
    ...(flags.secretsFile ? { secretsFile: flags.secretsFile } : {}),
  });
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}
