import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { parseExtraVarArgs, parseExtraVars, scalar } from '../../src/inventory/extra-vars.js';
import { show } from './helpers.js';

const files: Record<string, string> = {
  '/work/vars.yaml': 'patroni_ttl: 30\nansible_user: deploy\n',
  '/work/list.yaml': '- a\n',
  '/work/broken.yaml': 'a: [1\n',
  '/work/typed.yaml': 'ansible_port: "2222"\n',
};
const io = {
  cwd: '/work',
  readFile: (path: string): string => {
    const text = files[path];
    if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
    return text;
  },
};
const parse = (...args: string[]) => parseExtraVarArgs(args, io);
const problems = (...args: string[]): string[] => {
  const result = parse(...args);
  if (result.ok) return expect.fail('expected problems');
  return result.issues.map(show);
};

describe('extra vars (-e)', () => {
  it('types name=value as a YAML scalar', () => {
    expect(
      parse('port=5433', 'ratio=0.5', 'on=true', 'off=false', 'nothing=null', 'name=pg1', 'quoted="5433"'),
    ).toEqual({
      ok: true,
      value: { port: 5433, ratio: 0.5, on: true, off: false, nothing: null, name: 'pg1', quoted: '5433' },
    });
  });

  it('keeps the rest of the argument as text: spaces, =, #, lists and maps', () => {
    expect(scalar('-c shared_buffers=1GB')).toBe('-c shared_buffers=1GB');
    expect(scalar('a # b')).toBe('a # b');
    expect(scalar('#1')).toBe('#1');
    expect(scalar('[1, 2]')).toBe('[1, 2]');
    expect(scalar('a: b')).toBe('a: b');
    expect(scalar('')).toBe('');
    expect(scalar('yes')).toBe('yes'); // YAML 1.2, as in inventories
  });

  it('reads @file (relative to the current folder) and {...} maps, later arguments winning', () => {
    expect(parse('@vars.yaml', '{"patroni_ttl": 20, extra: [1]}', 'ssh_user=admin')).toEqual({
      ok: true,
      value: { patroni_ttl: 20, ansible_user: 'admin', ssh_user: 'admin', extra: [1] },
    });
  });

  it('reports every bad argument at once, with what to write', () => {
    expect(problems('novalue', '=x', 'bad-name=1', '@missing.yaml', '@list.yaml', '@broken.yaml')).toEqual([
      '/work/broken.yaml:1:4: YAML syntax error at line 1, column 4: ' +
        'Flow sequence in block collection must be sufficiently indented and end with a ] (close the [ opened here)',
      '/work/list.yaml:1:1: list.yaml must be a map (or empty), not a list (variables are a map of `name: value` pairs)',
      "/work/missing.yaml: -e @missing.yaml: cannot read /work/missing.yaml (ENOENT: no such file, open '/work/missing.yaml') " +
        '(check the path after @; it is relative to the current folder)',
      '<command line>: -e novalue: expected name=value (write -e name=value, -e @vars.yaml or -e \'{"name": value}\')',
      '<command line>: -e =x: "" is not a variable name (variable names are letters, digits and _, and start with a letter or _)',
      '<command line>: -e bad-name=1: "bad-name" is not a variable name (variable names are letters, digits and _, and start with a letter or _)',
    ]);
  });

  it("checks pgprov's variables against the schema", () => {
    expect(problems('ansible_port=ssh', '@typed.yaml')).toEqual([
      '/work/typed.yaml:1:15 ansible_port: ansible_port must be an integer, not the string "2222" ' +
        '(write the port as a number from 1 to 65535, without quotes)',
      '<command line> ansible_port: ansible_port must be an integer, not the string "ssh" ' +
        '(write the port as a number from 1 to 65535, without quotes)',
    ]);
  });

  it('parseExtraVars throws one InputError for the CLI', () => {
    expect(() => parseExtraVars(['x'], io)).toThrow(InputError);
    expect(() => parseExtraVars(['x', 'y'], io)).toThrow('2 problems in the extra vars (-e)');
    expect(parseExtraVars([], io)).toEqual({});
  });
});
