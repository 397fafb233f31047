import { sh } from '../core/command.js';
import { defineFact } from './fact.js';

export interface FileState {
  exists: boolean;
  /** 'file', 'directory', 'link' or 'other'. */
  type?: 'file' | 'directory' | 'link' | 'other';
  mode?: string;
  owner?: string;
  group?: string;
  size?: number;
  /** sha256 of a regular file's content. */
  sha256?: string;
}

const TYPES: Record<string, FileState['type']> = {
  'regular file': 'file',
  'regular empty file': 'file',
  directory: 'directory',
  'symbolic link': 'link',
};

/** stat and checksum of one path. */
export const fileFact = defineFact<{ path: string }, FileState>({
  name: 'file',
  key: ({ path }) => path,
  command: ({ path }) =>
    sh`if [ -e ${path} ] || [ -L ${path} ]; then stat -c '%F|%a|%U|%G|%s' -- ${path}; if [ -f ${path} ]; then sha256sum -- ${path}; fi; else echo absent; fi`,
  parse: ({ stdout }) => {
    const [statLine = '', sumLine = ''] = stdout.trim().split('\n');
    if (statLine === 'absent' || statLine === '') return { exists: false };
    const [type = '', mode = '', owner = '', group = '', size = '0'] = statLine.split('|');
    return {
      exists: true,
      type: TYPES[type] ?? 'other',
      mode: mode.padStart(4, '0'),
      owner,
      group,
      size: Number(size),
      ...(sumLine ? { sha256: sumLine.split(/\s+/)[0] } : {}),
    };
  },
  // Every path in one stat and one sha256sum, instead of two processes per path.
  batch: {
    command: (args) => {
      const paths = args.map((a) => a.path);
      return sh`stat -c '%F|%a|%U|%G|%s|%n' -- ${paths} 2>/dev/null; echo ${SUMS}; for p in ${paths}; do if [ -f "$p" ]; then printf '%s\\0' "$p"; fi; done | xargs -0r sha256sum --; true`;
    },
    split: ({ stdout }, args) => {
      const [stats = '', sums = ''] = stdout.split(`${SUMS}\n`);
      const stat = new Map<string, string>();
      for (const line of stats.split('\n')) {
        const fields = line.split('|');
        if (fields.length >= 6) stat.set(fields.slice(5).join('|'), fields.slice(0, 5).join('|'));
      }
      const sum = new Map<string, string>();
      for (const line of sums.split('\n')) {
        // sha256sum escapes names with a backslash or newline (and starts the line with \): those get no
        // checksum here, which only makes the file look changed.
        const m = /^([0-9a-f]{64}) {2}(.*)$/.exec(line);
        if (m) sum.set(m[2] as string, m[1] as string);
      }
      return args.map(({ path }) => {
        const line = stat.get(path);
        const hash = sum.get(path);
        return { code: 0, stdout: line ? `${line}\n${hash ? `${hash}  ${path}\n` : ''}` : 'absent\n' };
      });
    },
  },
});

const SUMS = '--- pgprov: sha256 ---';

const MAX_DIFF_BYTES = 256 * 1024;

/** A file's content (base64 on the wire), only gathered for `--diff`. Undefined when absent or too large. */
export const fileContentFact = defineFact<{ path: string }, Buffer | undefined>({
  name: 'file-content',
  key: ({ path }) => path,
  command: ({ path }) =>
    sh`if [ -f ${path} ] && [ "$(stat -c %s -- ${path})" -le ${MAX_DIFF_BYTES} ]; then base64 -w0 -- ${path}; else echo -n '-'; fi`,
  parse: ({ stdout }) => {
    const text = stdout.trim();
    return text === '-' ? undefined : Buffer.from(text, 'base64');
  },
});
