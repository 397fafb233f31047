import { sh } from '../core/command.js';
import { defineFact } from './fact.js';

export interface EtcdTls {
  /** The member's client URL, e.g. https://10.0.0.11:2379. */
  url: string;
  cacert: string;
  cert: string;
  key: string;
}

/** Whether an etcd member serves requests (`GET /health`: true only while the cluster has a quorum). */
export const etcdHealthFact = defineFact<EtcdTls, { healthy: boolean; why: string }>({
  name: 'etcd-health',
  key: ({ url }) => url,
  command: ({ url, cacert, cert, key }) =>
    sh`curl -sS --max-time 3 --cacert ${cacert} --cert ${cert} --key ${key} ${`${url}/health`} 2>&1`,
  parse: ({ stdout, code }, { url }) => {
    const out = stdout.trim();
    if (code !== 0) {
      return {
        healthy: false,
        why: `${url} does not answer (${out.replace(/^curl: \(\d+\) /, '') || `curl exited ${code}`})`,
      };
    }
    try {
      const body = JSON.parse(out) as { health?: unknown; reason?: unknown };
      if (String(body.health) === 'true') return { healthy: true, why: 'healthy' };
      return {
        healthy: false,
        why: `unhealthy${body.reason ? `: ${String(body.reason)}` : ' (no quorum?)'}`,
      };
    } catch {
      return { healthy: false, why: `${url}/health answered what is not JSON: ${out.slice(0, 120)}` };
    }
  },
});
