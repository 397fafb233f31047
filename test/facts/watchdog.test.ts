import { describe, expect, it } from 'vitest';
import { watchdogFact, watchdogMissing } from '../../src/facts/watchdog.js';

const parse = (stdout: string) => watchdogFact.parse({ stdout, code: 0 }, {});

describe('the watchdog Patroni can arm', () => {
  it('is usable when /dev/watchdog exists and belongs to postgres', () => {
    const w = parse('device postgres\nnone\n');
    expect(w).toEqual({ device: true, owner: 'postgres' });
    expect(watchdogMissing(w)).toBeUndefined();
  });

  it('says why not: the wrong owner, a container, or no device at all', () => {
    expect(watchdogMissing(parse('device root\nnone\n'))).toBe('/dev/watchdog belongs to root, not postgres');
    expect(parse('none\nsystemd-nspawn\n')).toEqual({ device: false, container: 'systemd-nspawn' });
    expect(watchdogMissing(parse('none\nsystemd-nspawn\n'))).toBe(
      'a systemd-nspawn container has no /dev/watchdog',
    );
    expect(watchdogMissing(parse('none\nnone\n'))).toMatch(/^no \/dev\/watchdog \(no hardware watchdog/);
  });
});
