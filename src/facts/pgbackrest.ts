import { sh } from '../core/command.js';
import { defineFact } from './fact.js';

/** One backup in the repository, as `pgbackrest info` lists it. */
export interface Backup {
  label: string;
  type: 'full' | 'diff' | 'incr';
  /** Unix seconds. */
  started: number;
  stopped: number;
  /** Size of the database at backup time, and of what the backup stored in the repository (compressed). */
  databaseBytes: number;
  repositoryBytes: number;
  /** The WAL needed to make it consistent. */
  walStart: string;
  walStop: string;
  /** The backup it builds on (diff, incr). */
  prior?: string;
}

export type StanzaInfo =
  | {
      answered: true;
      /** pgBackRest's status: 0 ok, 2 no valid backups, ... */
      status: { code: number; message: string };
      backups: Backup[];
      /** WAL kept in the archive, oldest and newest segment (of the current database). */
      archive?: { min: string; max: string };
    }
  | { answered: false; why: string };

/** The stanza's backups, read on a host with pgBackRest (the repository host, or any database host). */
export const stanzaFact = defineFact<{ stanza: string }, StanzaInfo>({
  name: 'pgbackrest-info',
  key: ({ stanza }) => stanza,
  command: ({ stanza }) =>
    sh`runuser -u postgres -- pgbackrest ${`--stanza=${stanza}`} --output=json info 2>&1`,
  parse: ({ stdout, code }, { stanza }) => parseStanzaInfo(stdout, code, stanza),
});

export function parseStanzaInfo(stdout: string, code: number, stanza: string): StanzaInfo {
  const out = stdout.trim();
  if (code !== 0) {
    return { answered: false, why: `pgbackrest info exited ${code}: ${out.split('\n').at(-1) ?? ''}` };
  }
  let list: Record<string, unknown>[];
  try {
    list = JSON.parse(out) as Record<string, unknown>[];
  } catch {
    return { answered: false, why: `pgbackrest info printed what is not JSON: ${out.slice(0, 120)}` };
  }
  const info = list.find((s) => s.name === stanza);
  if (!info) return { answered: false, why: `pgbackrest knows no stanza ${stanza}` };
  const status = (info.status ?? {}) as { code?: number; message?: string };
  const backups = ((info.backup ?? []) as RawBackup[]).map((b): Backup => ({
    label: String(b.label),
    type: b.type,
    started: Number(b.timestamp?.start),
    stopped: Number(b.timestamp?.stop),
    databaseBytes: Number(b.info?.size ?? 0),
    repositoryBytes: Number(b.info?.repository?.delta ?? b.info?.repository?.size ?? 0),
    walStart: String(b.archive?.start ?? ''),
    walStop: String(b.archive?.stop ?? ''),
    ...(b.prior ? { prior: String(b.prior) } : {}),
  }));
  const archives = (info.archive ?? []) as { min?: string; max?: string }[];
  const newest = archives.at(-1);
  return {
    answered: true,
    status: { code: Number(status.code ?? -1), message: String(status.message ?? '') },
    backups,
    ...(newest?.min && newest.max ? { archive: { min: newest.min, max: newest.max } } : {}),
  };
}

/** A backup as pgBackRest 2.4x-2.5x prints it in `info --output=json` (the fields read here). */
interface RawBackup {
  label: string;
  type: Backup['type'];
  prior?: string | null;
  timestamp?: { start?: number; stop?: number };
  info?: { size?: number; repository?: { delta?: number; size?: number } };
  archive?: { start?: string; stop?: string };
}
