import type { Command } from '../core/command.js';

/** What a fact's command printed. Facts are read-only: they never change a host. */
export interface FactOutput {
  stdout: string;
  /** Exit status of the fact's command (facts use it: `test -e` is a fact). */
  code: number;
}

/**
 * A fact reads one thing from a host: a read-only command plus a pure parser, so every parser is tested on
 * recorded output without SSH.
 */
export interface Fact<A, T> {
  readonly name: string;
  /** Identity of this fact for these arguments, used to batch and de-duplicate requests. */
  key(args: A): string;
  command(args: A): Command;
  parse(output: FactOutput, args: A): T;
  /**
   * Optional: reads several requests of this fact with one command, where one process per request would cost
   * most of a probe on a busy host (a stat and a sha256sum per file, a systemctl per unit). `split` hands each
   * request the output its own command would have printed, so `parse` stays the same.
   */
  batch?: {
    command(args: readonly A[]): Command;
    split(output: FactOutput, args: readonly A[]): FactOutput[];
  };
}

export const defineFact = <A, T>(fact: Fact<A, T>): Fact<A, T> => fact;

/** A fact with its arguments: what an operation asks for before it plans. */
export interface FactRequest<A = unknown, T = unknown> {
  fact: Fact<A, T>;
  args: A;
}

export const request = <A, T>(fact: Fact<A, T>, args: A): FactRequest<A, T> => ({ fact, args });

export const requestKey = (r: FactRequest): string => `${r.fact.name}:${r.fact.key(r.args)}`;

/** Gathered facts for one host, read by operations while they plan. */
export interface Facts {
  get<A, T>(fact: Fact<A, T>, args: A): T;
}

/** Facts from a map of raw outputs (what a probe returned), parsed on first read. */
export class GatheredFacts implements Facts {
  readonly #outputs: Map<string, FactOutput>;
  readonly #parsed = new Map<string, unknown>();

  constructor(outputs: Map<string, FactOutput>) {
    this.#outputs = outputs;
  }

  has(r: FactRequest): boolean {
    return this.#outputs.has(requestKey(r));
  }

  get<A, T>(fact: Fact<A, T>, args: A): T {
    const key = requestKey({ fact, args } as FactRequest);
    if (this.#parsed.has(key)) return this.#parsed.get(key) as T;
    const output = this.#outputs.get(key);
    if (!output) throw new Error(`internal: fact ${key} was read without being gathered`);
    const value = fact.parse(output, args);
    this.#parsed.set(key, value);
    return value;
  }
}
