import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import {
  BRIDGE_ADDRESS,
  checkSuite,
  labHost,
  labHostNamed,
  labHosts,
  MAX_HOST_COUNT,
  VIRTUAL_IP,
} from '../../src/lab/topology.js';

describe('lab topology', () => {
  it('places pg1..pg3 at .11-.13 by default, each with its own namespace and veth', () => {
    expect(labHosts()).toEqual([
      {
        name: 'pg1',
        index: 1,
        address: '10.231.0.11',
        cidr: '10.231.0.11/24',
        netns: 'pgprov-pg1',
        veth: 'pgpv-pg1',
        ifname: 'eth0',
      },
      expect.objectContaining({ name: 'pg2', address: '10.231.0.12', netns: 'pgprov-pg2', veth: 'pgpv-pg2' }),
      expect.objectContaining({ name: 'pg3', address: '10.231.0.13', netns: 'pgprov-pg3', veth: 'pgpv-pg3' }),
    ]);
  });

  it('keeps the bridge, the virtual IP, .2-.10 and .100 and above free of hosts', () => {
    const addresses = labHosts(MAX_HOST_COUNT).map((h) => Number(h.address.split('.')[3]));
    expect(Math.min(...addresses)).toBe(11);
    expect(Math.max(...addresses)).toBe(99);
    expect(new Set(addresses).size).toBe(MAX_HOST_COUNT);
    expect(addresses).not.toContain(Number(VIRTUAL_IP.split('.')[3]));
    expect(addresses).not.toContain(Number(BRIDGE_ADDRESS.split('.')[3]));
  });

  it('keeps interface names within the kernel limit of 15 characters', () => {
    for (const h of labHosts(MAX_HOST_COUNT)) {
      expect(h.veth.length).toBeLessThanOrEqual(15);
    }
  });

  it('refuses host counts outside 1..89 with a hint', () => {
    for (const n of [0, -1, 1.5, MAX_HOST_COUNT + 1, NaN]) {
      expect(() => labHosts(n)).toThrow(UsageError);
    }
    const error = (() => {
      try {
        labHosts(90);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).hint).toMatch(/between 1 and 89/);
  });

  it('finds hosts by name and refuses names that are not lab hosts', () => {
    expect(labHostNamed('pg7')).toEqual(labHost(7));
    for (const name of ['pg0', 'pg01', 'pg90', 'db1', 'pg', 'PG1', 'pg1 ']) {
      expect(() => labHostNamed(name)).toThrow(UsageError);
    }
  });

  it('accepts Debian codenames as suites (the image cache key) and nothing path-like', () => {
    expect(checkSuite('bookworm')).toBe('bookworm');
    expect(checkSuite('trixie')).toBe('trixie');
    for (const bad of ['', '../etc', 'Bookworm', 'bookworm/x', 'a']) {
      expect(() => checkSuite(bad)).toThrow(UsageError);
    }
  });
});
