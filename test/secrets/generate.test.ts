import { describe, expect, it } from 'vitest';
import { URL_SAFE_ALPHABET, generateSecret } from '../../src/secrets/generate.js';

describe('generateSecret', () => {
  it('gives 32 URL-safe characters, different every time', () => {
    const values = Array.from({ length: 200 }, () => generateSecret().reveal());
    for (const value of values) expect(value).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(new Set(values).size).toBe(200);
    expect(URL_SAFE_ALPHABET).toHaveLength(64);
  });

  it('throws away bytes that would bias the draw', () => {
    // 3 symbols: bytes 0..254 map evenly (85 each); 255 must be skipped, not folded onto 'a'.
    const bytes = [255, 0, 255, 1, 2, 255, 3];
    let at = 0;
    const random = (size: number): Uint8Array =>
      Uint8Array.from({ length: size }, () => bytes[at++ % bytes.length] ?? 0);
    expect(generateSecret(4, 'abc', random).reveal()).toBe('abca');
  });

  it('draws every character equally often', () => {
    // 10 symbols: 256 % 10 = 6, so folding every byte would favour a-f (26/256 each instead of 25.6/256).
    let low = 0;
    const draws = 10_000 * 32;
    for (let i = 0; i < 10_000; i++)
      low += generateSecret(32, 'abcdefghij').reveal().replace(/[g-j]/g, '').length;
    // Unbiased: 0.6 * draws = 192,000 with a standard deviation of ~277; biased: ~195,000.
    expect(Math.abs(low - 0.6 * draws)).toBeLessThan(1500);
  });
});
