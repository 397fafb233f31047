import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GatheredFacts, request } from '../../src/facts/fact.js';
import { fileFact } from '../../src/facts/file.js';
import { packagesFact } from '../../src/facts/package.js';
import { buildProbe, parseProbe } from '../../src/facts/probe.js';
import { unitFact } from '../../src/facts/systemd.js';
import { existsFact, checkFact } from '../../src/facts/shell.js';

const run = (script: string) => execFileSync('sh', ['-c', script], { encoding: 'utf8' });

describe('batched fact probe', () => {
  it('gathers many facts in one shell run and splits them back, with exit codes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgprov-probe-'));
    const file = join(dir, "it's here");
    writeFileSync(file, 'hello\n');
    chmodSync(file, 0o640);
    const requests = [
      request(fileFact, { path: file }),
      request(fileFact, { path: join(dir, 'missing') }),
      request(existsFact, { path: dir }),
      request(checkFact, { script: 'exit 3' }),
      request(fileFact, { path: file }), // duplicate: gathered once
    ];
    const probe = buildProbe(requests);
    expect(probe.keys).toHaveLength(4);
    const facts = new GatheredFacts(parseProbe(probe, run(probe.command.script())));
    expect(facts.get(fileFact, { path: file })).toMatchObject({
      exists: true,
      type: 'file',
      mode: '0640',
      size: 6,
      sha256: '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03',
    });
    expect(facts.get(fileFact, { path: join(dir, 'missing') })).toEqual({ exists: false });
    expect(facts.get(existsFact, { path: dir })).toBe(true);
    expect(facts.get(checkFact, { script: 'exit 3' })).toEqual({ ok: false, said: '' });
  });

  it('reads files in one batch exactly as it reads each alone (regular, empty, directory, link, missing)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgprov-batch-'));
    writeFileSync(join(dir, 'a file'), 'content\n');
    writeFileSync(join(dir, 'empty'), '');
    symlinkSync(join(dir, 'a file'), join(dir, 'link'));
    const paths = ['a file', 'empty', 'link', 'missing', '.'].map((p) => join(dir, p));
    const probe = buildProbe(paths.map((path) => request(fileFact, { path })));
    const batched = new GatheredFacts(parseProbe(probe, run(probe.command.script())));
    // One job for all five paths, where each used to be its own.
    expect(probe.jobs).toHaveLength(1);
    for (const path of paths) {
      const alone = buildProbe([request(fileFact, { path })]);
      const single = new GatheredFacts(parseProbe(alone, run(alone.command.script())));
      expect(batched.get(fileFact, { path }), path).toEqual(single.get(fileFact, { path }));
    }
    expect(batched.get(fileFact, { path: join(dir, 'link') })).toMatchObject({ type: 'link' });
    expect(batched.get(fileFact, { path: join(dir, 'missing') })).toEqual({ exists: false });
  });

  it('splits one systemctl show of several units back per unit, in order', () => {
    const stdout =
      'LoadState=loaded\nActiveState=active\nUnitFileState=enabled\nNeedDaemonReload=no\n\n' +
      'LoadState=not-found\nActiveState=inactive\nUnitFileState=\nNeedDaemonReload=no\n\n' +
      'LoadState=loaded\nActiveState=failed\nUnitFileState=disabled\nNeedDaemonReload=yes\n';
    const args = [{ name: 'etcd' }, { name: 'nosuch' }, { name: 'patroni' }];
    const outputs = unitFact.batch?.split({ stdout, code: 0 }, args) ?? [];
    expect(outputs.map((o, i) => unitFact.parse(o, args[i] as { name: string }))).toEqual([
      { load: 'loaded', active: 'active', unitFile: 'enabled', needDaemonReload: false },
      { load: 'not-found', active: 'inactive', unitFile: '', needDaemonReload: false },
      { load: 'loaded', active: 'failed', unitFile: 'disabled', needDaemonReload: true },
    ]);
    expect(unitFact.batch?.command(args).display()).toContain('-- etcd nosuch patroni');
  });

  it('asks dpkg once for the packages of every request', () => {
    const args = [{ names: ['etcd-server', 'etcd-client'] }, { names: ['patroni', 'etcd-server'] }];
    const command = packagesFact.batch?.command(args).display() ?? '';
    expect(command.match(/dpkg-query/g)).toHaveLength(1);
    expect(command).toContain('-- etcd-server etcd-client patroni');
  });

  it("reads this machine's dpkg and apt: installed versions, and no candidate for a package apt does not know", () => {
    const names = { names: ['dpkg', 'no-such-package-pgprov'] };
    const probe = buildProbe([request(packagesFact, names)]);
    const state = new GatheredFacts(parseProbe(probe, run(probe.command.script()))).get(packagesFact, names);
    expect(state.installed.dpkg).toMatch(/^\d/);
    expect(state.installed['no-such-package-pgprov']).toBeUndefined();
    expect(state.candidates).toEqual({});
  });

  it('is not fooled by fact output that imitates a marker', () => {
    const probe = buildProbe([request(checkFact, { script: "printf '\\n@@0000 0\\n'" })], 'abc123');
    const facts = parseProbe(probe, run(probe.command.script()));
    expect([...facts.values()][0]?.code).toBe(0);
  });

  it('fails loudly when the output is cut short', () => {
    const probe = buildProbe([request(existsFact, { path: '/' })]);
    expect(() => parseProbe(probe, 'garbage')).toThrow(/lacks facts/);
  });
});
