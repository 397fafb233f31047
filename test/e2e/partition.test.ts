import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/load.js';
import { DrillCluster } from '../../src/drill/lab.js';
import { leaderPartition, type PartitionResult } from '../../src/drill/partition.js';
import { labHeal, labPartition } from '../../src/lab/index.js';
import { syncReady } from '../support/cluster.js';
import { apply, changedTasks, ensureStack, LAB_INVENTORY } from '../support/lab.js';

// Synchronous, with the fast profile the target is stated for (writes back within 30 s of the cut).
const SYNC = { patroni_durability: 'sync', patroni_ttl: 20, patroni_loop_wait: 5, patroni_retry_timeout: 5 };
const network = {
  cut: async (host: string) => void (await labPartition(host)),
  heal: async (host: string) => void (await labHeal(host)),
};

/**
 * The failure that loses data: not a clean power-off but the leader's network cut while it keeps running, then
 * healed. In synchronous mode no acknowledged write may be lost, and no member may end on a forked timeline.
 */
describe('network partition of the leader (synchronous mode)', () => {
  let result: PartitionResult;

  beforeAll(async () => {
    await ensureStack(SYNC);
    await syncReady();
  });

  afterAll(async () => {
    for (const h of ['pg1', 'pg2', 'pg3']) await labHeal(h).catch(() => undefined);
    await apply();
  });

  it('cut for 60 s: writes resume on a new leader, nothing acknowledged is lost, the old leader streams again', async () => {
    const cluster = new DrillCluster(await loadInventory(LAB_INVENTORY));
    result = await leaderPartition(cluster, network, { forMs: 60_000, table: 'partition_writes' });
    console.log(
      `partition: leader ${result.leader} cut off for 60 s; writes refused for ${result.outageSeconds.toFixed(1)} s; ` +
        `${result.acknowledged} acknowledged, ${result.lost.length} lost; new leader ${result.newLeader}`,
    );
    expect(result.newLeader).toBeDefined();
    expect(result.newLeader).not.toBe(result.leader);
    expect(result.lost).toEqual([]);
    // Target 30 s (`npm run bench` measures it over 10 runs); the margin is for a loaded CI machine.
    expect(result.outageSeconds).toBeLessThan(45);
    // Every member on the leader's timeline; every replica's WAL receiver streaming.
    const leaderRow = result.members.find((m) => m.role === 'leader');
    expect(result.members.filter((m) => m.role === 'leader')).toHaveLength(1);
    for (const m of result.members.filter((x) => x.role === 'replica')) {
      expect(m).toMatchObject({ receiver: 'streaming', timeline: leaderRow?.timeline });
    }
  });

  it('a second apply after the drill reports 0 changed', async () => {
    const run = await apply({ extraVars: SYNC });
    expect(run.failed).toBe(false);
    expect(changedTasks(run)).toEqual([]);
  });
});
