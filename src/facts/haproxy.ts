import { sh } from '../core/command.js';
import { defineFact } from './fact.js';

export interface BackendServer {
  /** The listen section: postgres_primary, postgres_replicas. */
  proxy: string;
  server: string;
  /** UP, DOWN, MAINT, NOLB, "UP 1/2" (rising), ... */
  status: string;
}

/** What HAProxy thinks of each server, from its statistics page as CSV (on the host itself). */
export const haproxyFact = defineFact<{ port: number }, { answered: boolean; servers: BackendServer[] }>({
  name: 'haproxy-servers',
  key: ({ port }) => String(port),
  command: ({ port }) => sh`curl -sS --max-time 3 ${`http://127.0.0.1:${port}/;csv`}`,
  parse: ({ stdout, code }) => {
    if (code !== 0) return { answered: false, servers: [] };
    const [header = '', ...rows] = stdout.trim().split('\n');
    const columns = header.replace(/^# /, '').split(',');
    const at = (name: string) => columns.indexOf(name);
    const [px, sv, st] = [at('pxname'), at('svname'), at('status')];
    const servers = rows
      .map((r) => r.split(','))
      .filter((c) => c[sv] !== 'FRONTEND' && c[sv] !== 'BACKEND' && c[px] !== 'stats')
      .map((c) => ({ proxy: c[px] ?? '', server: c[sv] ?? '', status: c[st] ?? '' }));
    return { answered: true, servers };
  },
});
