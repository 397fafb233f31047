import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/load.js';
import { DrillCluster } from '../../src/drill/lab.js';
import { partitionDrill } from '../../src/drill/partition.js';
import { quorumLossDrill } from '../../src/drill/quorum.js';
import { labHeal, labNetwork } from '../../src/lab/index.js';
import { syncReady } from '../support/cluster.js';
import { apply, changedTasks, ensureStack, LAB_INVENTORY } from '../support/lab.js';

// Synchronous, with the fast profile the target is stated for (writes back within 30 s of the cut).
const SYNC = { patroni_durability: 'sync', patroni_ttl: 20, patroni_loop_wait: 5, patroni_retry_timeout: 5 };

/**
 * A replica cut off while the leader keeps running: the leader must keep taking writes (another replica becomes
 * the synchronous standby) and the replica must catch up when its network comes back. Then etcd loses quorum:
 * the leader must stop taking writes, and take them again without losing any when quorum returns.
 *
 * The leader's own partition is tested on Debian 13 (trixie.test.ts) and repeated by `npm run bench`
 * (BENCH_ONLY=partitions): on Debian 12, Patroni 3.0.2 sometimes lets the old leader take the leader key back
 * after the heal (its etcd3 client updates the key unconditionally from a stale cache), and the cluster is left
 * without a running primary.
 */
describe('network partition of a replica, and etcd losing quorum (synchronous mode)', () => {
  beforeAll(async () => {
    await ensureStack(SYNC);
    await syncReady();
  });

  afterAll(async () => {
    for (const h of ['pg1', 'pg2', 'pg3']) await labHeal(h).catch(() => undefined);
    await apply();
  });

  it('the synchronous standby cut for 30 s: the leader keeps taking writes, the standby catches up', async () => {
    await syncReady();
    const cluster = new DrillCluster(await loadInventory(LAB_INVENTORY));
    const r = await partitionDrill(cluster, labNetwork, {
      target: 'replica',
      forMs: 30_000,
      table: 'replica_partition_writes',
    });
    console.log(
      `partition: replica ${r.cut} cut off for 30 s; writes refused for ${r.outageSeconds.toFixed(1)} s at most; ` +
        `${r.acknowledged} acknowledged, ${r.lost?.length ?? 'unknown'} lost`,
    );
    expect(r.newLeader).toBe(r.leader);
    expect(r.lost).toEqual([]);
    // Commits wait while the leader still counts the cut standby as connected (wal_sender_timeout), then Patroni
    // makes the other replica the synchronous standby.
    expect(r.outageSeconds).toBeLessThan(30);
    const leaderRow = r.members.find((m) => m.role === 'leader');
    for (const m of r.members.filter((x) => x.role === 'replica'))
      expect(m).toMatchObject({ receiver: 'streaming', timeline: leaderRow?.timeline });
  });

  it('etcd without quorum for 45 s: the leader stops taking writes, and nothing acknowledged is lost', async () => {
    await syncReady();
    const cluster = new DrillCluster(await loadInventory(LAB_INVENTORY));
    // Patroni's failsafe mode is off (the default): the leader must demote once it cannot renew its key, within
    // loop_wait + retry_timeout (10 s with this profile) and at the latest when the key expires (ttl, 20 s).
    const r = await quorumLossDrill(cluster, {
      forMs: 45_000,
      demoteWithinMs: 20_000,
      table: 'quorum_loss_writes',
    });
    console.log(
      `quorum loss: etcd stopped on ${r.stopped.join(', ')} for 45 s; ${r.acknowledgedWithoutQuorum} writes ` +
        `acknowledged without quorum after 20 s; writes refused for ${r.outageSeconds.toFixed(1)} s; ` +
        `${r.acknowledged} acknowledged, ${r.lost?.length ?? 'unknown'} lost; leader ${r.leader} -> ${r.leaderAfter}`,
    );
    expect(r.acknowledgedWithoutQuorum).toBe(0);
    expect(r.lost).toEqual([]);
    const leaderRow = r.members.find((m) => m.role === 'leader');
    expect(leaderRow?.member).toBe(r.leaderAfter);
    for (const m of r.members.filter((x) => x.member !== r.leaderAfter))
      expect(m).toMatchObject({ role: 'replica', receiver: 'streaming', timeline: leaderRow?.timeline });
  });

  it('a second apply after the drill reports 0 changed', async () => {
    const run = await apply({ extraVars: SYNC });
    expect(run.failed).toBe(false);
    expect(changedTasks(run)).toEqual([]);
  });
});
