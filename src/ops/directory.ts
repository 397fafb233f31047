import { sh } from '../core/command.js';
import { request } from '../facts/fact.js';
import { fileFact } from '../facts/file.js';
import { change, defineOperation, exec, noChange } from './operation.js';

export interface DirectoryArgs {
  path: string;
  owner: string;
  group: string;
  mode: string;
}

export const directoryOp = defineOperation<DirectoryArgs>({
  module: 'directory',
  facts: (args) => [request(fileFact, { path: args.path })],
  plan: ({ path, owner, group, mode }, facts) => {
    const state = facts.get(fileFact, { path });
    const install = exec(sh`install -d -m ${mode} -o ${owner} -g ${group} -- ${path}`);
    if (!state.exists) return change(`create directory ${path}`, [install]);
    if (state.type !== 'directory') {
      // Never delete something that is not ours to delete: a file where a directory belongs needs a person.
      return change(`${path} exists but is a ${state.type}; refusing to replace it`, [
        exec(
          sh`echo ${`${path} is a ${state.type}, not a directory: move it away and apply again`} >&2; exit 1`,
        ),
      ]);
    }
    const why: string[] = [];
    if (state.owner !== owner || state.group !== group)
      why.push(`owner ${state.owner}:${state.group} -> ${owner}:${group}`);
    if (state.mode !== mode) why.push(`mode ${state.mode} -> ${mode}`);
    if (why.length === 0) return noChange(`directory ${path} is up to date`);
    return change(`fix directory ${path}: ${why.join(', ')}`, [install]);
  },
});
