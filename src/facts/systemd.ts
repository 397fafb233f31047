import { sh } from '../core/command.js';
import { defineFact } from './fact.js';

export interface UnitState {
  /** 'loaded', 'not-found', 'masked', ... */
  load: string;
  /** 'active', 'inactive', 'failed', 'activating', ... */
  active: string;
  /** 'enabled', 'disabled', 'static', 'masked', '' ... */
  unitFile: string;
  needDaemonReload: boolean;
}

export const unitFact = defineFact<{ name: string }, UnitState>({
  name: 'unit',
  key: ({ name }) => name,
  command: ({ name }) =>
    sh`systemctl show -p LoadState -p ActiveState -p UnitFileState -p NeedDaemonReload -- ${name}`,
  parse: ({ stdout }) => {
    const props = Object.fromEntries(
      stdout
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]),
    );
    return {
      load: props.LoadState ?? 'not-found',
      active: props.ActiveState ?? 'inactive',
      unitFile: props.UnitFileState ?? '',
      needDaemonReload: props.NeedDaemonReload === 'yes',
    };
  },
  // One systemctl for every unit: it prints one block of properties per unit, in order, blank-line separated.
  batch: {
    command: (args) =>
      sh`systemctl show -p LoadState -p ActiveState -p UnitFileState -p NeedDaemonReload -- ${args.map((a) => a.name)}`,
    split: ({ stdout, code }, args) => {
      const blocks = stdout.trim().split(/\n\s*\n/);
      return args.map((_, i) => ({ code, stdout: blocks[i] ?? '' }));
    },
  },
});

/** The command line a unit's main process runs (arguments joined by spaces); undefined when it runs none. */
export const unitCommandFact = defineFact<{ name: string }, { command?: string }>({
  name: 'unit-command',
  key: ({ name }) => name,
  command: ({ name }) =>
    sh`pid=$(systemctl show -p MainPID --value -- ${name}) && [ "$pid" -gt 0 ] && tr '\\0' ' ' </proc/"$pid"/cmdline || true`,
  parse: ({ stdout }) => (stdout.trim() ? { command: stdout.trim() } : {}),
});
