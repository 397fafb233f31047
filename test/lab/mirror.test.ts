import { describe, expect, it } from 'vitest';
import { debianMirrorIn } from '../../src/lab/mirror.js';

describe("this machine's Debian mirror", () => {
  it('reads deb822 sources, skipping debian-security and third-party repositories', () => {
    const files = [
      {
        name: '/etc/apt/sources.list.d/nodesource.sources',
        text: 'Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\n',
      },
      {
        name: '/etc/apt/sources.list.d/debian.sources',
        text: [
          'Types: deb',
          '# http://snapshot.debian.org/archive/debian/20250520T000000Z',
          'URIs: http://deb.debian.org/debian',
          'Suites: bookworm bookworm-updates',
          'Components: main',
          '',
          'Types: deb',
          'URIs: http://deb.debian.org/debian-security',
          'Suites: bookworm-security',
        ].join('\n'),
      },
    ];
    expect(debianMirrorIn(files)).toBe('http://deb.debian.org/debian');
  });

  it('reads one-line sources, with options and comments, and skips deb-src and disabled stanzas', () => {
    expect(
      debianMirrorIn([
        {
          name: '/etc/apt/sources.list',
          text: [
            '# deb http://commented.example/debian bookworm main',
            'deb-src http://src.example/debian bookworm main',
            'deb [arch=amd64 signed-by=/k.gpg] http://ftp.fr.debian.org/debian/ bookworm main',
          ].join('\n'),
        },
      ]),
    ).toBe('http://ftp.fr.debian.org/debian');
    expect(
      debianMirrorIn([
        {
          name: 'x.sources',
          text: 'Enabled: no\nTypes: deb\nURIs: http://off.example/debian\nSuites: bookworm\n',
        },
      ]),
    ).toBeUndefined();
  });

  it('finds nothing in sources that name no Debian archive', () => {
    expect(
      debianMirrorIn([{ name: 'sources.list', text: 'deb https://packages.cloud.google.com/apt x main\n' }]),
    ).toBe(undefined);
  });
});
