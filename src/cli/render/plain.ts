import type { EventSink, Recap, RunEvent } from '../../core/events.js';

export type Write = (line: string) => void;

const pad = (s: string, n: number) => s.padEnd(n);

/** Plain lines, one per event that matters: for CI logs, pipes and terminals without listr2. */
export function plainRenderer(write: Write, options: { verbose?: boolean; diff?: boolean } = {}): EventSink {
  let check = false;
  let width = 8;
  return (e: RunEvent) => {
    switch (e.type) {
      case 'run-start':
        check = e.check;
        width = Math.max(8, ...e.hosts.map((h) => h.length + 1));
        write(
          `${check ? 'CHECK' : 'APPLY'} ${e.inventory}: ${e.hosts.length} host(s), phases ${e.phases.join(' -> ')}`,
        );
        break;
      case 'phase-start':
        write(`\nPHASE ${e.phase} [${e.hosts.join(', ')}]`);
        break;
      case 'task-result': {
        const status = e.status === 'changed' && check ? 'would change' : e.status;
        if (e.status === 'ok' && !options.verbose) break;
        write(
          `  ${pad(e.host, width)} ${pad(status, 12)} ${e.handler ? 'handler: ' : ''}${e.task}: ${e.message}${took(e.durationMs)}`,
        );
        if (options.verbose) for (const c of e.commands) write(`  ${pad('', width)} ${pad('', 12)}   $ ${c}`);
        if (options.diff && e.diff) write(indent(e.diff.text));
        break;
      }
      case 'host-failed':
        write(
          `  ${pad(e.host, width)} ${pad('FAILED', 12)} ${e.error.message}${e.error.hint ? `\n${' '.repeat(width + 17)}-> ${e.error.hint}` : ''}`,
        );
        break;
      case 'log':
        write(`${e.level === 'warn' ? 'WARNING: ' : ''}${e.host ? `${e.host}: ` : ''}${e.message}`);
        break;
      case 'run-end':
        write(formatRecap(e.recap, check, e.interrupted, e.durationMs));
        break;
      default:
        break;
    }
  };
}

/** A task's time, where it is worth reading: a second or more. */
function took(ms: number | undefined): string {
  return ms !== undefined && ms >= 1000 ? ` (${(ms / 1000).toFixed(1)} s)` : '';
}

export function formatRecap(recap: Recap, check: boolean, interrupted: boolean, durationMs: number): string {
  const hosts = Object.keys(recap);
  const width = Math.max(8, ...hosts.map((h) => h.length + 1));
  const lines = [
    `\nRECAP${check ? ' (check mode: nothing was changed)' : ''}${interrupted ? ' (INTERRUPTED)' : ''}`,
  ];
  for (const [host, r] of Object.entries(recap)) {
    lines.push(
      `  ${pad(host, width)} ok=${r.ok} ${check ? 'would-change' : 'changed'}=${r.changed} failed=${r.failed} skipped=${r.skipped} round-trips=${r.roundTrips}${r.error ? `\n  ${pad('', width)} ${r.error.split('\n')[0]}` : ''}`,
    );
  }
  lines.push(`  done in ${(durationMs / 1000).toFixed(1)} s`);
  return lines.join('\n');
}

const indent = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
