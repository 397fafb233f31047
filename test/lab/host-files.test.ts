import { describe, expect, it } from 'vitest';
import {
  aptCacherConfig,
  aptProxy,
  aptSources,
  dpkgConfig,
  etcHosts,
  knownHosts,
} from '../../src/lab/host-files.js';
import { labLayout } from '../../src/lab/layout.js';
import { labHosts } from '../../src/lab/topology.js';

describe('files the lab writes', () => {
  it('names every lab host in /etc/hosts', () => {
    const text = etcHosts(labHosts(3));
    expect(text).toContain('10.231.0.11\tpg1\n');
    expect(text).toContain('10.231.0.13\tpg3\n');
    expect(text).toContain('127.0.0.1\tlocalhost\n');
    expect(text).not.toContain('127.0.1.1');
  });

  it('pins host keys in OpenSSH known_hosts format, by address, without the comment', () => {
    const [pg1, pg2] = labHosts(2);
    const text = knownHosts([
      { host: pg1!, publicKey: 'ssh-ed25519 AAAAC3NzaONE root@pg1\n' },
      { host: pg2!, publicKey: 'ssh-ed25519 AAAAC3NzaTWO root@pg2' },
    ]);
    expect(text).toBe('10.231.0.11 ssh-ed25519 AAAAC3NzaONE\n10.231.0.12 ssh-ed25519 AAAAC3NzaTWO\n');
  });

  it('points hosts at deb.debian.org main and updates, through the proxy on the bridge', () => {
    expect(aptSources('trixie')).toContain('deb http://deb.debian.org/debian trixie main\n');
    expect(aptSources('trixie')).toContain('deb http://deb.debian.org/debian trixie-updates main\n');
    expect(aptProxy()).toBe('Acquire::http::Proxy "http://10.231.0.1:3142";\n');
  });

  it('lets dpkg skip fsync and manual pages on a disposable host, and keeps /usr/share/doc (copyright files)', () => {
    const lines = dpkgConfig().split('\n');
    expect(lines).toContain('force-unsafe-io');
    expect(lines).toContain('path-exclude=/usr/share/man/*');
    expect(lines.some((l) => l.includes('/usr/share/doc'))).toBe(false);
  });

  it('binds the proxy to the bridge only and maps Debian mirrors to this machine’s mirror', () => {
    const layout = labLayout('/lab');
    const files = aptCacherConfig({
      cacheDir: layout.proxy.cache,
      logDir: layout.proxy.log,
      socketPath: layout.proxy.socket,
      debianMirror: 'http://mirror.example/debian',
    });
    expect(files['acng.conf']).toContain('BindAddress: 10.231.0.1\n');
    expect(files['acng.conf']).toContain('Port: 3142\n');
    expect(files['acng.conf']).toContain('CacheDir: /lab/apt-cacher-ng/cache\n');
    expect(files['acng.conf']).toContain('Remap-debrep: file:deb_mirror*.gz /debian ; file:backends_debian');
    expect(files.backends_debian).toBe('http://mirror.example/debian/\n');
  });
});
