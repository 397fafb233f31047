/**
 * `npm run bench`: measures pgprov on the lab, as a benchmark (numbers printed, nothing asserted).
 *   etcd          first apply of the etcd role on 3 bare hosts; its no-op re-apply (median)
 *   deploy        the whole stack from bare hosts, packages through the lab's apt proxy
 *   noop          the whole stack's no-op re-apply and `--tags patroni` alone (medians)
 *   drills        planned switchover, then the leader's power cut, with Patroni's defaults and with the fast
 *                 profile (ttl 20, loop_wait 5, retry_timeout 5; HAProxy checks every second in both): seconds of
 *                 refused writes through the VIP, acknowledged writes lost, the old leader's rejoin
 *   day2          status (median), a full backup, reinit of a replica, restore --latest of the whole cluster
 *   partitions    the leader's network cut for 60 s then healed (BENCH_PARTITIONS times, default 10), in
 *                 synchronous then asynchronous mode with the fast profile: outage, acknowledged writes lost,
 *                 members not streaming on the leader's timeline afterwards
 *                 (a member that never streams again is reported, stopped and rebuilt, and the series goes on)
 *   quorum        etcd without quorum for 45 s (BENCH_DRILLS times), synchronous, fast profile, with Patroni's
 *                 failsafe mode off then on: writes acknowledged without quorum, outage, acknowledged writes lost
 *   preinstalled  the whole stack on fresh hosts whose packages are already installed (an image built with them)
 * Environment: BENCH_SUITE (the Debian release of bare hosts: bookworm, the default, or trixie),
 * BENCH_REPEAT (no-op runs, default 5), BENCH_DRILLS (drills of each kind, default 3), BENCH_MODES (the
 * partitions' durability modes: sync,async),
 * BENCH_ONLY=deploy,noop,... to run some scenarios (those after `deploy` need the lab deployed with BENCH_SUITE's
 * release: checked first when `deploy` is not among them).
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DrillCluster } from '../drill/lab.js';
import { loadInventory } from '../inventory/load.js';
import { roleDefaults } from '../engine/plan.js';
import { loadProject } from '../roles/load.js';
import { noOpApplies, perHost, stats, timedApply } from './apply.js';
import { day2Bench } from './day2.js';
import { repositoryLeaderBench } from './repository-leader.js';
import { failoverDrill, switchoverDrill } from './drills.js';
import { partitionDrill, type PartitionResult } from '../drill/partition.js';
import { quorumLossDrill } from '../drill/quorum.js';
import { labDown, labNetwork, labStatus, labUp } from '../lab/index.js';
import { until } from '../core/until.js';
import { reinit } from '../operate/reinit.js';
import { Session } from '../operate/session.js';
import { readAssessment } from '../operate/status.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INVENTORY = join(ROOT, 'inventory', 'lab.yaml');
const HOSTS = ['pg1', 'pg2', 'pg3'];
const FAST = { patroni_ttl: 20, patroni_loop_wait: 5, patroni_retry_timeout: 5 };
const DEFAULTS = {
  patroni_ttl: 30,
  patroni_loop_wait: 10,
  patroni_retry_timeout: 10,
  patroni_durability: 'async',
  patroni_failsafe_mode: false,
};
const SYNC = { patroni_durability: 'sync' };
/**
 * " (etcd led by pg1 at the cut, promoted 21.3 s after the cut, HAProxy up at 23.1 s, writes back at 24.0 s)":
 * where an outage went.
 */
const timeline = (r: PartitionResult): string => {
  const parts = [
    r.etcdLeader !== undefined ? `etcd led by ${r.etcdLeader} at the cut` : undefined,
    r.promotedAfterSeconds !== undefined ? `promoted ${s(r.promotedAfterSeconds)} after the cut` : undefined,
    r.vipMovedAfterSeconds !== undefined
      ? `the VIP left ${r.vipHolder ?? '?'} at ${s(r.vipMovedAfterSeconds)}`
      : undefined,
    r.routedAfterSeconds !== undefined ? `HAProxy up at ${s(r.routedAfterSeconds)}` : undefined,
    r.writesBackAfterSeconds !== undefined ? `writes back at ${s(r.writesBackAfterSeconds)}` : undefined,
  ].filter((p) => p !== undefined);
  return parts.length ? ` (${parts.join(', ')})` : '';
};
const leaderTimeline = (r: PartitionResult) => r.members.find((m) => m.role === 'leader')?.timeline;
/** The lab's Debian release for the scenarios that bring up bare hosts (BENCH_SUITE=trixie: Debian 13). */
const SUITE = process.env.BENCH_SUITE ?? 'bookworm';

