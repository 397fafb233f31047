import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../src/roles/load.js';
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
    // The phases it lists are roles/site.yaml's, in its order.
    const listed = /Phases, in order \(each is a tag\): ([^(]*)/.exec(r.stdout.replace(/\s+/g, ' '))?.[1];
    const names = (await loadProject()).phases.map((p) => p.name);
    expect(
      listed
        ?.replace(/ and /, ', ')
        .split(/, /)
        .map((x) => x.trim()),
    ).toEqual(names);
  });
});

describe('day-2 commands: bad input is refused before any host is contacted', () => {
  it('restore needs exactly one target, and a time with its zone', async () => {
    const file = inventory('day2.yaml', good);
    const none = await runCli('restore', file);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('exactly one of --to TIME, --latest or --backup LABEL');
    const zoneless = await runCli('restore', file, '--to', '2026-11-23 14:30:00');
    expect(zoneless.code).toBe(1);
    expect(zoneless.stderr).toContain("--to '2026-11-23 14:30:00' has no time zone");
  });

  it('a duration that is not one, an unknown backup type, a missing inventory', async () => {
    const file = inventory('day2b.yaml', good);
    expect((await runCli('status', file, '--cert-warn', 'soon')).stderr).toContain(
      '--cert-warn takes a duration like 30d, 26h, 90m or 45s',
    );
    const type = await runCli('backup', file, '--type', 'weekly');
    expect(type.code).toBe(1);
    expect(type.stderr).toMatch(/Allowed choices are full, diff, incr/);
    const missing = await runCli('status', join(dir, 'nope.yaml'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read the inventory');
  });

  it('an inventory this state folder never deployed: no new passwords are made up, the message says why', async () => {
    const file = inventory('day2c.yaml', good);
    const r = await runCli('reinit', file, 'pg1', '--yes');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[E_ENV\]: no value for .*_password/);
    expect(r.stderr).toContain('this state folder did not deploy the cluster');
    expect(existsSync(join(dir, '.pgprov', 'day2c', 'secrets.yaml'))).toBe(false);
  });
});
