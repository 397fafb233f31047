import { describe, expect, it } from 'vitest';
import { describeSanDiff, diffSans, hostSans, normalizeIp, toSanSet } from '../../src/pki/sans.js';

describe('hostSans', () => {
  it('carries the name, the address and the local names, sorted and without duplicates', () => {
    expect(hostSans({ name: 'pg1', address: '10.0.0.1' })).toEqual({
      dnsNames: ['localhost', 'pg1'],
      ipAddresses: ['10.0.0.1', '127.0.0.1'],
    });
    expect(
      hostSans({ name: 'PG1', address: 'pg1.lab', extraNames: ['pg1', '127.0.0.1', 'fd00:0::1'] }),
    ).toEqual({
      dnsNames: ['localhost', 'pg1', 'pg1.lab'],
      ipAddresses: ['127.0.0.1', 'fd00::1'],
    });
  });
});

describe('normalizeIp', () => {
  it('gives one text per address', () => {
    expect(normalizeIp('FE80:0:0:0:0:0:1:2')).toBe('fe80::1:2');
    expect(normalizeIp('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(normalizeIp('10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeIp('pg1')).toBeUndefined();
    expect(normalizeIp('10.0.0.256')).toBeUndefined();
  });
});

describe('diffSans and describeSanDiff', () => {
  const before = toSanSet(['pg1', 'localhost', '10.0.0.1', '127.0.0.1']);

  it('finds no difference between equal sets', () => {
    expect(diffSans(before, toSanSet(['127.0.0.1', 'LOCALHOST', 'pg1', '10.0.0.1']))).toBeUndefined();
  });

  it.each([
    [['pg1', 'localhost', '10.0.0.5', '127.0.0.1'], 'address changed 10.0.0.1 -> 10.0.0.5'],
    [['pg1', 'localhost', '10.0.0.1', '10.1.0.1', '127.0.0.1'], 'address 10.1.0.1 added'],
    [['pg1', 'localhost'], 'addresses 10.0.0.1, 127.0.0.1 removed'],
    [['db1', 'localhost', '10.0.0.1', '127.0.0.1'], 'name changed pg1 -> db1'],
    [['pg1', 'a', 'b', 'localhost', '10.0.0.1', '127.0.0.1'], 'names a, b added'],
  ])('%j reads "%s"', (after, sentence) => {
    const diff = diffSans(before, toSanSet(after));
    expect(diff && describeSanDiff(diff)).toBe(sentence);
  });
});
