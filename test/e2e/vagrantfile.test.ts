import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureDebianPackages } from '../support/apt.js';

describe('Vagrantfile', () => {
  it('passes vagrant validate', () => {
    ensureDebianPackages(['vagrant'], 'vagrant');
    // No hypervisor here, and Vagrant picks a default provider among the usable ones before validating:
    // --ignore-provider validates everything but the provider blocks, whatever this machine has.
    const out = execFileSync('vagrant', ['validate', '--ignore-provider'], {
      cwd: join(import.meta.dirname, '..', '..'),
      encoding: 'utf8',
    });
    expect(out).toContain('Vagrantfile validated successfully');
  });
});
