import { execFileSync } from 'node:child_process';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { join, quote, raw, sh } from '../../src/core/command.js';
import { Masker, Secret } from '../../src/core/secret.js';

const echo = (script: string) => execFileSync('sh', ['-c', script], { encoding: 'utf8' });

describe('commands as typed data', () => {
  it.each(["it's", 'a b', '$HOME', '`id`', 'x\ny', '', '-n', '*'])(
    'quotes %j so the shell sees it verbatim',
    (value) => {
      expect(echo(sh`printf %s ${value}`.script())).toBe(value);
    },
  );

  it('keeps safe words bare', () => {
    expect(quote('/etc/default/etcd')).toBe('/etc/default/etcd');
  });

  it('reveals secrets only in script(), masks them in display()', () => {
    const pw = new Secret("s3cr3t'pw");
    const cmd = sh`psql -c ${raw('"ALTER ROLE x PASSWORD')} ${pw}`;
    expect(cmd.display()).toBe('psql -c "ALTER ROLE x PASSWORD ********');
    expect(cmd.script()).toContain(`'s3cr3t'\\''pw'`);
    expect(String(cmd)).not.toContain('s3cr3t');
  });

  it('joins arrays as words and nests commands', () => {
    const inner = sh`apt-get install ${['a b', 'c']}`;
    expect(join([sh`set -e`, inner], '; ').display()).toBe("set -e; apt-get install 'a b' c");
  });

  it('a Secret never prints', () => {
    const s = new Secret('hunter22');
    expect(`${s}`).toBe('********');
    expect(JSON.stringify({ s })).toBe('{"s":"********"}');
    expect(inspect(s)).not.toContain('hunter22');
    expect(new Masker().collect({ deep: [s] }).mask('pw=hunter22;')).toBe('pw=********;');
  });
});
