import { describe, expect, it } from 'vitest';
import { evaluateWhen, lookupIn } from '../../src/roles/when.js';

const vars = { a: true, n: 15, codename: 'bookworm', list: ['x', 'y'], nested: { on: false }, empty: '' };
const when = (e: string) => evaluateWhen(e, lookupIn(vars));

describe('when conditions', () => {
  it.each([
    ['a', true],
    ['not a', false],
    ['a and n == 15', true],
    ["codename == 'trixie' or n >= 15", true],
    ["codename in ['bookworm', 'trixie']", true],
    ["'z' not in list", true],
    ['nested.on', false],
    ['missing is defined', false],
    ['missing is not defined', true],
    ['(a or nested.on) and not empty', true],
    ['n < 10', false],
  ])('%s -> %s', (expression, expected) => {
    expect(when(expression)).toBe(expected);
  });

  it('short-circuits: the right side of a decided and/or is not evaluated', () => {
    expect(when('missing is defined and missing')).toBe(false);
    expect(when('a or missing')).toBe(true);
    expect(when("missing is defined and 'x' in missing")).toBe(false);
    expect(() => when('a and missing')).toThrow("variable 'missing' is not defined");
  });

  it('names an undefined variable', () => {
    expect(() => when('missing')).toThrow(
      "variable 'missing' is not defined (use 'missing is defined' to test)",
    );
  });

  it('rejects bad syntax', () => {
    expect(() => when('a and')).toThrow('unexpected end of condition');
    expect(() => when('a ; b')).toThrow("unexpected ';'");
  });
});
