import { sh } from '../core/command.js';
import { defineFact } from './fact.js';

/** Whether Patroni can arm a watchdog on this host, and why not. */
export interface WatchdogReport {
  /** /dev/watchdog exists. */
  device: boolean;
  /** Its owner: Patroni (user postgres) can open it only when it is postgres. */
  owner?: string;
  /** systemd-detect-virt --container: `systemd-nspawn`, `lxc`, `docker`...; absent on a VM or bare metal. */
  container?: string;
}

export const watchdogFact = defineFact<Record<string, never>, WatchdogReport>({
  name: 'watchdog',
  key: () => '',
  command: () =>
    sh`if [ -c /dev/watchdog ]; then echo "device $(stat -c %U /dev/watchdog)"; else echo none; fi; systemd-detect-virt --container 2>/dev/null || echo none`,
  parse: ({ stdout }) => {
    const [device = 'none', container = 'none'] = stdout.trim().split('\n');
    const owner = device.startsWith('device ') ? device.slice('device '.length).trim() : undefined;
    return {
      device: owner !== undefined,
      ...(owner ? { owner } : {}),
      ...(container.trim() !== 'none' && container.trim() !== '' ? { container: container.trim() } : {}),
    };
  },
});

/** Why Patroni cannot use a watchdog on a host, in words; undefined when it can. */
export function watchdogMissing(w: WatchdogReport): string | undefined {
  if (w.device && w.owner === 'postgres') return undefined;
  if (w.device) return `/dev/watchdog belongs to ${w.owner ?? '?'}, not postgres`;
  if (w.container) return `a ${w.container} container has no /dev/watchdog`;
  return 'no /dev/watchdog (no hardware watchdog and the softdog module is not loaded)';
}
