import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { raw, sh } from '../core/command.js';
import { IncompleteError, SafetyError } from '../core/errors.js';
import { assess } from '../cluster/health.js';
import { planRestore, type RestorePlan, type RestoreTarget } from '../cluster/restore.js';
import { until } from '../core/until.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE, readOptional, writeFileAtomic } from '../pki/state-dir.js';
import { listBackups } from './backup.js';
import { emptyDataDir, startPatroni, stopPatroni, waitStreaming } from './member.js';
import type { Confirm, Session } from './session.js';
import { MEMBERS_ONLY, readAssessment, readCluster } from './status.js';

/** Settings `pgbackrest restore` writes to postgresql.auto.conf; left there, they would stop a future replica. */
const RECOVERY_SETTINGS = [
  'restore_command',
  'recovery_target',
  'recovery_target_time',
  'recovery_target_name',
  'recovery_target_lsn',
  'recovery_target_xid',
  'recovery_target_inclusive',
  'recovery_target_action',
  'recovery_target_timeline',
];

export interface RestoreResult {
  plan: RestorePlan;
  host: string;
  timeline?: number;
}

/**
 * Point-in-time restore of the whole cluster, the runbook made one command:
 *  1. read the cluster and the repository, check the target, say what is discarded, ask;
 *  2. on the leader, commit one transaction and archive the current WAL (pgbackrest check), so the newest
 *     changes and the target are in the archive;
 *  3. stop Patroni on the replicas, then on the leader; delete the cluster's keys in etcd;
 *  4. restore on one member with pgBackRest and let PostgreSQL replay to the target and promote (a new
 *     timeline), outside Patroni, listening on its socket only; clear the recovery settings; stop it;
 *  5. start Patroni there: it finds no cluster in etcd and takes the restored data as the cluster;
 *  6. empty the other members' data directories and start Patroni: they clone the new leader;
 *  7. wait until every member streams on the new timeline.
 */
export async function restore(
  session: Session,
  options: { target: RestoreTarget; confirm: Confirm; progress: (message: string) => void },
): Promise<RestoreResult> {
  const { progress } = options;
  const members = session.group('postgres_cluster').map((h) => h.name);
  const before = await readCluster(session);
  const down = members.filter((h) => before.unreachable[h]);
  if (down.length > 0) {
    throw new SafetyError(
      `cannot restore while ${down.join(', ')} ${down.length > 1 ? 'are' : 'is'} unreachable. Nothing was changed.`,
      {
        hint: 'every member is rebuilt by a restore: a member left out would come back with the discarded history',
      },
    );
  }
  const a = assess(before, MEMBERS_ONLY);
  const { info } = await listBackups(session);
  // A restore that stopped part-way left the cluster without a leader; running it again resumes with the
  // timeline and member it started with (a failed attempt may have made timelines of its own since).
  const unfinished = a.leader ? undefined : await readUnfinished(session);
  const timeline = a.leader ? a.timeline : unfinished?.timeline;
  const plan = planRestore(options.target, info.backups, new Date(), timeline);
  const host = a.leader ?? unfinished?.host ?? (members[0] as string);
  const data = String(session.vars(host).postgresql_data_dir);
  await options.confirm(
    [
      `restore cluster ${session.clusterName} from backup ${plan.backup.label} (${plan.backup.type}) to ${describeTarget(options.target)}:`,
      `  - DISCARDED: ${plan.discards}, on every member (${members.join(', ')}).`,
      `  - Patroni is stopped on every member and the cluster's keys in etcd are deleted: no writes until it is done.`,
      `  - ${host} is restored in place (${data}); the data directories of ${members.filter((m) => m !== host).join(', ') || 'no other member'} are DELETED and cloned from it.`,
      `  - The repository keeps every backup and archived WAL: the restore can be repeated to another point.`,
    ],
    session.clusterName,
  );
  await session.lock(members);
  if (a.leader) await writeUnfinished(session, { host, ...(timeline !== undefined ? { timeline } : {}) });
  let step = 'archive the newest WAL';
  const stage = (name: string) => {
    step = name;
    progress(name);
  };
  try {
    const done = await restoreSteps(session, { plan, host, leader: a.leader, members, stage, progress });
    await rm(unfinishedFile(session), { force: true });
    return done;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new IncompleteError(`the restore stopped at "${step}": ${message}`, {
      hint:
        step === 'archive the newest WAL'
          ? 'nothing was changed yet; fix the cause (`pgprov status`, `pgbackrest check`) and run the restore again'
          : 'the cluster is down (Patroni stopped or rebuilding); the backups and archived WAL are untouched: fix the cause and run the same restore again',
      cause: error,
    });
  }
}

