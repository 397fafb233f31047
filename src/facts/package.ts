import { sh } from '../core/command.js';
import { defineFact, type Fact } from './fact.js';

export interface PackagesState {
  /** Installed version per requested package; absent when not installed. */
  installed: Record<string, string>;
  /** Seconds since the apt package lists were last updated (Infinity when never). */
  listsAgeSeconds: number;
}

/** dpkg's view of some packages, and how fresh apt's lists are. */
export const packagesFact: Fact<{ names: string[] }, PackagesState> = defineFact<
  { names: string[] },
  PackagesState
>({
  name: 'packages',
  key: ({ names }) => [...names].sort().join(','),
  command: ({ names }) =>
    sh`echo "now $(date +%s) lists $(stat -c %Y /var/lib/apt/lists/partial 2>/dev/null || echo 0)"; dpkg-query -W -f='${'$'}{Package}\t${'$'}{db:Status-Abbrev}\t${'$'}{Version}\n' -- ${names} 2>/dev/null; true`,
  parse: ({ stdout }) => {
    const installed: Record<string, string> = {};
    let listsAgeSeconds = Infinity;
    for (const line of stdout.split('\n')) {
      const head = /^now (\d+) lists (\d+)$/.exec(line);
      if (head) {
        const lists = Number(head[2]);
        if (lists > 0) listsAgeSeconds = Number(head[1]) - lists;
        continue;
      }
      const [name, status, version] = line.split('\t');
      // db:Status-Abbrev "ii " = desired install, installed. Anything else is not usable.
      if (name && status?.startsWith('ii') && version) installed[name.split(':')[0] as string] = version;
    }
    return { installed, listsAgeSeconds };
  },
  // One dpkg-query for every package asked about (each run reads dpkg's whole status file); each request reads
  // its own names from the common output.
  batch: {
    command: (args) => packagesFact.command({ names: [...new Set(args.flatMap((a) => a.names))] }),
    split: (output, args) => args.map(() => output),
  },
});
