import { type FactRequest, GatheredFacts, request, requestKey, type Fact } from '../../src/facts/fact.js';
import { Masker } from '../../src/core/secret.js';
import type { OpEnv } from '../../src/ops/operation.js';

/** Facts as recorded from a real host: each fact with the raw output its command printed. */
export function recorded(...entries: [Fact<never, unknown>, unknown, string, number?][]): GatheredFacts {
  const outputs = new Map(
    entries.map(([fact, args, stdout, code]) => [
      requestKey(request(fact as Fact<unknown, unknown>, args) as FactRequest),
      { stdout, code: code ?? 0 },
    ]),
  );
  return new GatheredFacts(outputs);
}

export const env = (overrides: Partial<OpEnv> = {}): OpEnv => ({
  host: 'pg1',
  diff: false,
  masker: new Masker(),
  ...overrides,
});
