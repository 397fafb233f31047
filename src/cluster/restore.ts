import { UsageError } from '../core/errors.js';
import type { Backup } from '../facts/pgbackrest.js';

/** What to restore: a point in time, the newest archived WAL, or the end of one backup. */
export type RestoreTarget =
  { kind: 'time'; time: Date; text: string } | { kind: 'latest' } | { kind: 'backup'; label: string };

export interface RestorePlan {
  target: RestoreTarget;
  /** The backup pgBackRest starts from. */
  backup: Backup;
  /** pgbackrest restore's options that select the target. */
  options: string[];
  /** What is discarded, in words. */
  discards: string;
}

/** Reads --to / --latest / --backup: exactly one. */
export function parseTarget(flags: { to?: string; latest?: boolean; backup?: string }): RestoreTarget {
  const given = [flags.to !== undefined, flags.latest === true, flags.backup !== undefined].filter(
    Boolean,
  ).length;
  if (given !== 1) {
    throw new UsageError('say what to restore with exactly one of --to TIME, --latest or --backup LABEL', {
      hint: 'e.g. --to "2026-11-23 14:30:00+00" (a time with its zone), --latest, or --backup 20261123-010000F (see `pgprov backups`)',
    });
  }
  if (flags.latest) return { kind: 'latest' };
  if (flags.backup !== undefined) return { kind: 'backup', label: flags.backup };
  const text = (flags.to as string).trim();
  // A zone is required: a time without one would be read in the zone of whichever host parses it.
  if (!/(Z|[+-]\d{2}(:?\d{2})?)$/i.test(text)) {
    throw new UsageError(`--to '${text}' has no time zone`, {
      hint: 'end it with a zone: "2026-11-23 14:30:00+00" or "2026-11-23T14:30:00Z"',
    });
  }
  const time = new Date(text.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00'));
  if (Number.isNaN(time.getTime())) {
    throw new UsageError(`--to '${text}' is not a time`, { hint: 'write it as "2026-11-23 14:30:00+00"' });
  }
  return { kind: 'time', time, text };
}

/**
 * Pure: checks the target against the repository's backups and the clock, and says what the restore will start
 * from and what it discards.
 */
export function planRestore(
  target: RestoreTarget,
  backups: readonly Backup[],
  now: Date,
  timeline?: number,
): RestorePlan {
  // Replay follows the cluster's own history (the timeline it ran on), not the newest timeline in the archive:
  // an earlier restore or an attempt that stopped part-way may have branched off newer ones.
  const follow = timeline === undefined ? [] : [`--target-timeline=${timeline}`];
  if (backups.length === 0) {
    throw new UsageError('the repository holds no backup: there is nothing to restore from', {
      hint: 'take backups with `pgprov backup` (they are scheduled by `apply` too)',
    });
  }
  const newest = backups.at(-1) as Backup;
  if (target.kind === 'latest') {
    return {
      target,
      backup: newest,
      options: ['--type=default', ...follow],
      discards:
        'nothing that reached the WAL archive: the cluster is rebuilt from the newest backup and every archived WAL segment',
    };
  }
  if (target.kind === 'backup') {
    const backup = backups.find((b) => b.label === target.label);
    if (!backup) {
      throw new UsageError(`no backup ${target.label} in the repository`, {
        hint: `backups: ${backups.map((b) => b.label).join(', ')}`,
      });
    }
    return {
      target,
      backup,
      options: [`--set=${backup.label}`, '--type=immediate', '--target-action=promote'],
      discards: `every change made after backup ${backup.label} ended (${new Date(backup.stopped * 1000).toISOString()})`,
    };
  }
  const at = target.time.getTime() / 1000;
  if (target.time.getTime() > now.getTime()) {
    throw new UsageError(`--to ${target.text} is in the future`, {
      hint: 'restore to a time that has passed',
    });
  }
  const from = backups.filter((b) => b.stopped <= at).at(-1);
  if (!from) {
    throw new UsageError(
      `no backup ended before ${target.text}: the oldest ended at ${new Date((backups[0] as Backup).stopped * 1000).toISOString()}`,
      { hint: 'choose a later time (`pgprov backups` lists what can be restored)' },
    );
  }
  return {
    target,
    backup: from,
    options: [
      `--set=${from.label}`,
      '--type=time',
      `--target=${target.text}`,
      '--target-action=promote',
      ...follow,
    ],
    discards: `every change committed after ${target.time.toISOString()} (until now)`,
  };
}
