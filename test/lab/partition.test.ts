import { describe, expect, it } from 'vitest';
import { linkIsUp } from '../../src/lab/partition.js';

describe('a lab host’s link on the bridge', () => {
  it('is up when UP is among its flags, even without a carrier; down otherwise', () => {
    const line = (flags: string, state: string) =>
      `330: pgpv-pg1@if2: <${flags}> mtu 1500 qdisc noqueue master pgprov0 state ${state} mode DEFAULT group default qlen 1000\\    link/ether 46:38:0d:3d:3a:5a brd ff:ff:ff:ff:ff:ff link-netns pgprov-pg1`;
    expect(linkIsUp(line('BROADCAST,MULTICAST,UP,LOWER_UP', 'UP'))).toBe(true);
    expect(linkIsUp(line('NO-CARRIER,BROADCAST,MULTICAST,UP', 'LOWERLAYERDOWN'))).toBe(true);
    expect(linkIsUp(line('BROADCAST,MULTICAST', 'DOWN'))).toBe(false);
    // "UP" elsewhere in the line (the state, a name) does not count.
    expect(linkIsUp(line('BROADCAST,MULTICAST', 'UP'))).toBe(false);
  });
});
