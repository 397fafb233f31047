import { sh } from '../core/command.js';
import { defineFact, type Fact } from './fact.js';

export interface PackagesState {
  /** Installed version per requested package; absent when not installed. */
  installed: Record<string, string>;
  /**
   * The version apt would install, per requested package that is not installed; absent when apt's lists do not
   * know the package (never fetched, or the last `apt-get update` failed part-way).
   */
  candidates: Record<string, string>;
  /** Seconds since the apt package lists were last updated (Infinity when never). */
  listsAgeSeconds: number;
}

/**
 * dpkg's view of some packages, how fresh apt's lists are, and what apt could install for those that are
 * missing (`apt-cache policy` runs only when one is: it reads every list, so an unchanged host skips it).
 */
export const packagesFact: Fact<{ names: string[] }, PackagesState> = defineFact<
  { names: string[] },
  PackagesState
>({
  name: 'packages',
  key: ({ names }) => [...names].sort().join(','),
  command: ({ names }) =>
    sh`echo "now $(date +%s) lists $(stat -c %Y /var/lib/apt/lists/partial 2>/dev/null || echo 0)"
status=$(dpkg-query -W -f='${'$'}{Package}\t${'$'}{db:Status-Abbrev}\t${'$'}{Version}\n' -- ${names} 2>/dev/null)
printf '%s\n' "$status"
missing=$(printf '%s\n' "$status" | awk -F '\t' 'BEGIN { for (i = 1; i < ARGC; i++) { want[i] = ARGV[i]; delete ARGV[i] }; n = ARGC }
  $2 ~ /^ii/ { ok[$1] = 1 }
  END { for (i = 1; i < n; i++) if (!(want[i] in ok)) print want[i] }' ${names})
if [ -n "$missing" ]; then
  apt-cache policy -- $missing 2>/dev/null | awk '/^[^ ]/ { p = $1; sub(/:$/, "", p) } /^  Candidate:/ { print "candidate\t" p "\t" $2 }'
fi
true`,
  parse: ({ stdout }) => {
    const installed: Record<string, string> = {};
    const candidates: Record<string, string> = {};
    let listsAgeSeconds = Infinity;
    for (const line of stdout.split('\n')) {
      const head = /^now (\d+) lists (\d+)$/.exec(line);
      if (head) {
        const lists = Number(head[2]);
        if (lists > 0) listsAgeSeconds = Number(head[1]) - lists;
        continue;
      }
      const [first, second, third] = line.split('\t');
      if (first === 'candidate') {
        // "(none)": apt knows the name (another package mentions it) but has nothing to install.
        if (second && third && third !== '(none)') candidates[second.split(':')[0] as string] = third;
        continue;
      }
      // db:Status-Abbrev "ii " = desired install, installed. Anything else is not usable.
      if (first && second?.startsWith('ii') && third) installed[first.split(':')[0] as string] = third;
    }
    return { installed, candidates, listsAgeSeconds };
  },
  // One dpkg-query for every package asked about (each run reads dpkg's whole status file); each request reads
  // its own names from the common output.
  batch: {
    command: (args) => packagesFact.command({ names: [...new Set(args.flatMap((a) => a.names))] }),
    split: (output, args) => args.map(() => output),
  },
});
