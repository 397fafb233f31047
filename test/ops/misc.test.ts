import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/core/secret.js';
import { fileFact } from '../../src/facts/file.js';
import { checkFact, existsFact } from '../../src/facts/shell.js';
import { groupFact, userFact } from '../../src/facts/user.js';
import { SafetyError } from '../../src/core/errors.js';
import { certificateOp } from '../../src/ops/certificate.js';
import { commandOp } from '../../src/ops/command.js';
import { directoryOp } from '../../src/ops/directory.js';
import { sha256 } from '../../src/ops/file.js';
import { groupOp, userOp } from '../../src/ops/user.js';
import { env, recorded } from '../support/facts.js';

const display = (plan: { changed: boolean; steps?: unknown[] }) =>
  plan.changed
    ? (plan.steps as { kind: string; command?: { display(): string } }[]).map(
        (s) => s.command?.display() ?? s.kind,
      )
    : [];

describe('directory operation', () => {
  const args = { path: '/var/lib/etcd/x y', owner: 'etcd', group: 'etcd', mode: '0700' };
  it('creates with quoting', () => {
    const plan = directoryOp.plan(args, recorded([fileFact, { path: args.path }, 'absent']), env());
    expect(display(plan)).toEqual(["install -d -m 0700 -o etcd -g etcd -- '/var/lib/etcd/x y'"]);
  });
  it('is up to date', () => {
    const plan = directoryOp.plan(
      args,
      recorded([fileFact, { path: args.path }, 'directory|700|etcd|etcd|4096\n']),
      env(),
    );
    expect(plan).toEqual({ changed: false, reason: 'directory /var/lib/etcd/x y is up to date' });
  });
  it('fixes the mode', () => {
    const plan = directoryOp.plan(
      args,
      recorded([fileFact, { path: args.path }, 'directory|755|etcd|etcd|4096\n']),
      env(),
    );
    expect(plan.changed && plan.reason).toBe('fix directory /var/lib/etcd/x y: mode 0755 -> 0700');
  });
  it('refuses to replace a file with a directory', () => {
    const plan = directoryOp.plan(
      args,
      recorded([fileFact, { path: args.path }, 'regular file|644|root|root|3\nabc  x\n']),
      env(),
    );
    expect(plan.changed && plan.reason).toContain('refusing to replace it');
  });
});

describe('user and group operations', () => {
  it('creates a system user', () => {
    const plan = userOp.plan(
      { name: 'etcd', system: true, groups: [] },
      recorded([userFact, { name: 'etcd' }, '', 2]),
      env(),
    );
    expect(display(plan)).toEqual(['useradd --user-group --system -- etcd']);
  });
  it('adds missing groups only', () => {
    const facts = recorded([
      userFact,
      { name: 'postgres' },
      'postgres:x:108:114::/var/lib/postgresql:/bin/bash\npostgres ssl-cert\n',
    ]);
    const plan = userOp.plan({ name: 'postgres', system: true, groups: ['ssl-cert', 'etcd'] }, facts, env());
    expect(display(plan)).toEqual(['usermod --append --groups etcd -- postgres']);
  });
  it('group exists', () => {
    expect(
      groupOp.plan(
        { name: 'etcd', system: true },
        recorded([groupFact, { name: 'etcd' }, 'etcd:x:999:\n']),
        env(),
      ).changed,
    ).toBe(false);
  });
});

describe('command operation', () => {
  it('skips when creates exists', () => {
    const facts = recorded([existsFact, { path: '/x' }, '', 0]);
    expect(commandOp.plan({ cmd: 'make-x', creates: '/x' }, facts, env())).toEqual({
      changed: false,
      reason: '/x exists',
    });
  });
  it('runs when unless fails', () => {
    const facts = recorded([checkFact, { script: 'test -f /y' }, '', 1]);
    const plan = commandOp.plan({ cmd: 'touch /y', unless: 'test -f /y' }, facts, env());
    expect(plan.changed && plan.reason).toBe('run (check failed: test -f /y)');
    expect(display(plan)).toEqual(['touch /y']);
  });
  it('quotes what the check printed last, passed or failed, instead of its script', () => {
    const pass = recorded([checkFact, { script: 'guard check' }, 'reading\nall is well\n', 0]);
    expect(commandOp.plan({ cmd: 'guard fix', unless: 'guard check' }, pass, env())).toEqual({
      changed: false,
      reason: 'all is well',
    });
    const fail = recorded([checkFact, { script: 'guard check' }, 'system ID mismatch: 1 vs 2\n', 1]);
    const plan = commandOp.plan({ cmd: 'guard fix', unless: 'guard check' }, fail, env());
    expect(plan.changed && plan.reason).toBe('run (check failed: system ID mismatch: 1 vs 2)');
  });
  it('an unguarded command always runs and says so', () => {
    expect(commandOp.plan({ cmd: 'true' }, recorded(), env())).toMatchObject({
      changed: true,
      reason: 'run (no guard: always runs)',
    });
  });
});

