import { takeBackup } from '../operate/backup.js';
import { reinit } from '../operate/reinit.js';
import { restore } from '../operate/restore.js';
import { Session } from '../operate/session.js';
import { readAssessment } from '../operate/status.js';
import { stats } from './apply.js';

const quiet = () => undefined;
const yes = async () => undefined;

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { seconds: (performance.now() - started) / 1000, value };
}

/** One session each time, as one `pgprov <command>` opens one. */
async function inSession<T>(inventory: string, work: (s: Session) => Promise<T>): Promise<T> {
  const session = await Session.open(inventory);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

/**
 * Day-2 commands on the deployed lab, timed as a user runs them (a session opened each time): status (the
 * monitoring check), a full backup, reinit of a replica, and a restore of the whole cluster to the newest WAL.
 */
export async function day2Bench(
  inventory: string,
  repeat: number,
  log: (line: string) => void,
): Promise<void> {
  const s = (x: number, digits = 1) => `${x.toFixed(digits)} s`;
  const statusRuns: number[] = [];
  let verdict = '';
  for (let i = 0; i < repeat; i++) {
    const run = await timed(() => inSession(inventory, async (session) => await readAssessment(session)));
    statusRuns.push(run.seconds);
    verdict = run.value.verdict;
  }
  const st = stats(statusRuns);
  log(
    `status, whole cluster (median of ${repeat})     ${s(st.median, 2)}   min ${s(st.min, 2)}, max ${s(st.max, 2)} (${verdict}; target < 2 s)`,
  );
  const backup = await timed(() => inSession(inventory, (session) => takeBackup(session, 'full', quiet)));
  log(
    `backup, full (${(backup.value.databaseBytes / 2 ** 20).toFixed(0)} MiB database)          ${s(backup.seconds)}`,
  );
  const leader = await inSession(inventory, async (session) => (await readAssessment(session)).leader);
  const replica = ['pg3', 'pg2', 'pg1'].find((h) => h !== leader) as string;
  const rebuilt = await timed(() =>
    inSession(inventory, (session) => reinit(session, { host: replica, confirm: yes, progress: quiet })),
  );
  log(`reinit of a replica, until it streams      ${s(rebuilt.seconds)}`);
  const restored = await timed(() =>
    inSession(inventory, (session) =>
      restore(session, { target: { kind: 'latest' }, confirm: yes, progress: quiet }),
    ),
  );
  log(
    `restore --latest, until all 3 stream       ${s(restored.seconds)}   (timeline ${restored.value.timeline ?? '?'})`,
  );
}
