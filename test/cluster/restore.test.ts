import { describe, expect, it } from 'vitest';
import { parseTarget, planRestore } from '../../src/cluster/restore.js';
import type { Backup } from '../../src/facts/pgbackrest.js';

const at = (iso: string) => new Date(iso).getTime() / 1000;
const backup = (label: string, type: Backup['type'], stopped: string): Backup => ({
  label,
  type,
  started: at(stopped) - 60,
  stopped: at(stopped),
  databaseBytes: 1,
  repositoryBytes: 1,
  walStart: '',
  walStop: '',
});
const BACKUPS = [
  backup('20261120-010000F', 'full', '2026-11-20T01:01:00Z'),
  backup('20261120-010000F_20261121-010000D', 'diff', '2026-11-21T01:01:00Z'),
];
const NOW = new Date('2026-11-25T12:00:00Z');

describe('restore targets', () => {
  it('takes exactly one of --to, --latest, --backup; a time needs its zone', () => {
    expect(parseTarget({ latest: true })).toEqual({ kind: 'latest' });
    expect(parseTarget({ backup: 'X' })).toEqual({ kind: 'backup', label: 'X' });
    const t = parseTarget({ to: '2026-11-23 14:30:00+00' });
    expect(t.kind === 'time' && t.time.toISOString()).toBe('2026-11-23T14:30:00.000Z');
    expect(() => parseTarget({})).toThrow(/exactly one of --to TIME, --latest or --backup LABEL/);
    expect(() => parseTarget({ latest: true, backup: 'X' })).toThrow(/exactly one/);
    expect(() => parseTarget({ to: '2026-11-23 14:30:00' })).toThrow(/has no time zone/);
    expect(() => parseTarget({ to: 'yesterday+00' })).toThrow(/is not a time/);
  });

  it('starts from the newest backup that ended before the time, and follows the timeline given', () => {
    const plan = planRestore(
      { kind: 'time', time: new Date('2026-11-20T12:00:00Z'), text: '2026-11-20 12:00:00+00' },
      BACKUPS,
      NOW,
      3,
    );
    expect(plan.backup.label).toBe('20261120-010000F');
    expect(plan.options).toEqual([
      '--set=20261120-010000F',
      '--type=time',
      '--target=2026-11-20 12:00:00+00',
      '--target-action=promote',
      '--target-timeline=3',
    ]);
    expect(plan.discards).toBe('every change committed after 2026-11-20T12:00:00.000Z (until now)');
  });

  it('refuses a time before every backup, a time to come, an unknown backup, an empty repository', () => {
    const time = (iso: string) => ({ kind: 'time', time: new Date(iso), text: iso }) as const;
    expect(() => planRestore(time('2026-11-19T00:00:00Z'), BACKUPS, NOW)).toThrow(/no backup ended before/);
    expect(() => planRestore(time('2026-11-26T00:00:00Z'), BACKUPS, NOW)).toThrow(/is in the future/);
    expect(() => planRestore({ kind: 'backup', label: 'nope' }, BACKUPS, NOW)).toThrow(/no backup nope/);
    expect(() => planRestore({ kind: 'latest' }, [], NOW)).toThrow(/holds no backup/);
  });

  it('--backup stops at the end of that backup; --latest replays all the archive holds', () => {
    expect(planRestore({ kind: 'backup', label: '20261120-010000F' }, BACKUPS, NOW).options).toEqual([
      '--set=20261120-010000F',
      '--type=immediate',
      '--target-action=promote',
    ]);
    expect(planRestore({ kind: 'latest' }, BACKUPS, NOW, 2).options).toEqual([
      '--type=default',
      '--target-timeline=2',
    ]);
  });
});
