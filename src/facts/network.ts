import { sh } from '../core/command.js';
import { defineFact } from './fact.js';

/** The host's IPv4 addresses (a balancer holding the virtual IP lists it here). */
export const addressesFact = defineFact<Record<string, never>, string[]>({
  name: 'addresses',
  key: () => '',
  command: () => sh`ip -o -4 addr show`,
  parse: ({ stdout }) => [...stdout.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1] as string),
});
