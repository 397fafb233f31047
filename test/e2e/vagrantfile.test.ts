import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureDebianPackages } from '../support/apt.js';

describe('Vagrantfile', () => {
  it('passes vagrant validate', () => {
    ensureDebianPackages(['vagrant'], 'vagrant');
    const out = execFileSync('vagrant', ['validate'], {
      cwd: join(import.meta.dirname, '..', '..'),
      encoding: 'utf8',
    });
    expect(out).toContain('Vagrantfile validated successfully');
  });
});
