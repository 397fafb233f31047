import { sh } from '../core/command.js';
import { request } from '../facts/fact.js';
import { groupFact, userFact } from '../facts/user.js';
import { change, defineOperation, exec, noChange, type Step } from './operation.js';

export interface UserArgs {
  name: string;
  system: boolean;
  home?: string;
  shell?: string;
  /** Supplementary groups the user must be in (others are left alone). */
  groups: string[];
}

export const userOp = defineOperation<UserArgs>({
  module: 'user',
  facts: ({ name }) => [request(userFact, { name })],
  plan: ({ name, system, home, shell, groups }, facts) => {
    const user = facts.get(userFact, { name });
    if (!user.exists) {
      const opts = [
        ...(system ? ['--system'] : []),
        ...(home ? ['--home-dir', home] : []),
        ...(shell ? ['--shell', shell] : []),
        ...(groups.length ? ['--groups', groups.join(',')] : []),
      ];
      return change(`create user ${name}`, [exec(sh`useradd --user-group ${opts} -- ${name}`)]);
    }
    const steps: Step[] = [];
    const why: string[] = [];
    if (shell && user.shell !== shell) {
      steps.push(exec(sh`usermod --shell ${shell} -- ${name}`));
      why.push(`shell ${user.shell} -> ${shell}`);
    }
    const missing = groups.filter((g) => !user.groups?.includes(g));
    if (missing.length) {
      steps.push(exec(sh`usermod --append --groups ${missing.join(',')} -- ${name}`));
      why.push(`add to ${missing.join(', ')}`);
    }
    if (steps.length === 0) return noChange(`user ${name} exists`);
    return change(`update user ${name}: ${why.join(', ')}`, steps);
  },
});

export interface GroupArgs {
  name: string;
  system: boolean;
}

export const groupOp = defineOperation<GroupArgs>({
  module: 'group',
  facts: ({ name }) => [request(groupFact, { name })],
  plan: ({ name, system }, facts) =>
    facts.get(groupFact, { name }).exists
      ? noChange(`group ${name} exists`)
      : change(`create group ${name}`, [exec(sh`groupadd ${system ? ['--system'] : []} -- ${name}`)]),
});
