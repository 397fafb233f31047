import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GatheredFacts, request } from '../../src/facts/fact.js';
import { fileFact } from '../../src/facts/file.js';
import { buildProbe, parseProbe } from '../../src/facts/probe.js';
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
