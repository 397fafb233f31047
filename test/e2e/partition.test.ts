import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assessment } from '../../src/cluster/health.js';
import { loadInventory } from '../../src/inventory/load.js';
import { DrillCluster } from '../../src/drill/lab.js';
import { partitionDrill } from '../../src/drill/partition.js';
import { quorumLossDrill } from '../../src/drill/quorum.js';
import { labHeal, labNetwork } from '../../src/lab/index.js';
import { runCli } from '../support/cli.js';
import { patroniMembers, syncReady } from '../support/cluster.js';
import { etcdLeaderMovedOffPostgresLeader } from '../support/etcd-leader.js';
import { apply, changedTasks, ensureStack, LAB_INVENTORY, onHost } from '../support/lab.js';

// Synchronous, with the fast profile the target is stated for (writes back within 30 s of the cut).
const SYNC = { patroni_durability: 'sync', patroni_ttl: 20, patroni_loop_wait: 5, patroni_retry_timeout: 5 };

/**
 * A replica cut off while the leader keeps running: the leader must keep taking writes (in strict mode, another
 * replica becomes the synchronous standby) and the replica must catch up when its network comes back. Then etcd
 * loses quorum: the leader must stop taking writes, and take them again without losing any when quorum returns.
 *
 * The leader's own partition is tested on Debian 13 (trixie.test.ts) and repeated on both by `npm run bench`
 * (BENCH_ONLY=partitions). What made it lose writes on Debian 12 is replayed here exactly, and shown prevented.
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

  // Patroni 3.0.2's etcd3 client renews the leader key from its cached view of the cluster. After a partition
  // heals, the old leader's view is the one from before the cut: "I lead", with a lease that has expired. It wrote
  // the key unconditionally, taking it from the leader elected meanwhile (whose acknowledged writes were then
  // lost). pgprov starts Patroni through a launcher that writes the key only while it names the member or is gone.
  it("an old leader's stale renewal does not take the leader key from the new leader", async () => {
    const race = readFileSync(join(import.meta.dirname, '..', 'support', 'leader-key-race.py'), 'utf8');
    const run = async (mode: 'guarded' | 'unguarded') =>
      JSON.parse(
        await onHost(
          'pg1',
          `cat > /var/tmp/pgprov-leader-key-race.py <<'PY'\n${race}\nPY\n` +
            `runuser -u postgres -- python3 /var/tmp/pgprov-leader-key-race.py ${mode} 2>/dev/null`,
        ),
      ) as { patroni: string; stale_renewal: boolean; holder_after_stale_renewal: { name: string } };
    const guarded = await run('guarded');
    expect(guarded).toMatchObject({
      stale_renewal: false,
      holder_after_stale_renewal: { name: 'new' },
      own_key_new_lease: true,
      own_key_lease_now: true,
    });
    // Without the launcher, the release the lab runs shows the fault (fixed upstream in 3.0.3).
    const unguarded = await run('unguarded');
    const needsGuard = /^3\.0\.[0-2]$/.test(unguarded.patroni);
    expect(unguarded.holder_after_stale_renewal.name).toBe(needsGuard ? 'old' : 'new');
    // The cluster's Patroni runs through the launcher, and says whether it changed anything.
    const said = await onHost(
      'pg1',
      "journalctl -u patroni --no-pager -o cat | grep '^pgprov guard:' | tail -n1",
    );
    expect(said).toContain(needsGuard ? 'the leader key is taken only while' : 'running it unchanged');
    // ...which `status` reads from the running process: no member is said to run without the guard.
    const status = JSON.parse((await runCli('status', LAB_INVENTORY, '--json')).stdout) as Assessment;
    expect(status.advisories).toEqual([]);
  });

  // Where etcd runs on the PostgreSQL hosts, a cut of the leader's host must not also take etcd's leader.
  it("etcd's leader moved onto the PostgreSQL leader's host is handed away within seconds", async () => {
    await etcdLeaderMovedOffPostgresLeader(new DrillCluster(await loadInventory(LAB_INVENTORY)));
  });

  // Strict: with no synchronous standby the leader would refuse writes, so it must make the other replica its
  // synchronous standby while the first is cut off (the issue asks for this with 3 members).
  it('the synchronous standby cut for 30 s (strict): the leader keeps a synchronous standby and takes writes', async () => {
    expect((await apply({ extraVars: { ...SYNC, patroni_durability: 'strict' } })).failed).toBe(false);
    const before = await syncReady();
    const leader = before.find((m) => m.Role === 'Leader')?.Member as string;
    const standby = before.find((m) => m.Role === 'Sync Standby')?.Member as string;
    const cluster = new DrillCluster(await loadInventory(LAB_INVENTORY));
    let done = false;
    const drill = partitionDrill(cluster, labNetwork, {
      target: 'replica',
      forMs: 30_000,
      table: 'replica_partition_writes',
    }).finally(() => {
      done = true;
    });
    // The synchronous standbys the leader names while the drill runs (read on the leader, which stays reachable).
    const standbys = new Set<string>();
    while (!done) {
      for (const m of await patroniMembers(leader).catch(() => []))
        if (m.Role === 'Sync Standby') standbys.add(m.Member);
      await sleep(2_000);
    }
    const r = await drill;
    console.log(
      `partition (strict): replica ${r.cut} cut off for 30 s; synchronous standbys meanwhile: ` +
        `${[...standbys].join(', ')}; writes refused for ${r.outageSeconds.toFixed(1)} s at most; ` +
        `${r.acknowledged} acknowledged, ${r.lost?.length ?? 'unknown'} lost`,
    );
    expect(r.cut).toBe(standby);
    expect(r.newLeader).toBe(r.leader);
    expect(r.lost).toEqual([]);
    const other = before.find((m) => m.Member !== leader && m.Member !== standby)?.Member;
    expect([...standbys]).toContain(other);
    // Commits wait while the leader still counts the cut standby as connected (wal_sender_timeout), then Patroni
    // makes the other replica the synchronous standby.
    expect(r.outageSeconds).toBeLessThan(30);
    const leaderRow = r.members.find((m) => m.role === 'leader');
    for (const m of r.members.filter((x) => x.role === 'replica'))
      expect(m).toMatchObject({ receiver: 'streaming', timeline: leaderRow?.timeline });
    expect((await apply({ extraVars: SYNC })).failed).toBe(false);
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
