import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assessment } from '../../src/cluster/health.js';
import { longestRefusal, type Writer } from '../../src/drill/writer.js';
import { loadInventory } from '../../src/inventory/load.js';
import { labStart, labStop } from '../../src/lab/index.js';
import { runCli } from './cli.js';
import { lostThroughVip, patroniMembers, syncReady, vipWriter, waitFor, writesTable } from './cluster.js';
import { apply, changedTasks, currentInventory, ensureStack, onHost } from './lab.js';

const SYNC = { patroni_durability: 'sync' };

const running = (state: string): boolean => ['running', 'streaming'].includes(state);

/**
 * The drill operators type by hand today: pull the leader's plug, watch a replica take over behind the VIP,
 * power the old leader on again and see it rejoin. In synchronous mode, no acknowledged write may be lost.
 * Declared by failover.test.ts (Debian 12) and trixie.test.ts (Debian 13) on their file's inventory.
 */
export function describeFailoverDrill(platform: string): void {
  describe(`failover drill on ${platform}: the leader host loses power (synchronous mode)`, () => {
    let leader = '';
    let newLeader = '';
    let writer: Writer | undefined;
    // Each database host's address, the server a write through the VIP reports.
    let address: Record<string, string> = {};

    beforeAll(async () => {
      await ensureStack(SYNC);
      const inventory = await loadInventory(currentInventory());
      address = Object.fromEntries(
        inventory.hosts
          .filter((h) => inventory.groups.postgres_cluster?.includes(h.name))
          .map((h) => [h.name, h.connection.address]),
      );
      const members = await syncReady();
      leader = members.find((m) => m.Role === 'Leader')?.Member as string;
      await writesTable('failover_writes');
    });

    afterAll(async () => {
      await writer?.stop();
      await labStart(leader).catch(() => undefined);
      // Back to the role defaults (asynchronous) for the files after this one.
      await apply();
    });

    it('a replica is promoted, the VIP routes writes to it, and no acknowledged write is lost', async () => {
      const live = vipWriter('failover_writes');
      writer = live;
      await waitFor(
        'writes acknowledged by the leader',
        async () => live.writes,
        (w) => w.filter((x) => x.ok).length >= 20,
      );
      await labStop(leader, { hard: true });
      const cutAt = live.writes.at(-1)?.answered ?? 0;
      // Writes resume on another member; keep writing a few seconds more.
      await waitFor(
        'writes acknowledged by a new leader',
        async () => live.writes,
        (w) => w.filter((x) => x.ok && x.server !== address[leader]).length >= 30,
        120_000,
      );
      const writes = await live.stop();
      writer = undefined;

      const refused = longestRefusal(writes);
      console.log(
        `failover: leader ${leader} powered off at ${(cutAt / 1000).toFixed(1)} s; writes through the VIP refused ` +
          `for ${refused.seconds.toFixed(1)} s (Patroni ttl 30, loop_wait 10; HAProxy checks every 1 s)`,
      );
      const members = await patroniMembers(Object.keys(address).find((h) => h !== leader));
      newLeader = members.find((m) => m.Role === 'Leader')?.Member as string;
      expect(newLeader).toBeTruthy();
      expect(newLeader).not.toBe(leader);
      expect(writes.filter((w) => w.ok).at(-1)?.server).toBe(address[newLeader]);
      // Patroni's defaults: the leader key outlives the dead leader by up to ttl (30 s); then one loop, HAProxy's
      // checks and keepalived's move of the VIP.
      expect(refused.seconds).toBeLessThan(60);

      expect(await lostThroughVip('failover_writes', writes)).toEqual([]);
    });

    it('status tells the truth meanwhile: the new leader, the old one unreachable, degraded (exit 3)', async () => {
      const { code, stdout, stderr } = await runCli('status', currentInventory(), '--json');
      expect(code, stderr).toBe(3);
      const a = JSON.parse(stdout) as Assessment;
      expect(a.leader).toBe(newLeader);
      expect(a.problems.map((p) => p.subject)).toContain(leader);
      expect(a.problems.find((p) => p.subject === leader)?.message).toMatch(/^unreachable over SSH/);
      expect(a.problems.filter((p) => p.severity === 'critical')).toEqual([]);
    });

    it('powered on again, the old leader rejoins as a replica on the new timeline and streams', async () => {
      await labStart(leader);
      const members = await waitFor(
        `${leader} back as a running replica on the leader's timeline`,
        () => patroniMembers(newLeader),
        (m) => {
          const tl = m.find((x) => x.Role === 'Leader')?.TL;
          const old = m.find((x) => x.Member === leader);
          return old !== undefined && old.Role !== 'Leader' && running(old.State) && old.TL === tl;
        },
        180_000,
      );
      expect(members.filter((m) => m.Role === 'Leader').map((m) => m.Member)).toEqual([newLeader]);
      // Streaming as PostgreSQL sees it, not as Patroni reports it.
      const receiver = await waitFor(
        `${leader}'s WAL receiver to stream`,
        () => onHost(leader, `sudo -u postgres psql -Atc "SELECT status FROM pg_stat_wal_receiver"`),
        (s) => s.trim() === 'streaming',
      );
      expect(receiver.trim()).toBe('streaming');
      const streaming = await onHost(
        newLeader,
        `sudo -u postgres psql -Atc "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"`,
      );
      expect(streaming.trim()).toBe('2');
    });

    it('a second apply after the drill reports 0 changed', async () => {
      const run = await apply({ extraVars: SYNC });
      expect(run.failed).toBe(false);
      expect(changedTasks(run)).toEqual([]);
    });
  });
}