describe('certificate operation', () => {
  const files = [
    { path: '/etc/etcd/pki/ca.crt', content: 'CA', owner: 'etcd', group: 'etcd', mode: '0644' },
    {
      path: '/etc/etcd/pki/pg1.key',
      content: new Secret('KEY-MATERIAL'),
      owner: 'etcd',
      group: 'etcd',
      mode: '0600',
    },
  ];
  const args = { label: 'pg1', files, caPath: '/etc/etcd/pki/ca.crt', replaceCa: false };
  const caOnHost = (sum: string): Parameters<typeof recorded>[0] => [
    fileFact as Parameters<typeof recorded>[0][0],
    { path: files[0]!.path },
    `regular file|644|etcd|etcd|2\n${sum}  x\n`,
  ];
  const OURS = '4b650e5c4785025dee7bd65e3c5c527356717d7a1c0bfef5b4ada8ca1e9cbe17'; // sha256 of 'CA'
  const THEIRS = '0f2b0e1b3c0b5b3a4ed4dd5a4d3c5ba7b5cb7e2d0d53c76fc3d0e6e0b5c4f0c1';

  it('uploads only the files that differ', () => {
    const facts = recorded(caOnHost(OURS), [fileFact, { path: files[1]!.path }, 'absent\n']);
    const plan = certificateOp.plan(args, facts, env());
    expect(plan.changed).toBe(true);
    if (!plan.changed) return;
    expect(plan.reason).toContain('create /etc/etcd/pki/pg1.key');
    expect(JSON.stringify(plan)).not.toContain('KEY-MATERIAL');
    expect(plan.reason).not.toContain('ca.crt');
  });

  it('refuses to replace a CA the host already trusts: another state folder set it up', () => {
    const facts = recorded(caOnHost(THEIRS), [fileFact, { path: files[1]!.path }, 'absent\n']);
    expect(() => certificateOp.plan(args, facts, env())).toThrow(SafetyError);
    expect(() => certificateOp.plan(args, facts, env())).toThrow(
      /trusts another CA .*sha256 0f2b0e1b3c0b5b3a/,
    );
  });

  it('accepts a CA file of this controller from another step of a CA rotation, and replaces it', () => {
    const rotating = { ...args, acceptedCaPems: ['OLD CA'] };
    const key = [fileFact, { path: files[1]!.path }, 'absent\n'] as Parameters<typeof recorded>[0];
    expect(() => certificateOp.plan(rotating, recorded(caOnHost(THEIRS), key), env())).toThrow(SafetyError);
    const plan = certificateOp.plan(rotating, recorded(caOnHost(sha256('OLD CA')), key), env());
    expect(plan.changed && plan.reason).toContain('update /etc/etcd/pki/ca.crt');
  });

  it('replaces it when asked (pgprov_replace_ca), and installs a CA where there is none', () => {
    const foreign = recorded(caOnHost(THEIRS), [fileFact, { path: files[1]!.path }, 'absent\n']);
    const plan = certificateOp.plan({ ...args, replaceCa: true }, foreign, env());
    expect(plan.changed && plan.reason).toContain('update /etc/etcd/pki/ca.crt');
    const bare = recorded(
      [fileFact, { path: files[0]!.path }, 'absent\n'],
      [fileFact, { path: files[1]!.path }, 'absent\n'],
    );
    expect(certificateOp.plan(args, bare, env()).changed).toBe(true);
  });
});
