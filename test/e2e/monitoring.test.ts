import { beforeAll, describe, expect, it } from 'vitest';
import { settled, waitFor } from '../support/cluster.js';
import { apply, changedTasks, ensureStack, onHost, totalChanged } from '../support/lab.js';

/** Prometheus on the lab's monitoring host (pg3). */
const PROMETHEUS = 'http://10.231.0.13:9090';
/** Alerts fire after 10 s and Prometheus scrapes every 5 s while this file runs; the defaults come back after. */
const FAST = { monitoring_alert_for: '10s', prometheus_scrape_interval: '5s' };

interface Target {
  labels: { job: string; member: string };
  health: string;
  lastError: string;
}
interface Alert {
  labels: Record<string, string>;
  state: string;
}

async function api<T>(path: string): Promise<T> {
  const response = await fetch(`${PROMETHEUS}${path}`, { signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as { status: string; data: T };
  if (body.status !== 'success') throw new Error(`${path}: ${JSON.stringify(body)}`);
  return body.data;
}
const targets = async () => (await api<{ activeTargets: Target[] }>('/api/v1/targets')).activeTargets;
const firing = async (name: string) =>
  (await api<{ alerts: Alert[] }>('/api/v1/alerts')).alerts.filter(
    (a) => a.labels.alertname === name && a.state === 'firing',
  );

describe('monitoring: exporters everywhere, Prometheus with the alert rules on the monitoring group', () => {
  beforeAll(async () => {
    await ensureStack();
    const fast = await apply({ tags: ['monitoring'], extraVars: FAST });
    expect(fast.failed).toBe(false);
    // The reload has taken: the timings below count on the fast settings.
    await waitFor(
      'Prometheus running the fast settings',
      () => api<{ yaml: string }>('/api/v1/status/config'),
      (c) => /scrape_interval: 5s/.test(c.yaml),
      60_000,
    );
  });

  it('every scrape target is up in Prometheus: node, PostgreSQL, Patroni, etcd and HAProxy on every host', async () => {
    const all = await waitFor(
      'every target up',
      targets,
      (t) => t.length === 15 && t.every((x) => x.health === 'up'),
      120_000,
    );
    const jobs = [...new Set(all.map((t) => t.labels.job))].sort();
    expect(jobs).toEqual(['etcd', 'haproxy', 'node', 'patroni', 'postgres']);
    for (const job of jobs)
      expect(
        all
          .filter((t) => t.labels.job === job)
          .map((t) => t.labels.member)
          .sort(),
      ).toEqual(['pg1', 'pg2', 'pg3']);
    // pgprov's textfile: certificate expiry from every host, the newest backup from the repository host.
    const series = await api<{ result: { metric: { member: string } }[] }>(
      `/api/v1/query?query=${encodeURIComponent('count by (member) (pgprov_certificate_expiry_timestamp_seconds)')}`,
    );
    expect(series.result.map((r) => r.metric.member).sort()).toEqual(['pg1', 'pg2', 'pg3']);
    expect(await firing('PostgresNoLeader')).toEqual([]);
  });

  it('a replica whose PostgreSQL stops fires "replica not streaming" for it; started again, the alert clears', async () => {
    // A settled cluster first: an earlier file's failover leaves replicas restarting to follow the new leader,
    // and a member whose Patroni stops mid-restart can leave its PostgreSQL running (streaming) without it.
    const members = await settled();
    const replica = members.find((m) => m.Role !== 'Leader')?.Member as string;
    await waitFor(
      `${replica} streaming in the leader's metrics`,
      async () =>
        (
          await api<{ result: unknown[] }>(
            `/api/v1/query?query=${encodeURIComponent(`pgprov_replication_streaming{application_name="${replica}"} == 1 and on (cluster, member) (patroni_primary == 1)`)}`,
          )
        ).result,
      (r) => r.length > 0,
    );
    // Whatever an earlier file left (a member restarted) has cleared first.
    await waitFor(
      'no replica alert',
      () => firing('PostgresReplicaNotStreaming'),
      (a) => a.length === 0,
      180_000,
    );
    await onHost(replica, 'sudo systemctl stop patroni');
    try {
      // Its PostgreSQL stops with Patroni: otherwise the leader rightly still sees it streaming.
      await waitFor(
        `PostgreSQL on ${replica} to stop with Patroni`,
        () => onHost(replica, 'pgrep -u postgres -x postgres >/dev/null && echo running || echo stopped'),
        (out) => out.trim() === 'stopped',
        60_000,
      );
      const alerts = await waitFor(
        'the alert to fire',
        () => firing('PostgresReplicaNotStreaming'),
        (a) => a.length > 0,
        180_000,
      ).catch(async (error: Error) => {
        // What Prometheus saw, so that a failure says why.
        const rules = await api<{
          groups: { rules: { name: string; state: string; health: string; lastError?: string }[] }[];
        }>('/api/v1/rules');
        const rule = rules.groups
          .flatMap((g) => g.rules)
          .find((r) => r.name === 'PostgresReplicaNotStreaming');
        const up = (await targets()).map((t) => `${t.labels.job}/${t.labels.member}=${t.health}`);
        throw new Error(
          `${error.message}; stopped ${replica}; rule ${JSON.stringify(rule)}; targets ${up.join(' ')}`,
        );
      });
      expect(alerts.map((a) => a.labels.member)).toEqual([replica]);
    } finally {
      await onHost(replica, 'sudo systemctl start patroni');
    }
    await waitFor(
      'the alert to clear',
      () => firing('PostgresReplicaNotStreaming'),
      (a) => a.length === 0,
      180_000,
    );
  });

  it('the defaults come back with one apply, and the next reports 0 changed', async () => {
    const back = await apply({ tags: ['monitoring'] });
    expect(changedTasks(back, 'pg3')).toEqual([
      'pg3: Alert rules',
      'pg3: Prometheus configuration',
      'pg3: reload prometheus',
    ]);
    expect(totalChanged(await apply())).toBe(0);
  });
});
