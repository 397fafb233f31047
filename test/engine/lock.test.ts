import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { endRun, isStale, newHolder, startRun } from '../../src/engine/lock.js';

describe('host lock holders', () => {
  it('a run of this process is live while it runs, stale after', () => {
    const holder = newHolder();
    startRun(holder);
    expect(isStale(holder.text)).toBe(false);
    endRun(holder);
    expect(isStale(holder.text)).toBe(true);
  });

  it('a dead process on this controller is stale; a live one is not', () => {
    expect(isStale(`me@${hostname()} pid 2147483646 run abcd since x`)).toBe(true);
    expect(isStale(`me@${hostname()} pid 1 run abcd since x`)).toBe(false);
  });

  it('never judges a lock from another machine, or one it cannot read', () => {
    expect(isStale('alice@ops pid 4242 run abcd since 2026-11-25T10:00:00Z')).toBe(false);
    expect(isStale('garbage')).toBe(false);
  });
});
