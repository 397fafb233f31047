import type { Assessment, ClusterSnapshot, Report, Thresholds } from './health.js';

/**
 * The cluster's services around PostgreSQL, judged from a status snapshot (pure): etcd's quorum, the virtual
 * IP and HAProxy's routing, the backups, the certificates. Each reports its problems through `problem`.
 */

const DAY = 86_400_000;

export function judgeEtcd(s: ClusterSnapshot, problem: Report): Assessment['etcd'] {
  const healthy = s.etcd.filter((e) => e.healthy).length;
  const total = s.etcd.length;
  if (total > 0 && healthy <= total / 2) {
    problem(
      'critical',
      'etcd',
      `etcd has no quorum (${healthy} of ${total} members healthy): Patroni cannot keep or elect a leader`,
    );
  }
  for (const e of s.etcd.filter((x) => !x.healthy && !s.unreachable[x.host])) {
    problem('degraded', e.host, `etcd member unhealthy: ${e.why}`, `sudo systemctl status etcd on ${e.host}`);
  }

  return { healthy, total, members: s.etcd };
}

/** The virtual IP on exactly one balancer, and each HAProxy sending writes to the leader and reads to the streaming replicas. */
export function judgeBalancers(
  s: ClusterSnapshot,
  leaderName: string | undefined,
  replicasUp: readonly string[],
  problem: Report,
): { heldBy: string[]; haproxy: Assessment['haproxy'] } {
  const heldBy = s.balancers.filter((b) => b.holdsVip).map((b) => b.host);
  if (s.vip && s.balancers.length > 0) {
    if (heldBy.length === 0) {
      problem(
        'critical',
        'vip',
        `no reachable balancer holds the virtual IP ${s.vip}: clients cannot connect`,
        'sudo systemctl status keepalived haproxy on the balancers',
      );
    } else if (heldBy.length > 1) {
      problem(
        'critical',
        'vip',
        `the virtual IP ${s.vip} is held by ${heldBy.join(' and ')} at once`,
        'check VRRP traffic between the balancers (keepalived_virtual_router_id must be unique)',
      );
    }
  }
  const haproxy = s.balancers
    .filter((b) => !s.unreachable[b.host])
    .map((b) => {
      const up = (proxy: string) =>
        (b.haproxy?.servers ?? []).filter((x) => x.proxy === proxy && x.status === 'UP').map((x) => x.server);
      const entry = {
        host: b.host,
        primary: up('postgres_primary'),
        replicas: up('postgres_replicas'),
        answered: b.haproxy?.answered === true,
      };
      if (!entry.answered) {
        problem(
          b.holdsVip ? 'critical' : 'degraded',
          b.host,
          'HAProxy does not answer on its statistics port',
          `sudo systemctl status haproxy on ${b.host}`,
        );
      } else if (leaderName && !(entry.primary.length === 1 && entry.primary[0] === leaderName)) {
        problem(
          b.holdsVip ? 'critical' : 'degraded',
          b.host,
          `HAProxy sends writes to ${entry.primary.join(', ') || 'no server'}, the leader is ${leaderName}`,
          "its health checks follow Patroni within a few seconds; if this lasts, check Patroni's REST API from the balancer",
        );
      } else {
        const missing = replicasUp.filter((r) => !entry.replicas.includes(r));
        if (missing.length > 0) {
          problem(
            'degraded',
            b.host,
            `HAProxy does not send reads to ${missing.join(', ')}, which stream${missing.length === 1 ? 's' : ''}`,
          );
        }
      }
      return entry;
    });

  return { heldBy, haproxy };
}

export function judgeBackups(
  s: ClusterSnapshot,
  t: Thresholds,
  inventoryFile: string,
  problem: Report,
): Assessment['backups'] {
  let backups: Assessment['backups'];
  if (s.backups) {
    const info = s.backups.info;
    if (!info) {
      backups = { count: 0 };
    } else if (!info.answered) {
      backups = { count: 0 };
      problem('degraded', 'backups', `cannot read the backups on ${s.backups.host}: ${info.why}`);
    } else {
      const newest = info.backups.at(-1);
      backups = {
        count: info.backups.length,
        ...(newest ? { newest } : {}),
        ...(info.archive ? { archive: info.archive } : {}),
      };
      if (!newest) {
        problem(
          'degraded',
          'backups',
          'no backup yet: a restore is impossible',
          `take one: pgprov backup ${inventoryFile}`,
        );
      } else if (s.at.getTime() - newest.stopped * 1000 > t.backupMaxAgeMs) {
        problem(
          'degraded',
          'backups',
          `the newest backup (${newest.label}) is ${Math.floor((s.at.getTime() - newest.stopped * 1000) / 3_600_000)} h old`,
          `check the timers on ${s.backups.host}: systemctl list-timers 'pgbackrest-backup-*'`,
        );
      }
    }
  }

  return backups;
}

export function judgeCertificates(
  s: ClusterSnapshot,
  t: Thresholds,
  inventoryFile: string,
  problem: Report,
): Assessment['certificates'] {
  const certificates = s.certificates.flatMap(({ host, files }) =>
    files.map((f) => ({
      host,
      path: f.path,
      subject: f.subject,
      notAfter: f.notAfter.toISOString(),
      daysLeft: Math.floor((f.notAfter.getTime() - s.at.getTime()) / DAY),
    })),
  );
  for (const c of certificates) {
    const left = new Date(c.notAfter).getTime() - s.at.getTime();
    if (left <= 0)
      problem(
        'critical',
        c.host,
        `certificate ${c.path} (${c.subject}) expired on ${c.notAfter}`,
        `renew it: pgprov certs ${inventoryFile} --renew-within 30d`,
      );
    else if (left < t.certificateWarnMs) {
      problem(
        'degraded',
        c.host,
        `certificate ${c.path} (${c.subject}) expires in ${c.daysLeft} days`,
        `renew it: pgprov certs ${inventoryFile} --renew-within 30d`,
      );
    }
  }

  return certificates;
}
