import { describe, expect, it } from 'vitest';
import { labLayout } from '../../src/lab/layout.js';
import { bootCommand } from '../../src/lab/machine.js';
import { parseMountInfo } from '../../src/lab/mounts.js';
import { parseStat } from '../../src/lab/processes.js';
import { inotifyInstancesFor } from '../../src/lab/sysctl.js';
import { labHost } from '../../src/lab/topology.js';

describe('reading this machine', () => {
  it('parses mountinfo, decoding escaped spaces, with overlay options', () => {
    const mounts = parseMountInfo(
      [
        '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
        '95 22 0:40 / /var/lib/pgprov/lab/hosts/pg1/root rw,relatime shared:50 - overlay overlay rw,lowerdir=/var/lib/pgprov/lab/images/bookworm,upperdir=/u,workdir=/w',
        '96 22 0:41 / /mnt/with\\040space rw - tmpfs tmpfs rw',
      ].join('\n'),
    );
    expect(mounts[1]).toEqual({
      mountPoint: '/var/lib/pgprov/lab/hosts/pg1/root',
      fsType: 'overlay',
      superOptions: 'rw,lowerdir=/var/lib/pgprov/lab/images/bookworm,upperdir=/u,workdir=/w',
    });
    expect(mounts[2]?.mountPoint).toBe('/mnt/with space');
  });

  it('parses /proc/<pid>/stat even when the command name has spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = 'S';
    fields[1] = '77';
    fields[19] = '123456';
    expect(parseStat(`4242 (a) b (c)) ${fields.join(' ')}`)).toEqual({
      state: 'S',
      ppid: 77,
      startTime: 123456,
    });
    expect(parseStat('garbage')).toBeUndefined();
  });

  it('raises inotify instances with the host count, never below 1024', () => {
    expect(inotifyInstancesFor(3)).toBe(1024);
    expect(inotifyInstancesFor(89)).toBeGreaterThanOrEqual(89 * 10 + 128);
  });

  it('boots a host with nspawn in its netns and cgroups, with CAP_NET_ADMIN for VIPs', () => {
    const command = bootCommand(labLayout('/lab'), labHost(2), [
      '/sys/fs/cgroup/memory/pgprov-lab/pg2/cgroup.procs',
    ]);
    const script = command.script();
    expect(script).toMatch(
      /^set -e; for f in \/sys\/fs\/cgroup\/memory\/pgprov-lab\/pg2\/cgroup.procs; do echo \$\$ > "\$f"; done && exec systemd-nspawn /,
    );
    for (const flag of [
      '--register=no',
      '--keep-unit',
      '--boot',
      '--directory=/lab/hosts/pg2/root',
      '--machine=pg2',
      '--network-namespace-path=/run/netns/pgprov-pg2',
      '--capability=CAP_NET_ADMIN,CAP_IPC_LOCK',
    ]) {
      expect(script).toContain(` ${flag}`);
    }
  });
});
