import { describe, expect, it } from 'vitest';
import { parseSource } from '../../src/inventory/source.js';
import { FILE, issues, show, yaml } from './helpers.js';

describe('stage 1: YAML syntax', () => {
  it('names the file, line and column of a syntax error, in the message too', () => {
    const found = issues(yaml`
      all:
        hosts:
          pg1:
            ansible_host: "10.0.0.11
          pg2:
    `);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ file: FILE, line: 4, column: 21 });
    expect(found[0]?.message).toBe('YAML syntax error at line 4, column 21: Missing closing "quote');
    expect(found[0]?.hint).toBe('close the " opened here');
  });

  it('reports a key given twice in one map, with a hint that a host may be in several groups', () => {
    const [issue, ...rest] = issues(yaml`
      all:
        hosts:
          pg1:
          pg1:
    `);
    expect(rest).toEqual([]);
    expect(show(issue!)).toBe(
      `${FILE}:4:5: YAML syntax error at line 4, column 5: "pg1" appears twice in the same map (first at line 3) ` +
        '(remove or rename one of them (a host may be listed in several groups, but once per group))',
    );
  });

  it('reports tabs used for indentation', () => {
    const [issue] = issues('all:\n\thosts:\n');
    expect(issue?.line).toBe(2);
    expect(issue?.hint).toBe('indent with spaces, not tabs');
  });

  it('reports a second document', () => {
    const [issue] = issues('all: {}\n---\nall: {}\n');
    expect(issue?.message).toContain('line 2');
    expect(issue?.hint).toContain('remove the extra `---`');
  });

  it('reports syntax errors of every file at once, group_vars included', () => {
    const found = issues('all:\n  hosts: [\n', {
      groupVars: { 'all.yaml': 'ansible_user: [deploy\n' },
      hostVars: { 'pg1.yaml': 'a: b: c\n' },
    });
    expect(found.map((i) => `${i.file.replace(/.*inventory\//, '')}:${i.line}`)).toEqual([
      'group_vars/all.yaml:1',
      'host_vars/pg1.yaml:1',
      'test.yaml:2',
    ]);
  });

  it('accepts merge keys and anchors, as Ansible inventories use them', () => {
    const parsed = parseSource(FILE, 'x: &base {a: 1}\ny:\n  <<: *base\n  b: 2\n');
    expect(parsed.ok && parsed.value.value).toEqual({ x: { a: 1 }, y: { a: 1, b: 2 } });
  });
});

describe('locating a YAML path', () => {
  const parsed = parseSource(
    FILE,
    yaml`
    all:
      hosts:
        10.0.0.1:
          ansible_port: 2222
        pg2:
  `,
  );
  if (!parsed.ok) throw new Error('fixture');
  const source = parsed.value;

  it('points at a value, or at its key', () => {
    expect(source.locate(['all', 'hosts', '10.0.0.1', 'ansible_port'])).toEqual({
      file: FILE,
      line: 4,
      column: 21,
      path: 'all.hosts["10.0.0.1"].ansible_port',
    });
    expect(source.locate(['all', 'hosts', '10.0.0.1', 'ansible_port'], 'key')).toMatchObject({
      line: 4,
      column: 7,
    });
  });

  it('points at the key of an empty entry, and at the deepest existing part of a missing path', () => {
    expect(source.locate(['all', 'hosts', 'pg2'])).toMatchObject({ line: 5, column: 5 });
    expect(source.locate(['all', 'hosts', 'pg2', 'nothing'])).toMatchObject({ line: 5, column: 5 });
  });
});
