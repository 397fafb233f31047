/**
 * What co-locating the pgBackRest repository with a database host costs a failover: the leader cut off while it
 * is also the repository host, with the replicas fetching WAL from that repository only when it answers at once
 * (restore_command through pgprov-if-answers, the default), without restore_command, and with restore_command
 * calling pgBackRest directly (as before pgprov-if-answers). In the lab the repository host is pg3; the
 * partition series wrote back later after cuts of pg3 than of the other hosts, and this showed why.
 */
import { DrillCluster } from '../drill/lab.js';
import { type Network, partitionDrill, type PartitionResult } from '../drill/partition.js';
import { loadInventory } from '../inventory/load.js';
import { Session } from '../operate/session.js';
import { readAssessment } from '../operate/status.js';
import { switchover } from '../operate/switchover.js';
import { timedApply } from './apply.js';

export interface RepositoryLeaderRun {
  variant: string;
  result: PartitionResult;
}

export async function repositoryLeaderBench(options: {
  inventoryFile: string;
  repositoryHost: string;
  profile: Record<string, unknown>;
  network: Network;
  times: number;
  recover: (cluster: DrillCluster, member: string) => Promise<void>;
  /** Called as each run ends (a series takes minutes per run). */
  onRun: (run: RepositoryLeaderRun) => void;
}): Promise<RepositoryLeaderRun[]> {
  const runs: RepositoryLeaderRun[] = [];
  for (const [variant, extra] of [
    ['replicas fetch WAL from the repository when it answers (the default)', {}],
    ['no restore_command', { postgresql_restore_command: '' }],
    // Before pgprov-if-answers: each fetch waited ~4 s for the unreachable repository host, and a replica asks
    // the archive for the new timeline's history files before it follows the new leader.
    [
      'restore_command straight to pgBackRest',
      { postgresql_restore_command: 'pgbackrest --stanza={{cluster_name}} archive-get %f "%p"' },
    ],
  ] as const) {
    const extraVars = { ...options.profile, ...extra };
    await timedApply(options.inventoryFile, { extraVars });
    for (let i = 0; i < options.times; i++) {
      await leadFrom(options.inventoryFile, options.repositoryHost, extraVars);
      const cluster = new DrillCluster(await loadInventory(options.inventoryFile));
      const result = await partitionDrill(cluster, options.network, {
        forMs: 60_000,
        table: 'bench_partition',
      });
      runs.push({ variant, result });
      options.onRun({ variant, result });
      if (!result.rejoined) await options.recover(cluster, result.cut);
    }
  }
  return runs;
}

/**
 * Makes `host` the leader unless it already leads: a switchover, in asynchronous mode for its length (in
 * synchronous mode Patroni hands over to the synchronous standby only), then the profile again.
 */
async function leadFrom(
  inventoryFile: string,
  host: string,
  profile: Record<string, unknown>,
): Promise<void> {
  const withSession = async <T>(work: (session: Session) => Promise<T>): Promise<T> => {
    const session = await Session.open(inventoryFile);
    try {
      return await work(session);
    } finally {
      await session.close();
    }
  };
  if ((await withSession(readAssessment)).leader === host) return;
  await timedApply(inventoryFile, { extraVars: { ...profile, patroni_durability: 'async' } });
  await withSession((session) => switchover(session, { to: host, inventoryFile, progress: () => undefined }));
  await timedApply(inventoryFile, { extraVars: profile });
}
