import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/core/secret.js';
import { renderTemplate, resolveVarReferences, TemplateError } from '../../src/roles/render.js';

describe('templates', () => {
  it('renders without HTML escaping', () => {
    expect(renderTemplate('t1', 'a={{v}}', { v: '<x & "y">' })).toBe('a=<x & "y">');
  });

  it('is strict: a missing variable is an error with its line', () => {
    try {
      renderTemplate('t2', 'line one\nvalue={{missing_var}}\n', {});
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TemplateError);
      expect((e as TemplateError).message).toBe("variable 'missing_var' is not defined");
      expect((e as TemplateError).line).toBe(2);
    }
  });

  it('is strict inside block helpers too: {{#each missing}} is an error, not an empty loop', () => {
    expect(() => renderTemplate('t5', 'a\n{{#each hosts}}x{{/each}}', {})).toThrow(
      'a variable given to {{#each}} is not defined',
    );
    expect(() => renderTemplate('t6', '{{#if flag}}x{{/if}}', {})).toThrow(TemplateError);
    expect(() => renderTemplate('t6b', 'x: {{json nope}}', {})).toThrow(
      'a variable given to {{json}} is not defined',
    );
    expect(
      renderTemplate('t7', '{{#if flag}}x{{/if}}{{#each l}}{{this}}{{/each}}', { flag: false, l: [1, 2] }),
    ).toBe('12');
    try {
      renderTemplate('t8', 'a\nb\n{{#each hosts}}x{{/each}}', {});
    } catch (e) {
      expect((e as TemplateError).line).toBe(3);
    }
  });

  it('has `or` for conditions on several variables, strict about each', () => {
    const t = '{{#if (or a b)}}yes{{else}}no{{/if}}';
    expect(renderTemplate('t9', t, { a: false, b: true })).toBe('yes');
    expect(renderTemplate('t9', t, { a: false, b: 0 })).toBe('no');
    expect(() => renderTemplate('t9', t, { a: true })).toThrow(TemplateError);
  });

  it('reports syntax errors with their line', () => {
    expect(() => renderTemplate('t3', 'ok\n{{#each x}}\n', { x: [] })).toThrow(TemplateError);
  });

  it('reveals secrets into the rendered file (the caller masks output)', () => {
    expect(renderTemplate('t4', 'pw={{pw}}', { pw: new Secret('abcd1234') })).toBe('pw=abcd1234');
  });

  it('resolves variables that refer to variables, and names a cycle', () => {
    expect(resolveVarReferences({ a: '{{b}}/x', b: '{{c}}', c: 'root' })).toMatchObject({
      a: 'root/x',
      b: 'root',
    });
    expect(() => resolveVarReferences({ a: '{{b}}', b: '{{a}}x' })).toThrow(/cycle/);
    // A condition on a variable that is a template itself is decided on its value, not on its text.
    expect(
      resolveVarReferences({
        a: '{{#if b}}b is set{{else}}b is empty{{/if}}',
        b: '{{#if c}}yes{{/if}}',
        c: false,
      }),
    ).toMatchObject({ a: 'b is empty', b: '' });
    expect(() => resolveVarReferences({ a: '{{nope}}' })).toThrow(
      "in variable 'a': variable 'nope' is not defined",
    );
  });
});
