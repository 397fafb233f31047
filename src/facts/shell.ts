import { Command, sh } from '../core/command.js';
import { defineFact } from './fact.js';

/** Whether a read-only check script succeeds (exit 0), and the last line it printed: the `unless` of a command. */
export const checkFact = defineFact<{ script: string }, { ok: boolean; said: string }>({
  name: 'check',
  key: ({ script }) => script,
  command: ({ script }) => new Command([script]),
  parse: ({ code, stdout }) => ({ ok: code === 0, said: stdout.trim().split('\n').at(-1)?.trim() ?? '' }),
});

/** Whether a path exists: the `creates` / `removes` of a command task. */
export const existsFact = defineFact<{ path: string }, boolean>({
  name: 'exists',
  key: ({ path }) => path,
  command: ({ path }) => sh`test -e ${path}`,
  parse: ({ code }) => code === 0,
});
