import { assess } from '../cluster/health.js';
import { planSwitchover, type SwitchoverPlan } from '../cluster/switchover.js';
import { until } from '../core/until.js';
import { longestRefusal, startWriter } from '../drill/writer.js';
import { switchoverCommand } from '../ops/patroni.js';
import type { Session } from './session.js';
import { MEMBERS_ONLY, readAssessment, readCluster } from './status.js';

export const PATRONI_CONFIG = '/etc/patroni/config.yml';

export interface SwitchoverResult extends SwitchoverPlan {
  timeline?: number;
  /** The longest time writes through the virtual IP were refused, when they could be measured. */
  refusedSeconds?: number;
  /** Why the refusal was not measured. */
  unmeasured?: string;
}

/**
 * A planned leader change: read the cluster, choose (or check) the candidate, then run the switchover through
 * patronictl on the leader while a client writes through the virtual IP, and wait until the candidate leads,
 * the old leader follows it on the new timeline and writes through the virtual IP work again.
 */
export async function switchover(
  session: Session,
  options: { to?: string; inventoryFile: string; progress: (message: string) => void },
): Promise<SwitchoverResult> {
  const { progress } = options;
  if (options.to) session.host(options.to);
  const before = await readCluster(session);
  const assessment = assess(before, MEMBERS_ONLY);
  const plan = planSwitchover(assessment, {
    ...(options.to ? { to: options.to } : {}),
    synchronousMode: before.settings.durability !== 'async',
    maximumLagMb: before.settings.maximumLagBytes / 1048576,
    inventoryFile: options.inventoryFile,
  });
  await session.lock(before.members.map((m) => m.host).filter((h) => !before.unreachable[h]));
  progress(`switching over from ${plan.from} to ${plan.to} (${plan.reason})`);

  const primaryPort = Number(session.setting('haproxy_primary_port') ?? 5000);
  const address = (host: string) => session.host(host).connection.address;
  let writer: ReturnType<typeof startWriter> | undefined;
  let unmeasured: string | undefined;
  try {
    const probe = await session.client(primaryPort, 'app', { connectMs: 3_000 });
    await probe.end();
    writer = startWriter(
      () => session.client(primaryPort, 'app', { connectMs: 2_000, queryMs: 5_000 }),
      undefined,
    );
  } catch (error) {
    unmeasured = `no client could write through the virtual IP before the switchover (${(error as Error).message})`;
  }
  try {
    const timeout = Math.max(120, Number(session.setting('patroni_ttl') ?? 30) * 4);
    await session.run(
      plan.from,
      switchoverCommand({
        config: PATRONI_CONFIG,
        cluster: session.clusterName,
        from: plan.from,
        to: plan.to,
        timeout,
        strict: true,
      }),
      `switchover ${plan.from} -> ${plan.to}`,
      { timeoutMs: (timeout * 2 + 30) * 1000 },
    );
    progress(`${plan.to} leads, ${plan.from} follows it`);
    if (writer) {
      const live = writer;
      progress('waiting for writes through the virtual IP to reach the new leader');
      await until(
        `writes through the virtual IP acknowledged by ${plan.to}`,
        async () => live.writes.filter((w) => w.ok && w.server === address(plan.to)).length,
        (n) => n >= 5,
        60_000,
      );
    }
  } finally {
    await writer?.stop();
  }
  const after = await readAssessment(session);
  return {
    ...plan,
    ...(after.timeline !== undefined ? { timeline: after.timeline } : {}),
    ...(writer ? { refusedSeconds: longestRefusal(writer.writes).seconds } : {}),
    ...(unmeasured ? { unmeasured } : {}),
  };
}
