import { sh } from '../core/command.js';
import { defineFact } from './fact.js';

/** What a host runs, read from os-release(5): the facts the roles choose versions, paths and units by. */
export interface OsRelease {
  /** `debian`, `ubuntu`... */
  id: string;
  /** `bookworm`, `trixie`; empty when the file names none (Debian sid, some derivatives). */
  codename: string;
  /** `12`, `13`; empty on a release without a number (sid). */
  version: string;
  /** `Debian GNU/Linux 13 (trixie)`: for messages. */
  prettyName: string;
}

export const osReleaseFact = defineFact<Record<string, never>, OsRelease | undefined>({
  name: 'os-release',
  key: () => '',
  command: () => sh`cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release`,
  parse: ({ stdout, code }) => (code === 0 ? parseOsRelease(stdout) : undefined),
});

/** Parses os-release(5): KEY=value lines, values optionally quoted with shell-style escapes. */
export function parseOsRelease(text: string): OsRelease | undefined {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    fields.set(m[1] as string, unquote(m[2] as string));
  }
  const id = fields.get('ID');
  if (!id) return undefined;
  return {
    id,
    codename: fields.get('VERSION_CODENAME') ?? '',
    version: fields.get('VERSION_ID') ?? '',
    prettyName: fields.get('PRETTY_NAME') ?? id,
  };
}

function unquote(value: string): string {
  const q = value[0];
  if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) {
    const inner = value.slice(1, -1);
    return q === '"' ? inner.replace(/\\([$"\\`])/g, '$1') : inner;
  }
  return value;
}
