import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { sh } from '../../src/core/command.js';
import { becomeRefusal, becomeWrap, needsSudo, remoteCommandLine } from '../../src/transport/become.js';

const AWKWARD = [
  'two words',
  `it's "quoted"`,
  '$HOME and `date` and $(id)',
  'line one\nline two',
  '*',
  '',
  '\\n',
];

describe('becomeWrap', () => {
  it('runs the script with sh -c, unwrapped, for root', () => {
    expect(becomeWrap('id -u', { user: 'root', become: true })).toBe(`sh -c 'id -u'`);
  });

  it('runs the script unwrapped when become is off', () => {
    expect(becomeWrap('id -u', { user: 'deploy', become: false })).toBe(`sh -c 'id -u'`);
  });

  it('wraps in sudo -n -H for a non-root user with become', () => {
    expect(becomeWrap(`echo 'a b'`, { user: 'deploy', become: true })).toBe(
      `sudo -n -H -- sh -c 'echo '\\''a b'\\'''`,
    );
    expect(needsSudo({ user: 'deploy', become: true })).toBe(true);
    expect(needsSudo({ user: 'root', become: true })).toBe(false);
  });
});

describe('remoteCommandLine', () => {
  it('sets a clean, predictable environment before the command', () => {
    expect(remoteCommandLine('true', { user: 'deploy', become: true })).toBe(
      `exec env LC_ALL=C LANG=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ` +
        `sudo -n -H -- sh -c true`,
    );
  });

  it('keeps awkward values intact through the login shell and sh -c', () => {
    // The line is what the login shell on the host gets; run it with a local sh the same way.
    const command = sh`printf '%s|' ${AWKWARD}`;
    const line = remoteCommandLine(command.script(), { user: 'root', become: true });
    const out = execFileSync('/bin/sh', ['-c', line], {
      encoding: 'utf8',
      env: { LANG: 'de_DE.UTF-8', PATH: '/usr/bin:/bin' },
    });
    expect(out).toBe(AWKWARD.map((v) => `${v}|`).join(''));
  });

  it('gives the command LC_ALL=C and a PATH with the sbin directories', () => {
    const line = remoteCommandLine('echo "$LC_ALL $PATH"', { user: 'root', become: false });
    const out = execFileSync('/bin/sh', ['-c', line], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    expect(out).toBe('C /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
  });
});

describe('becomeRefusal', () => {
  const context = { user: 'deploy', become: true, host: 'pg1' };

  it('explains a sudo that asks for a password', () => {
    const refusal = becomeRefusal({ code: 1, stderr: 'sudo: a password is required\n' }, context);
    expect(refusal?.message).toBe(
      'user deploy cannot run sudo without a password on host pg1; configure NOPASSWD or use root',
    );
    expect(refusal?.hint).toContain('NOPASSWD');
  });

  it('looks past sudo warnings to the refusal', () => {
    const stderr =
      'sudo: unable to resolve host pg1: Name or service not known\nsudo: a password is required\n';
    expect(becomeRefusal({ code: 1, stderr }, context)?.message).toMatch(
      /cannot run sudo without a password/,
    );
  });

  it('explains a user that sudo does not allow', () => {
    const stderr = "Sorry, user deploy is not allowed to execute '/bin/sh -c true' as root on pg1.\n";
    expect(becomeRefusal({ code: 1, stderr }, context)?.message).toBe(
      'user deploy is not allowed to run commands as root with sudo on host pg1',
    );
  });

  it('explains a missing sudo', () => {
    const stderr = "env: 'sudo': No such file or directory\n";
    expect(becomeRefusal({ code: 127, stderr }, context)?.message).toMatch(
      /sudo is not installed on host pg1/,
    );
  });

  it('leaves failures of the command itself alone', () => {
    expect(
      becomeRefusal({ code: 1, stderr: 'grep: x: No such file or directory\n' }, context),
    ).toBeUndefined();
    expect(becomeRefusal({ code: 0, stderr: 'sudo: a password is required\n' }, context)).toBeUndefined();
    expect(
      becomeRefusal({ code: 1, stderr: 'sudo: a password is required\n' }, { ...context, user: 'root' }),
    ).toBeUndefined();
  });
});
