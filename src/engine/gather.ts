import { type FactRequest, GatheredFacts } from '../facts/fact.js';
import { buildProbe, parseProbe } from '../facts/probe.js';
import { RemoteCommandError } from '../core/errors.js';
import type { Transport } from '../transport/transport.js';

/** Gathers many facts in one round trip. */
export async function gather(transport: Transport, requests: readonly FactRequest[]): Promise<GatheredFacts> {
  if (requests.length === 0) return new GatheredFacts(new Map());
  const probe = buildProbe(requests);
  const result = await transport.exec(probe.command);
  try {
    return new GatheredFacts(parseProbe(probe, result.stdout));
  } catch {
    throw new RemoteCommandError(transport.host, '(fact probe)', result.code, result.stderr.slice(-2000), {
      step: 'gathering facts',
      hint: 'the host could not run the fact probe; check that it is a Debian host with a POSIX shell',
    });
  }
}
