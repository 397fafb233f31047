import { type FactRequest, GatheredFacts } from '../facts/fact.js';
import { buildProbe, parseProbe } from '../facts/probe.js';
import { type Command, join } from '../core/command.js';
import { RemoteCommandError } from '../core/errors.js';
import type { Transport } from '../transport/transport.js';

/** Gathers many facts in one round trip. */
export async function gather(transport: Transport, requests: readonly FactRequest[]): Promise<GatheredFacts> {
  return (await gatherAfter(transport, undefined, requests)).facts;
}

/**
 * Gathers facts in the same round trip as another command that runs first (taking the host lock), and returns
 * that command's first output line too.
 */
export async function gatherAfter(
  transport: Transport,
  before: Command | undefined,
  requests: readonly FactRequest[],
): Promise<{ facts: GatheredFacts; firstLine: string }> {
  if (requests.length === 0 && !before) return { facts: new GatheredFacts(new Map()), firstLine: '' };
  const probe = buildProbe(requests);
  const result = await transport.exec(before ? join([before, probe.command], '\n') : probe.command);
  const firstLine = result.stdout.split('\n', 1)[0] ?? '';
  try {
    return { facts: new GatheredFacts(parseProbe(probe, result.stdout)), firstLine };
  } catch {
    throw new RemoteCommandError(transport.host, '(fact probe)', result.code, result.stderr.slice(-2000), {
      step: 'gathering facts',
      hint: 'the host could not run the fact probe; check that it is a Debian host with a POSIX shell',
    });
  }
}
