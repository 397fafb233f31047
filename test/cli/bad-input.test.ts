import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'pgprov-cli-'));
const inventory = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

const good = `all:
  hosts:
    pg1: { ansible_host: 10.231.0.11 }
  children:
    etcd_cluster:
      hosts:
        pg1:
`;

describe('bad input: a clear message, a non-zero exit, nothing applied', () => {
  it('malformed YAML names the file and line', async () => {
    const file = inventory('broken.yaml', 'all:\n  hosts:\n    pg1: { ansible_host: 10.0.0.1\n  vars: {}\n');
    const r = await runCli('apply', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${file}:3:\\d+`));
    expect(r.stderr).toContain('Nothing was applied.');
  });

  it('a schema error names the YAML path and line and says what to do', async () => {
    const file = inventory('schema.yaml', good.replace('10.231.0.11 }', '10.231.0.11, ansible_port: "22" }'));
    const r = await runCli('apply', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:3:`);
    expect(r.stderr).toContain('all.hosts.pg1.ansible_port');
    expect(r.stderr).toMatch(/must be an integer/);
  });

  it('an even etcd member count is refused', async () => {
    const file = inventory(
      'even.yaml',
      `all:\n  hosts:\n    pg1: { ansible_host: 10.231.0.11 }\n    pg2: { ansible_host: 10.231.0.12 }\n  children:\n    etcd_cluster:\n      hosts: { pg1: , pg2: }\n`,
    );
    const r = await runCli('apply', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/odd/);
  });

  it('an unknown tag lists the known ones', async () => {
    const r = await runCli('apply', inventory('tags.yaml', good), '--tags', 'etdc');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[E_USAGE]: unknown tag: etdc');
    expect(r.stderr).toContain('known tags: certificates, etcd');
    expect(existsSync(join(dir, '.pgprov', 'tags'))).toBe(false); // not even local state was written
  });

  it('a missing inventory file says so', async () => {
    const r = await runCli('apply', join(dir, 'nope.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nope\.yaml/);
  });

  it('a bad -e value is reported against the command line', async () => {
    const r = await runCli('apply', inventory('e.yaml', good), '-e', 'novalue');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('<command line>');
  });

  it('--help teaches with examples', async () => {
    const r = await runCli('apply', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('pgprov apply inventory/lab.yaml --check --diff');
  });
});
