import { sh } from '../core/command.js';
import { defineFact } from './fact.js';

export interface UserState {
  exists: boolean;
  uid?: number;
  gid?: number;
  home?: string;
  shell?: string;
  /** Supplementary groups. */
  groups?: string[];
}

export const userFact = defineFact<{ name: string }, UserState>({
  name: 'user',
  key: ({ name }) => name,
  command: ({ name }) => sh`getent passwd -- ${name} && id -nG -- ${name}`,
  parse: ({ stdout, code }) => {
    if (code !== 0) return { exists: false };
    const [passwd = '', groups = ''] = stdout.trim().split('\n');
    const f = passwd.split(':');
    return {
      exists: true,
      uid: Number(f[2]),
      gid: Number(f[3]),
      home: f[5] ?? '',
      shell: f[6] ?? '',
      groups: groups.split(/\s+/).filter(Boolean),
    };
  },
});

export const groupFact = defineFact<{ name: string }, { exists: boolean; gid?: number }>({
  name: 'group',
  key: ({ name }) => name,
  command: ({ name }) => sh`getent group -- ${name}`,
  parse: ({ stdout, code }) =>
    code === 0 ? { exists: true, gid: Number(stdout.split(':')[2]) } : { exists: false },
});
