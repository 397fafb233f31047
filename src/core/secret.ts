import { inspect } from 'node:util';

export const MASK = '********';

/**
 * A value that must never be printed: passwords, passphrases, private keys. Its string forms are the mask;
 * only `reveal()` gives the value, and only the transport and the file writer call it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [inspect.custom](): string {
    return `Secret(${MASK})`;
  }
}

export function isSecret(value: unknown): value is Secret {
  return value instanceof Secret;
}

/**
 * Masks every known secret value in text: rendered configs, diffs, stderr. Values shorter than 4 characters are
 * not masked (they would mask unrelated text and cannot be secret anyway).
 */
export class Masker {
  readonly #values = new Set<string>();

  add(...secrets: (Secret | string)[]): this {
    for (const s of secrets) {
      const value = typeof s === 'string' ? s : s.reveal();
      if (value.length >= 4) this.#values.add(value);
    }
    return this;
  }

  /** Adds every Secret found anywhere inside a value (objects, arrays). */
  collect(value: unknown): this {
    if (isSecret(value)) this.add(value);
    else if (Array.isArray(value)) value.forEach((v) => this.collect(v));
    else if (value && typeof value === 'object') Object.values(value).forEach((v) => this.collect(v));
    return this;
  }

  mask(text: string): string {
    let out = text;
    // Longest first, so a secret containing another is masked whole.
    for (const value of [...this.#values].sort((a, b) => b.length - a.length)) {
      out = out.split(value).join(MASK);
    }
    return out;
  }
}