/** What the roles install on a host of the bench's release (for the preinstalled scenario). */
async function packagesFor(suite: string): Promise<string> {
  const project = await loadProject();
  const platform = project.platforms.find((p) => p.codename === suite);
  const version = String(roleDefaults(project, platform).postgresql_version);
  return `etcd-server etcd-client postgresql-common postgresql-${version} patroni python3-etcd curl pgbackrest haproxy keepalived`;
}

/**
 * The scenarios after `deploy` run on the deployed lab. Without `deploy` in BENCH_ONLY, the lab's hosts must be up,
 * of the release asked for: said up front, rather than an SSH failure or numbers of the wrong Debian.
 */
async function checkDeployedLab(): Promise<void> {
  const lab = await labStatus();
  const unfit = HOSTS.flatMap((name) => {
    const host = lab.hosts.find((h) => h.name === name);
    if (!host?.sshd) return [`${name} is not up`];
    return host.suite === SUITE ? [] : [`${name} runs ${host.suite}, not ${SUITE}`];
  });
  if (unfit.length) {
    throw new Error(
      `BENCH_ONLY=${process.env.BENCH_ONLY ?? ''} works on the deployed lab, but ${unfit.join(', ')}: ` +
        `add deploy to BENCH_ONLY (it builds the lab afresh), or deploy it first (npm run lab)`,
    );
  }
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const s = (x: number, digits = 1) => `${x.toFixed(digits)} s`;

async function main(): Promise<void> {
  const repeat = Number(process.env.BENCH_REPEAT ?? 5);
  const drills = Number(process.env.BENCH_DRILLS ?? 3);
  const only = process.env.BENCH_ONLY?.split(',').map((x) => x.trim());
  const wanted = (name: string) => !only || only.includes(name);
  log(
    `pgprov benchmark on the lab: 3 systemd-nspawn hosts on this machine (${cpus().length} cores, ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB, load ${loadavg()[0]?.toFixed(1)})`,
  );

  if (only && !only.includes('deploy') && only.some((n) => n !== 'etcd' && n !== 'preinstalled')) {
    await checkDeployedLab();
  }

  if (wanted('etcd')) {
    await labDown();
    await labUp({ hosts: 3, suite: SUITE });
    const first = await timedApply(INVENTORY, { tags: ['etcd'] });
    log(
      `etcd role, first apply (bare hosts)      ${s(first.seconds, 2)}   round trips: ${perHost(first.recap, 'roundTrips')}`,
    );
    const noop = await noOpApplies(INVENTORY, repeat, { tags: ['etcd'] });
    const st = stats(noop.seconds);
    log(
      `etcd role, no-op re-apply (median of ${repeat})  ${s(st.median, 3)}   min ${s(st.min, 3)}, max ${s(st.max, 3)} (target < 1 s)`,
    );
  }

  if (wanted('deploy')) {
    await labDown();
    await labUp({ hosts: 3, suite: SUITE });
    const deploy = await timedApply(INVENTORY);
    log(
      `whole stack, first apply (bare hosts)    ${s(deploy.seconds)}   changed: ${perHost(deploy.recap, 'changed')}`,
    );
    log(`                                         round trips: ${perHost(deploy.recap, 'roundTrips')}`);
  }

  if (wanted('noop')) {
    const noop = await noOpApplies(INVENTORY, repeat);
    const st = stats(noop.seconds);
    log(
      `whole stack, no-op re-apply (median of ${repeat}) ${s(st.median, 3)}   min ${s(st.min, 3)}, max ${s(st.max, 3)} (target < 2 s)`,
    );
    log(`                                         round trips: ${perHost(noop.last.recap, 'roundTrips')}`);
    const patroni = stats((await noOpApplies(INVENTORY, repeat, { tags: ['patroni'] })).seconds);
    log(
      `--tags patroni, no-op (median of ${repeat})      ${s(patroni.median, 3)}   min ${s(patroni.min, 3)}, max ${s(patroni.max, 3)}`,
    );
  }

  if (wanted('drills')) {
    const inventory = await loadInventory(INVENTORY);
    const cluster = new DrillCluster(inventory);
    const address = (h: string) => inventory.hosts.find((x) => x.name === h)?.connection.address ?? h;
    await timedApply(INVENTORY, { extraVars: DEFAULTS });
    const switchovers = [];
    for (let i = 0; i < drills; i++) switchovers.push(await switchoverDrill(cluster, HOSTS, address));
    report('planned switchover', switchovers, 'target < 10 s');
    for (const [name, profile, target] of [
      ["leader power cut, Patroni's defaults (ttl 30)", DEFAULTS, 'target < 45 s'],
      ['leader power cut, fast profile (ttl 20)', FAST, 'target < 30 s'],
    ] as const) {
      await timedApply(INVENTORY, { extraVars: profile });
      const runs = [];
      for (let i = 0; i < drills; i++) runs.push(await failoverDrill(cluster, HOSTS, address));
      report(name, runs, target);
      const rejoin = stats(runs.map((r) => r.rejoinSeconds));
      log(
        `  old leader back as a streaming replica after boot: median ${s(rejoin.median)}, max ${s(rejoin.max)}`,
      );
    }
    await timedApply(INVENTORY, { extraVars: DEFAULTS });
  }

  if (wanted('day2')) await day2Bench(INVENTORY, repeat, log);

  if (wanted('partitions')) {
    const cluster = new DrillCluster(await loadInventory(INVENTORY));
    const times = Number(process.env.BENCH_PARTITIONS ?? 10);
    const modes = process.env.BENCH_MODES?.split(',') ?? ['sync', 'async'];
    for (const [name, profile] of [
      ['leader partitioned 60 s, synchronous, fast profile', { ...FAST, ...SYNC }],
      ['leader partitioned 60 s, asynchronous, fast profile', FAST],
    ] as const) {
      if (!modes.includes(profile === FAST ? 'async' : 'sync')) continue;
      await timedApply(INVENTORY, { extraVars: profile });
      const runs: PartitionResult[] = [];
      log(`${name}:`);
      for (let i = 0; i < times; i++) {
        const run = await partitionDrill(cluster, labNetwork, { forMs: 60_000, table: 'bench_partition' });
        runs.push(run);
        log(partitionLine(run));
        if (!run.rejoined) await recoverMember(cluster, run.cut);
      }
      const outage = stats(runs.map((r) => r.outageSeconds));
      log(
        `${name}: writes through the VIP refused median ${s(outage.median)}, max ${s(outage.max)} over ${times} (target < 30 s)`,
      );
      // What a failover may lose, in WAL: Patroni promotes no replica further behind than maximum_lag_on_failover.
      const lostWal = runs.map((r) => (r.lost?.length ?? 0) * (r.walPerWrite ?? 0));
      const maximumLag = Number(roleDefaults(await loadProject()).patroni_maximum_lag_on_failover);
      log(
        `  acknowledged writes lost: ${runs.map((r) => r.lost?.length ?? '?').join(', ')}; at most ~${Math.max(...lostWal)} bytes of WAL ` +
          `(maximum_lag_on_failover ${maximumLag} bytes${Math.max(...lostWal) <= maximumLag ? ': within it' : ': OVER IT'})`,
      );
    }
    await timedApply(INVENTORY, { extraVars: DEFAULTS });
  }

  // Not in a default run: BENCH_ONLY=repository-leader (BENCH_PARTITIONS runs of each variant, default 3).
  if (only?.includes('repository-leader')) {
    log('the leader partitioned 60 s while it holds the repository (synchronous, fast profile):');
    const runs = await repositoryLeaderBench({
      inventoryFile: INVENTORY,
      repositoryHost: 'pg3',
      profile: { ...FAST, ...SYNC },
      network: labNetwork,
      times: Number(process.env.BENCH_PARTITIONS ?? 3),
      recover: recoverMember,
      onRun: ({ variant, result }) => log(`${partitionLine(result)} [${variant}]`),
    });
    for (const variant of new Set(runs.map((r) => r.variant))) {
      const outage = stats(runs.filter((r) => r.variant === variant).map((r) => r.result.outageSeconds));
      log(`  ${variant}: writes through the VIP refused median ${s(outage.median)}, max ${s(outage.max)}`);
    }
    await timedApply(INVENTORY, { extraVars: DEFAULTS });
  }

  if (wanted('quorum')) {
    const cluster = new DrillCluster(await loadInventory(INVENTORY));
    for (const [name, failsafe] of [
      ['etcd without quorum 45 s, failsafe mode off (default)', false],
      ['etcd without quorum 45 s, failsafe mode on', true],
    ] as const) {
      await timedApply(INVENTORY, { extraVars: { ...FAST, ...SYNC, patroni_failsafe_mode: failsafe } });
      log(`${name}:`);
      for (let i = 0; i < drills; i++) {
        const r = await quorumLossDrill(cluster, {
          forMs: 45_000,
          demoteWithinMs: 20_000,
          table: 'bench_quorum',
        });
        log(
          `  ${r.leader} -> ${r.leaderAfter ?? 'none'}: ${r.acknowledgedWithoutQuorum} writes acknowledged without quorum ` +
            `(after 20 s), refused ${s(r.outageSeconds)}, ${r.acknowledged} acknowledged, ` +
            `${r.lost ? r.lost.length : 'unknown (no writable leader)'} lost`,
        );
      }
    }
    await timedApply(INVENTORY, { extraVars: DEFAULTS });
  }

  if (wanted('preinstalled')) {
    await labDown();
    await labUp({ hosts: 3, suite: SUITE });
    const inventory = await loadInventory(INVENTORY);
    const cluster = new DrillCluster(inventory);
    const packages = await packagesFor(SUITE);
    // As an image built with the packages would be: installed, nothing configured, nothing started.
    await Promise.all(
      HOSTS.map((h) =>
        cluster.onHost(
          h,
          `sudo sh -c 'printf "#!/bin/sh\\nexit 101\\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${packages} >/dev/null; rc=$?; rm -f /usr/sbin/policy-rc.d; exit $rc'`,
        ),
      ),
    );
    const deploy = await timedApply(INVENTORY);
    log(
      `whole stack, packages preinstalled       ${s(deploy.seconds)}   changed: ${perHost(deploy.recap, 'changed')}`,
    );
  }
}

/** One partition drill, as it ends: who led before and after, the outage and where it went, what was lost. */
function partitionLine(r: PartitionResult): string {
  const forked = r.members.filter(
    (m) => m.role !== 'leader' && (m.receiver !== 'streaming' || m.timeline !== leaderTimeline(r)),
  );
  return (
    `  ${r.leader} -> ${r.newLeader ?? 'none'}: refused ${s(r.outageSeconds)}${timeline(r)}, ${r.acknowledged} acknowledged, ` +
    `${r.lost ? r.lost.length : 'unknown (no writable leader)'} lost` +
    (forked.length
      ? `; not streaming on the leader's timeline: ${forked.map((m) => m.member).join(', ')}`
      : '') +
    (r.rejoined ? '' : `; ${r.cut} never streamed again: its Patroni stopped and it was reinitialised`)
  );
}

/**
 * A partitioned member that never streamed again (Debian 12: the old leader took the key back and cannot start):
 * stop its Patroni so that the key expires and a member that can run is elected, then rebuild it from that
 * leader, as `pgprov status` tells an operator to. The series goes on from a whole cluster.
 */
async function recoverMember(cluster: DrillCluster, member: string): Promise<void> {
  await cluster.onHost(member, 'sudo systemctl stop patroni');
  const session = await Session.open(cluster.inventory.file);
  try {
    await until(
      'a leader elected without the stopped member',
      () => readAssessment(session),
      (a) => a.leader !== undefined && a.leader !== member,
      180_000,
    );
    await reinit(session, { host: member, confirm: async () => undefined, progress: () => undefined });
  } finally {
    await session.close();
  }
}

function report(
  name: string,
  runs: readonly { refusedSeconds: number; lost: number; acknowledged: number; from: string; to: string }[],
  target: string,
): void {
  const st = stats(runs.map((r) => r.refusedSeconds));
  log(
    `${name}: writes through the VIP refused median ${s(st.median)}, max ${s(st.max)} over ${runs.length} (${target})`,
  );
  for (const r of runs)
    log(
      `  ${r.from} -> ${r.to}: refused ${s(r.refusedSeconds)}, ${r.acknowledged} acknowledged, ${r.lost} lost`,
    );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
