import { Command, sh } from '../core/command.js';
import { defineFact } from './fact.js';

/** Whether a read-only check script succeeds (exit 0): the `unless` of a command task. */
export const checkFact = defineFact<{ script: string }, boolean>({
  name: 'check',
  key: ({ script }) => script,
  command: ({ script }) => new Command([script]),
  parse: ({ code }) => code === 0,
});

/** Whether a path exists: the `creates` / `removes` of a command task. */
export const existsFact = defineFact<{ path: string }, boolean>({
  name: 'exists',
  key: ({ path }) => path,
  command: ({ path }) => sh`test -e ${path}`,
  parse: ({ code }) => code === 0,
});
