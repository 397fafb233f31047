import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { supportedPlatform } from '../../src/engine/platform.js';
import { osReleaseFact, parseOsRelease } from '../../src/facts/platform.js';
import { loadProject } from '../../src/roles/load.js';
import type { Project } from '../../src/roles/model.js';

const recorded = (name: string) =>
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'recorded', name), 'utf8');

let project: Project;
beforeAll(async () => {
  project = await loadProject();
});

describe('a host release (os-release)', () => {
  it('reads Debian 12 and 13 as they ship it', () => {
    expect(parseOsRelease(recorded('os-release-bookworm'))).toEqual({
      id: 'debian',
      codename: 'bookworm',
      version: '12',
      prettyName: 'Debian GNU/Linux 12 (bookworm)',
    });
    expect(parseOsRelease(recorded('os-release-trixie'))).toMatchObject({
      codename: 'trixie',
      version: '13',
    });
  });

  it('unquotes values as a shell would and ignores comments and blank lines', () => {
    const text =
      '# a comment\n\nID=\'ubuntu\'\nVERSION_CODENAME=noble\nPRETTY_NAME="Ubuntu \\"24.04\\" LTS"\n';
    expect(parseOsRelease(text)).toEqual({
      id: 'ubuntu',
      codename: 'noble',
      version: '',
      prettyName: 'Ubuntu "24.04" LTS',
    });
  });

  it('says nothing was read when the file is missing or names no ID', () => {
    expect(osReleaseFact.parse({ stdout: '', code: 1 }, {})).toBeUndefined();
    expect(parseOsRelease('NAME=x\n')).toBeUndefined();
  });

  it('supports the releases of roles/platforms.yaml only, and says what a host runs otherwise', () => {
    const bookworm = parseOsRelease(recorded('os-release-bookworm'));
    expect(supportedPlatform(project, bookworm)).toEqual({
      platform: { codename: 'bookworm', name: 'Debian 12', version: '12' },
    });
    const sid = { id: 'debian', codename: '', version: '', prettyName: 'Debian GNU/Linux trixie/sid' };
    expect(supportedPlatform(project, sid)).toEqual({ unsupported: 'runs Debian GNU/Linux trixie/sid' });
    const ubuntu = { id: 'ubuntu', codename: 'trixie', version: '24.04', prettyName: 'Ubuntu 24.04' };
    expect(supportedPlatform(project, ubuntu)).toEqual({ unsupported: 'runs Ubuntu 24.04' });
    expect(supportedPlatform(project, undefined)).toEqual({ unsupported: 'has no readable /etc/os-release' });
  });
});
