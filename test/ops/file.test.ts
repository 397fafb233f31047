import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Masker, Secret } from '../../src/core/secret.js';
import { fileContentFact, fileFact } from '../../src/facts/file.js';
import { fileOp, type FileArgs } from '../../src/ops/file.js';
import { env, recorded } from '../support/facts.js';

const args: FileArgs = {
  path: '/etc/default/etcd',
  content: 'A=1\n',
  owner: 'root',
  group: 'etcd',
  mode: '0640',
};
const sum = (s: string) => createHash('sha256').update(s).digest('hex');
const stat = (content: string, extra = 'root|etcd') =>
  `regular file|640|${extra}|4\n${sum(content)}  /etc/default/etcd\n`;

describe('file operation', () => {
  it('creates a missing file with one atomic upload', () => {
    const plan = fileOp.plan(args, recorded([fileFact, { path: args.path }, 'absent\n']), env());
    expect(plan).toMatchObject({ changed: true, reason: 'create /etc/default/etcd' });
    expect(plan.changed && plan.steps).toEqual([
      {
        kind: 'put',
        file: { path: args.path, content: 'A=1\n', owner: 'root', group: 'etcd', mode: '0640' },
      },
    ]);
  });

  it('reports nothing to do when content, owner and mode match', () => {
    const plan = fileOp.plan(args, recorded([fileFact, { path: args.path }, stat('A=1\n')]), env());
    expect(plan).toEqual({ changed: false, reason: '/etc/default/etcd is up to date' });
  });

  it('uploads when the checksum differs, with a masked diff', () => {
    const secret = new Secret('hunter2-very-secret');
    const masker = new Masker().add(secret);
    const wanted = { ...args, content: `A=1\nPASSWORD=${secret.reveal()}\n` };
    const facts = recorded(
      [fileFact, { path: args.path }, stat('A=0\n')],
      [fileContentFact, { path: args.path }, Buffer.from('A=0\n').toString('base64')],
    );
    const plan = fileOp.plan(wanted, facts, env({ diff: true, masker }));
    expect(plan.changed).toBe(true);
    if (!plan.changed) return;
    expect(plan.reason).toBe('update /etc/default/etcd: content changed');
    expect(plan.diff?.text).toContain('-A=0');
    expect(plan.diff?.text).toContain('+PASSWORD=********');
    expect(plan.diff?.text).not.toContain('hunter2');
  });

  it('fixes only owner and mode when content matches', () => {
    const facts = recorded([
      fileFact,
      { path: args.path },
      stat('A=1\n', 'root|root').replace('|640|', '|644|'),
    ]);
    const plan = fileOp.plan(args, facts, env());
    expect(plan.changed && plan.reason).toBe(
      'fix /etc/default/etcd: owner root:root -> root:etcd, mode 0644 -> 0640',
    );
    expect(plan.changed && plan.steps.map((s) => s.kind === 'exec' && s.command.display())).toEqual([
      'chown root:etcd -- /etc/default/etcd',
      'chmod 0640 -- /etc/default/etcd',
    ]);
  });

  it('never shows secret file content in a diff', () => {
    const key = {
      ...args,
      path: '/etc/etcd/pki/pg1.key',
      content: new Secret('-----BEGIN PRIVATE KEY-----'),
    };
    const plan = fileOp.plan(key, recorded([fileFact, { path: key.path }, 'absent\n']), env({ diff: true }));
    expect(plan.changed && plan.diff?.text).toBe('(secret content of /etc/etcd/pki/pg1.key changed)\n');
    // No content fact is even gathered for a secret.
    expect(fileOp.facts(key, env({ diff: true })).map((r) => r.fact.name)).toEqual(['file']);
  });
});
