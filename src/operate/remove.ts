import { sh } from '../core/command.js';
import { IncompleteError, SafetyError, UsageError } from '../core/errors.js';
import type { RunEvent } from '../core/events.js';
import { until } from '../core/until.js';
import { runApply } from '../engine/run.js';
import type { Confirm, Session } from './session.js';
import { readAssessment, readCluster } from './status.js';

export interface RemoveResult {
  host: string;
  /** The members left, and HAProxy's servers on each balancer afterwards. */
  members: string[];
  changed: number;
}

/**
 * Drains a replica (and/or a balancer) out of the cluster: its services are stopped and disabled, the member
 * leaves Patroni's list, and the rest of the cluster is converged to the inventory without it (HAProxy's
 * servers, pg_hba, keepalived's peers, pgBackRest's hosts) by the same apply as always. Its data directory stays
 * on the host. Refuses the leader, the repository host, the last balancer and an etcd member.
 */
export async function removeHost(
  session: Session,
  options: { host: string; inventoryFile: string; confirm: Confirm; progress: (message: string) => void },
): Promise<RemoveResult> {
  const { host, progress } = options;
  const h = session.host(host);
  const member = h.groups.includes('postgres_cluster');
  const balancer = h.groups.includes('balancers');
  if (!member && !balancer) {
    throw new UsageError(
      `${host} is neither in postgres_cluster nor in balancers: there is nothing to drain`,
    );
  }
  if (h.groups.includes('etcd_cluster')) {
    const n = session.group('etcd_cluster').length;
    throw new SafetyError(
      `${host} is one of the ${n} etcd members: removing it would change etcd's membership, leaving ${n - 1} (quorum ${Math.floor((n - 1) / 2) + 1}, ${n - 1 - (Math.floor((n - 1) / 2) + 1)} failure${n === 4 ? '' : 's'} tolerated). pgprov remove drains PostgreSQL replicas and balancers only. Nothing was changed.`,
      { hint: 'keep an odd number of etcd members; move the etcd role off a host before removing it' },
    );
  }
  if (h.groups.includes('pgbackrest')) {
    throw new SafetyError(
      `${host} holds the backup repository: removing it would stop backups and WAL archiving. Nothing was changed.`,
    );
  }
  if (balancer && session.group('balancers').length === 1) {
    throw new SafetyError(
      `${host} is the only balancer: without it no one holds the virtual IP. Nothing was changed.`,
    );
  }
  const a = await readAssessment(session);
  if (member && !a.leader) {
    throw new SafetyError(
      'no leader runs: the cluster cannot be converged without it. Nothing was changed.',
      {
        hint: `see \`pgprov status ${options.inventoryFile}\``,
      },
    );
  }
  if (a.leader === host) {
    throw new SafetyError(`${host} is the leader. Nothing was changed.`, {
      hint: `hand the leader role over first: pgprov switchover ${options.inventoryFile}`,
    });
  }
  await options.confirm(
    [
      `remove ${host} from cluster ${session.clusterName}:`,
      ...(balancer
        ? [`  - stop and disable keepalived and HAProxy on ${host} (the virtual IP moves if it holds it);`]
        : []),
      ...(member
        ? [
            `  - stop and disable Patroni and PostgreSQL on ${host}: one replica fewer (its data directory stays on the host, unused);`,
          ]
        : []),
      `  - apply the inventory without ${host} to the other hosts: HAProxy, pg_hba, keepalived and pgBackRest forget it;`,
      `  - then delete ${host} from ${options.inventoryFile}: until then \`pgprov apply\` adds it back.`,
    ],
    host,
  );
  await session.lock([host]);
  let step = '';
  try {
    if (balancer) {
      step = `stop keepalived and HAProxy on ${host}`;
      progress(step);
      await session.run(host, sh`systemctl disable --now keepalived haproxy`, step);
    }
    if (member) {
      step = `stop Patroni on ${host}`;
      progress(step);
      await session.run(
        host,
        // The units that only serve a member (each may be missing: one that is not there is not an error).
        sh`systemctl disable --now patroni && for u in pgbackrest pgprov-etcd-leader-apart pgprov-replica-agent; do systemctl disable --now $u 2>/dev/null || true; done`,
        step,
        {
          timeoutMs: 180_000,
        },
      );
      step = `wait for ${host} to leave Patroni's member list`;
      progress(step);
      await until(
        `${host} to leave the member list`,
        async () => (await readCluster(session)).members.flatMap((m) => m.view ?? []).map((m) => m.name),
        (names) => !names.includes(host),
        (Number(session.setting('patroni_ttl') ?? 30) + 30) * 1000,
      );
    }
    step = `apply the inventory without ${host}`;
    progress(`${step}:`);
    const events: RunEvent[] = [];
    const run = await runApply({
      inventoryFile: session.inventory.file,
      without: [host],
      check: false,
      diff: false,
      sink: (e) => {
        events.push(e);
        if (e.type === 'task-result' && e.status === 'changed') progress(`  ${e.host}: ${e.task}`);
      },
    });
    if (run.failed) {
      const failures = events.flatMap((e) =>
        e.type === 'host-failed' ? [`${e.host}: ${e.error.message}`] : [],
      );
      throw new Error(failures.join('; ') || 'a host failed');
    }
    return {
      host,
      members: session
        .group('postgres_cluster')
        .map((m) => m.name)
        .filter((m) => m !== host),
      changed: Object.values(run.recap).reduce((n, r) => n + r.changed, 0),
    };
  } catch (error) {
    throw new IncompleteError(
      `removing ${host} stopped at "${step}": ${error instanceof Error ? error.message : String(error)}`,
      {
        hint: `fix the cause and run the same command again (what was done is not undone)`,
        cause: error,
      },
    );
  }
}
