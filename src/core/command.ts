import { MASK, Secret } from './secret.js';

/** Text inserted into a command as it is, without quoting: operators, redirections, trusted fragments. */
export class Raw {
  constructor(readonly text: string) {}
}

export const raw = (text: string): Raw => new Raw(text);

type Part = string | Secret;
export type CommandValue = string | number | boolean | Secret | Raw | Command | readonly CommandValue[];

/**
 * A shell command as typed data. Built with the `sh` tagged template, which quotes every interpolated value, so
 * a path with a space or a quote cannot change the command. Secrets stay Secrets until the transport calls
 * `script()`; everything shown to a person uses `display()`.
 */
export class Command {
  readonly #parts: readonly Part[];

  constructor(parts: readonly Part[]) {
    this.#parts = parts;
  }

  /** The text the remote shell runs, with secrets revealed. Only the transport calls this. */
  script(): string {
    return this.#parts.map((p) => (typeof p === 'string' ? p : quote(p.reveal()))).join('');
  }

  /** The text shown in plans, logs and errors, with secrets masked. */
  display(): string {
    return this.#parts.map((p) => (typeof p === 'string' ? p : MASK)).join('');
  }

  toString(): string {
    return this.display();
  }

  /** Internal: the parts, for embedding one command in another. */
  get parts(): readonly Part[] {
    return this.#parts;
  }
}

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX shell quoting: safe words stay bare, anything else is single-quoted. */
export function quote(value: string): string {
  if (value !== '' && SAFE.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function partsOf(value: CommandValue): Part[] {
  if (value instanceof Raw) return [value.text];
  if (value instanceof Command) return [...value.parts];
  if (value instanceof Secret) return [value];
  if (Array.isArray(value)) {
    const out: Part[] = [];
    value.forEach((v: CommandValue, i: number) => {
      if (i > 0) out.push(' ');
      out.push(...partsOf(v));
    });
    return out;
  }
  return [quote(String(value))];
}

/** Tagged template: sh`install -d -m ${mode} ${path}`. Arrays become space-separated quoted words. */
export function sh(strings: TemplateStringsArray, ...values: CommandValue[]): Command {
  const parts: Part[] = [];
  strings.forEach((s, i) => {
    if (s) parts.push(s);
    if (i < values.length) parts.push(...partsOf(values[i] as CommandValue));
  });
  return new Command(merge(parts));
}

/** Joins commands with a separator such as ' && ' or '; '. */
export function join(commands: readonly Command[], separator: string): Command {
  const parts: Part[] = [];
  commands.forEach((c, i) => {
    if (i > 0) parts.push(separator);
    parts.push(...c.parts);
  });
  return new Command(merge(parts));
}

function merge(parts: Part[]): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if (typeof p === 'string' && typeof last === 'string') out[out.length - 1] = last + p;
    else out.push(p);
  }
  return out;
}
