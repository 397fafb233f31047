import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import { sh } from '../core/command.js';
import type { Secret } from '../core/secret.js';
import { isSecret } from '../core/secret.js';
import { request } from '../facts/fact.js';
import { fileContentFact, fileFact } from '../facts/file.js';
import { change, defineOperation, exec, noChange, type Step } from './operation.js';

export interface FileArgs {
  path: string;
  content: string | Secret;
  owner: string;
  group: string;
  /** Octal, four digits: '0644'. */
  mode: string;
  /** Checked on the host before it replaces the file: `haproxy -c -f %s`. */
  validate?: string;
}

export const sha256 = (content: string | Secret): string =>
  createHash('sha256')
    .update(isSecret(content) ? content.reveal() : content)
    .digest('hex');

/**
 * A file with exact content, owner and mode. The base of `template`, `copy` and `certificate`: content is
 * rendered on the controller and compared by checksum; it is uploaded (atomically) only when it differs.
 */
export const fileOp = defineOperation<FileArgs>({
  module: 'file',
  facts: (args, env) => [
    request(fileFact, { path: args.path }),
    ...(env.diff && !isSecret(args.content) ? [request(fileContentFact, { path: args.path })] : []),
  ],
  plan: (args, facts, env) => {
    const state = facts.get(fileFact, { path: args.path });
    const { path, owner, group, mode } = args;
    if (state.exists && state.type !== 'file') {
      return change(`replace the ${state.type} at ${path} with a file`, [
        exec(sh`rm -rf -- ${path}`),
        put(args),
      ]);
    }
    const diff = () => {
      if (!env.diff) return undefined;
      if (isSecret(args.content)) return { path, text: `(secret content of ${path} changed)\n` };
      const old = state.exists ? (facts.get(fileContentFact, { path })?.toString('utf8') ?? '') : '';
      const text = createTwoFilesPatch(path, path, old, args.content, undefined, undefined, { context: 3 });
      return { path, text: env.masker.mask(text) };
    };
    if (!state.exists) return change(`create ${path}`, [put(args)], diff());
    if (state.sha256 !== sha256(args.content))
      return change(`update ${path}: content changed`, [put(args)], diff());
    const fixes: Step[] = [];
    const why: string[] = [];
    if (state.owner !== owner || state.group !== group) {
      fixes.push(exec(sh`chown ${`${owner}:${group}`} -- ${path}`));
      why.push(`owner ${state.owner}:${state.group} -> ${owner}:${group}`);
    }
    if (state.mode !== mode) {
      fixes.push(exec(sh`chmod ${mode} -- ${path}`));
      why.push(`mode ${state.mode} -> ${mode}`);
    }
    if (fixes.length > 0) return change(`fix ${path}: ${why.join(', ')}`, fixes);
    return noChange(`${path} is up to date`);
  },
});

const put = (args: FileArgs): Step => ({
  kind: 'put',
  file: {
    path: args.path,
    content: args.content,
    owner: args.owner,
    group: args.group,
    mode: args.mode,
    ...(args.validate ? { validate: args.validate } : {}),
  },
});
