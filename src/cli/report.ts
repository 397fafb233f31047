import { InputError, PgprovError } from '../core/errors.js';
import { where } from '../core/yaml-source.js';

/** Exit codes, stable for scripts. */
export const EXIT = {
  ok: 0,
  /** Bad input or usage: nothing was applied. */
  input: 1,
  /** One or more hosts failed. */
  failed: 2,
  /** A monitoring check found the cluster degraded. */
  degraded: 3,
  /** A monitoring check found the cluster unable to serve (no leader, no quorum, no virtual IP). */
  critical: 4,
  internal: 70,
  interrupted: 130,
} as const;

/** The one place errors become text. A PgprovError is the user's to fix; anything else is our bug. */
export function formatError(error: unknown): string {
  if (error instanceof InputError) {
    const lines = [`error[${error.code}]: ${error.message}`];
    for (const issue of error.issues) {
      lines.push(`  ${where(issue)}${issue.path ? ` (${issue.path})` : ''}: ${issue.message}`);
      if (issue.hint) lines.push(`    -> ${issue.hint}`);
    }
    if (error.hint) lines.push(`  hint: ${error.hint}`);
    lines.push('Nothing was applied.');
    return lines.join('\n');
  }
  if (error instanceof PgprovError) {
    return `error[${error.code}]: ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ''}`;
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return `internal error: this is a bug in pgprov, please report it with the output below\n${e.stack ?? e.message}`;
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof PgprovError) {
    if (error.code === 'E_INTERRUPTED') return EXIT.interrupted;
    // Work on a host failed part-way (a day-2 command): not the user's input.
    if (error.code === 'E_REMOTE' || error.code === 'E_CONNECT' || error.code === 'E_INCOMPLETE')
      return EXIT.failed;
    return EXIT.input;
  }
  return EXIT.internal;
}
