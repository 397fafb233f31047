import { Command, join, sh } from '../core/command.js';
import { request } from '../facts/fact.js';
import { unitFact } from '../facts/systemd.js';
import { change, defineOperation, exec, noChange, type Plan, type Step } from './operation.js';

export interface ServiceArgs {
  name: string;
  /** started/stopped are states; restarted/reloaded are actions (used by handlers) and always run. */
  state?: 'started' | 'stopped' | 'restarted' | 'reloaded';
  enabled?: boolean;
  /**
   * With state reloaded: reloads the service and returns once the service has applied the change, where
   * `systemctl reload` only signals it (Patroni re-reads its file at its next cycle).
   */
  reloadCommand?: string;
}

export const serviceOp = defineOperation<ServiceArgs>({
  module: 'service',
  facts: ({ name }) => [request(unitFact, { name })],
  plan: ({ name, state, enabled, reloadCommand }, facts) => {
    const unit = facts.get(unitFact, { name });
    const steps: Step[] = [];
    const why: string[] = [];
    if (unit.needDaemonReload) {
      steps.push(exec(sh`systemctl daemon-reload`));
      why.push('unit files changed on disk (daemon-reload)');
    }
    if (enabled === true && unit.unitFile !== 'enabled' && unit.unitFile !== 'static') {
      steps.push(exec(sh`systemctl enable -- ${name}`));
      why.push(`enable ${name}`);
    } else if (enabled === false && unit.unitFile === 'enabled') {
      steps.push(exec(sh`systemctl disable -- ${name}`));
      why.push(`disable ${name}`);
    }
    if (state === 'started' && unit.active !== 'active') {
      steps.push(exec(current(sh`systemctl start -- ${name}`)));
      why.push(`start ${name} (was ${unit.load === 'not-found' ? 'not installed' : unit.active})`);
    } else if (state === 'stopped' && unit.active !== 'inactive' && unit.active !== 'failed') {
      steps.push(exec(sh`systemctl stop -- ${name}`));
      why.push(`stop ${name}`);
    } else if (state === 'restarted') {
      steps.push(exec(current(sh`systemctl restart -- ${name}`)));
      why.push(`restart ${name}`);
    } else if (state === 'reloaded') {
      const reload = reloadCommand ? new Command([reloadCommand]) : sh`systemctl reload -- ${name}`;
      steps.push(exec(unit.active === 'active' ? reload : current(sh`systemctl start -- ${name}`)));
      why.push(unit.active === 'active' ? `reload ${name}` : `start ${name} (was ${unit.active})`);
    }
    if (steps.length === 0) {
      const parts = [
        state === 'stopped' ? 'stopped' : state === 'started' ? 'running' : '',
        enabled === undefined ? '' : enabled ? 'enabled' : 'disabled',
      ];
      return noChange(`${name} is ${parts.filter(Boolean).join(' and ') || unit.active}`);
    }
    const starts =
      state === 'started' || state === 'restarted' || (state === 'reloaded' && unit.active !== 'active');
    const refreshes = state === 'restarted' || state === 'reloaded';
    return {
      ...(change(why.join('; '), steps) as Extract<Plan, { changed: true }>),
      ...(starts ? { starts: [name] } : {}),
      ...(refreshes ? { refreshes: [name] } : {}),
    };
  },
});

/**
 * Starts a unit with the unit files on disk. The facts were read when the phase began, often before the package
 * or a drop-in of this same phase was written (a first apply), and systemd, not reloaded since, starts a unit as
 * it loaded it: Patroni started without its launcher. systemd does not even say so (NeedDaemonReload stays "no"
 * for a drop-in folder created since its last reload), so a start reloads first; starts are rare after the first
 * apply.
 */
const current = (start: Command): Command => join([sh`systemctl daemon-reload`, start], ' && ');