async function restoreSteps(
  session: Session,
  o: {
    plan: RestorePlan;
    host: string;
    leader: string | undefined;
    members: string[];
    stage: (name: string) => void;
    progress: (message: string) => void;
  },
): Promise<RestoreResult> {
  const { plan, host, members, stage, progress } = o;
  const data = String(session.vars(host).postgresql_data_dir);
  const v = session.vars(host);
  const stanza = `--stanza=${session.clusterName}`;

  if (o.leader) {
    stage('archive the newest WAL');
    await session.run(
      o.leader,
      sh`runuser -u postgres -- psql -XAtq -d postgres -c 'SELECT txid_current()' && runuser -u postgres -- pgbackrest ${stanza} check`,
      'commit a transaction and archive the current WAL (pgbackrest check)',
      { timeoutMs: 180_000 },
    );
  }
  for (const m of [...members.filter((x) => x !== o.leader), ...(o.leader ? [o.leader] : [])]) {
    stage(`stop Patroni on ${m}`);
    await stopPatroni(session, m);
  }
  stage(`delete cluster ${session.clusterName}'s keys in etcd`);
  await forgetCluster(session, host);

  // The restored postgresql.conf is the one Patroni wrote on the host the backup was taken from (its addresses,
  // its certificate): recovery runs on the socket only and without TLS, and Patroni writes this host's own
  // configuration when it starts.
  const pgCtl = `${String(v.postgresql_bin_dir)}/pg_ctl`;
  stage(`restore ${plan.backup.label} on ${host} (pgbackrest ${plan.options.join(' ')})`);
  await session.run(
    host,
    sh`install -d -o postgres -g postgres -m 0700 ${data} && { ! runuser -u postgres -- ${pgCtl} -D ${data} status >/dev/null || runuser -u postgres -- ${pgCtl} -D ${data} -m fast -w stop; } && runuser -u postgres -- pgbackrest ${stanza} --delta --log-level-console=warn ${plan.options} restore`,
    'pgbackrest restore',
    { timeoutMs: 24 * 3_600_000 },
  );
  stage(`replay WAL on ${host} up to the target, then promote (a new timeline)`);
  const port = Number(v.postgresql_port);
  await session.run(
    host,
    sh`runuser -u postgres -- ${pgCtl} -D ${data} -l ${`${data}/pgprov-restore.log`} -w -t 600 -o ${`-c listen_addresses='' -c ssl=off -p ${port}`} start || { tail -n 20 ${`${data}/pgprov-restore.log`}; ls -t /var/log/postgresql/*.log 2>/dev/null | head -n1 | xargs -r tail -n 20; exit 1; }`,
    'start PostgreSQL for recovery',
    { timeoutMs: 700_000 },
  );
  const psql = (sql: string) =>
    sh`runuser -u postgres -- psql -XAtq -p ${port} -h /var/run/postgresql -d postgres -c ${sql}`;
  const log = sh`tail -n 5 ${`${data}/pgprov-restore.log`}; ls -t /var/log/postgresql/*.log 2>/dev/null | head -n1 | xargs -r tail -n 8`;
  const ticker = setInterval(() => progress('  still replaying'), 30_000);
  try {
    for (;;) {
      const r = await (
        await session.transport(host)
      ).exec(
        sh`${psql('SELECT pg_is_in_recovery()')} || { runuser -u postgres -- ${pgCtl} -D ${data} status >/dev/null && echo starting || { echo stopped; ${log}; }; }`,
      );
      const out = r.stdout.trim();
      if (out === 'f') break;
      if (out.startsWith('stopped')) {
        throw new Error(
          `PostgreSQL on ${host} stopped during recovery:\n${session.masker.mask(out.slice('stopped'.length).trim())}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  } finally {
    clearInterval(ticker);
  }
  await session.run(
    host,
    sh`runuser -u postgres -- psql -XAtq -p ${port} -h /var/run/postgresql -d postgres ${RECOVERY_SETTINGS.flatMap((x) => ['-c', `ALTER SYSTEM RESET ${x}`])} && runuser -u postgres -- ${pgCtl} -D ${data} -m fast -w -t 300 stop && rm -f ${`${data}/pgprov-restore.log`}`,
    'clear the recovery settings and stop PostgreSQL',
    { timeoutMs: 400_000 },
  );

  stage(`start Patroni on ${host}: it takes the restored data as the cluster`);
  await startPatroni(session, host);
  const led = await until(
    `${host} to lead the restored cluster`,
    async () => await readAssessment(session),
    (x) => x.leader === host && x.members.find((m) => m.member === host)?.state === 'running',
    300_000,
  );
  progress(`${host} leads on timeline ${led.timeline ?? '?'}`);
  for (const m of members.filter((x) => x !== host)) {
    stage(`rebuild ${m} from ${host}`);
    await emptyDataDir(session, m);
    await startPatroni(session, m);
  }
  for (const m of members.filter((x) => x !== host)) await waitStreaming(session, m, 30 * 60_000, progress);
  return { plan, host, ...(led.timeline !== undefined ? { timeline: led.timeline } : {}) };
}

export function describeTarget(target: RestoreTarget): string {
  if (target.kind === 'latest') return 'the newest archived WAL';
  if (target.kind === 'backup') return `the end of backup ${target.label}`;
  return target.text;
}

/**
 * Deletes every key of the cluster in etcd (Patroni's leader, members, initialize key, config, history), through
 * etcd's v3 JSON API from a member with Patroni's certificate: the restored data becomes a new cluster there.
 */
async function forgetCluster(session: Session, host: string): Promise<void> {
  const v = session.vars(host);
  const prefix = `/${String(v.patroni_namespace)}/${session.clusterName}`.replace(/\/+/g, '/');
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const body = JSON.stringify({ key: b64(`${prefix}/`), range_end: b64(`${prefix}0`) });
  const pki = String(v.patroni_pki_dir);
  const endpoints = session
    .group('etcd_cluster')
    .map(
      (h) =>
        `https://${h.connection.address}:${String(session.vars(h.name).etcd_client_port)}/v3/kv/deleterange`,
    );
  await session.run(
    host,
    sh`for url in ${endpoints}; do curl -sS --fail --max-time 5 --cacert ${`${pki}/ca.crt`} --cert ${`${pki}/${host}.crt`} --key ${`${pki}/${host}.key`} -d ${body} "$url" && exit 0; done; echo ${raw("'no etcd member answered'")} >&2; exit 1`,
    `delete the keys under ${prefix}/ in etcd`,
  );
}

interface Unfinished {
  host: string;
  timeline?: number;
}

const unfinishedFile = (session: Session) => join(session.inventory.stateDir, 'restore-unfinished.json');

async function readUnfinished(session: Session): Promise<Unfinished | undefined> {
  const text = await readOptional(unfinishedFile(session));
  return text === undefined ? undefined : (JSON.parse(text) as Unfinished);
}

async function writeUnfinished(session: Session, record: Unfinished): Promise<void> {
  await ensurePrivateDir(session.inventory.stateDir);
  await writeFileAtomic(unfinishedFile(session), `${JSON.stringify(record)}\n`, PRIVATE_FILE_MODE);
}
