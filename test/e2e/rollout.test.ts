import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settled, vipWriter, writesTable } from '../support/cluster.js';
import { apply, changedTasks, ensureStack, onHost } from '../support/lab.js';
import { longestRefusal } from '../../src/drill/writer.js';

const HOSTS = ['pg1', 'pg2', 'pg3'];
const ADDRESS: Record<string, string> = { pg1: '10.231.0.11', pg2: '10.231.0.12', pg3: '10.231.0.13' };
const ROLLOUT = 'Restarts roll out replicas first, then a switchover, then the old leader';

/** Each member's setting and when its PostgreSQL last started. */
async function settings(name: string): Promise<Record<string, { value: string; started: number }>> {
  const out: Record<string, { value: string; started: number }> = {};
  for (const h of HOSTS) {
    const line = await onHost(
      h,
      `sudo -u postgres psql -Atc "SELECT current_setting('${name}'), extract(epoch FROM pg_postmaster_start_time())"`,
    );
    const [value = '', started = '0'] = line.trim().split('|');
    out[h] = { value, started: Number(started) };
  }
  return out;
}

async function healthy() {
  return settled();
}

describe('changing PostgreSQL parameters on a running cluster', () => {
  const base = { work_mem: '4MB', shared_buffers: '128MB' };

  beforeAll(async () => {
    await ensureStack({ postgresql_parameters: base });
    await healthy();
    await writesTable('rollout_writes');
  });

  afterAll(async () => {
    // Leave the lab on the role defaults for the files after this one.
    await apply();
  });

  it('a parameter that needs only a reload is applied by a reload: nothing restarts', async () => {
    const before = await settings('work_mem');
    const run = await apply({ extraVars: { postgresql_parameters: { ...base, work_mem: '8MB' } } });
    expect(run.events.filter((e) => e.type === 'host-failed')).toEqual([]);
    expect(
      changedTasks(run)
        .filter((t) => t.endsWith('reload patroni'))
        .sort(),
    ).toEqual(HOSTS.map((h) => `${h}: reload patroni`));
    expect(changedTasks(run).filter((t) => t.endsWith(ROLLOUT))).toEqual([]);
    const after = await settings('work_mem');
    for (const h of HOSTS) {
      expect(after[h]?.value, h).toBe('8MB');
      expect(after[h]?.started, `${h} restarted`).toBe(before[h]?.started);
    }
  });

  it('one that needs a restart rolls out: replicas, a switchover, the old leader; writable but for the switchover', async () => {
    const members = await healthy();
    const leader = members.find((m) => m.Role === 'Leader')?.Member as string;
    const replicas = HOSTS.filter((h) => h !== leader);
    const before = await settings('shared_buffers');
    const writer = vipWriter('rollout_writes');
    await new Promise((r) => setTimeout(r, 2_000));
    const run = await apply({
      extraVars: { postgresql_parameters: { ...base, work_mem: '8MB', shared_buffers: '160MB' } },
    });
    await new Promise((r) => setTimeout(r, 3_000));
    const writes = await writer.stop();
    expect(run.events.filter((e) => e.type === 'host-failed')).toEqual([]);
    expect(changedTasks(run).filter((t) => t.endsWith(ROLLOUT))).toHaveLength(1);

    const after = await settings('shared_buffers');
    for (const h of HOSTS) {
      expect(after[h]?.value, h).toBe('160MB');
      expect(after[h]?.started, `${h} restarted`).toBeGreaterThan(before[h]?.started as number);
    }
    // The replicas restarted before the old leader, which restarted (demoted) at the switchover.
    for (const r of replicas) expect(after[r]?.started).toBeLessThan(after[leader]?.started as number);
    const now = await healthy();
    const newLeader = now.find((m) => m.Role === 'Leader')?.Member as string;
    expect(newLeader).not.toBe(leader);

    // Writes were refused only while the leader changed: every failure falls between the last write the old
    // leader acknowledged and the first one the new leader acknowledged.
    const lastOld = writes.filter((w) => w.ok && w.server === ADDRESS[leader]).at(-1);
    const firstNew = writes.find((w) => w.ok && w.server === ADDRESS[newLeader]);
    expect(lastOld && firstNew).toBeTruthy();
    const outside = writes.filter(
      (w) => !w.ok && (w.sent < (lastOld?.answered ?? 0) || w.answered > (firstNew?.sent ?? 0)),
    );
    expect(outside).toEqual([]);
    expect(writes.filter((w) => w.ok).length).toBeGreaterThan(20);
    const refused = longestRefusal(writes);
    console.log(
      `rollout: ${writes.length} writes, ${writes.filter((w) => !w.ok).length} refused; ` +
        `writes through the VIP refused for ${refused.seconds.toFixed(1)} s at the switchover ${leader} -> ${newLeader}`,
    );
  });

  it('a second apply with the same parameters reports 0 changed', async () => {
    const run = await apply({
      extraVars: { postgresql_parameters: { ...base, work_mem: '8MB', shared_buffers: '160MB' } },
    });
    expect(run.failed).toBe(false);
    expect(changedTasks(run)).toEqual([]);
  });
});
