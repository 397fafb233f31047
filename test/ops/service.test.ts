import { describe, expect, it } from 'vitest';
import { unitFact } from '../../src/facts/systemd.js';
import { serviceOp } from '../../src/ops/service.js';
import { env, recorded } from '../support/facts.js';

const unit = (active: string, file: string, reload = 'no', name = 'etcd') =>
  recorded([
    unitFact,
    { name },
    `LoadState=loaded\nActiveState=${active}\nUnitFileState=${file}\nNeedDaemonReload=${reload}\n`,
  ]);
// A start or restart reloads systemd first: a drop-in written since the facts were read must be part of it.
const fresh = (action: string) => `systemctl daemon-reload && ${action}`;
const cmds = (plan: ReturnType<typeof serviceOp.plan>) =>
  plan.changed ? plan.steps.map((s) => (s.kind === 'exec' ? s.command.display() : '')) : [];

describe('service operation', () => {
  it('starts and enables a stopped, disabled service', () => {
    const plan = serviceOp.plan(
      { name: 'etcd', state: 'started', enabled: true },
      unit('inactive', 'disabled'),
      env(),
    );
    expect(cmds(plan)).toEqual(['systemctl enable -- etcd', fresh('systemctl start -- etcd')]);
    expect(plan.changed && plan.reason).toBe('enable etcd; start etcd (was inactive)');
  });

  it('does nothing for a running, enabled service', () => {
    expect(
      serviceOp.plan({ name: 'etcd', state: 'started', enabled: true }, unit('active', 'enabled'), env()),
    ).toEqual({
      changed: false,
      reason: 'etcd is running and enabled',
    });
  });

  it('reloads systemd first when a unit file changed on disk', () => {
    const plan = serviceOp.plan({ name: 'etcd', state: 'started' }, unit('active', 'enabled', 'yes'), env());
    expect(cmds(plan)).toEqual(['systemctl daemon-reload']);
  });

  it('says which services a plan starts and which it refreshes, so handlers can coalesce', () => {
    expect(
      serviceOp.plan({ name: 'etcd', state: 'started' }, unit('inactive', 'enabled'), env()),
    ).toMatchObject({
      starts: ['etcd'],
    });
    const reload = serviceOp.plan({ name: 'etcd', state: 'reloaded' }, unit('active', 'enabled'), env());
    expect(reload).toMatchObject({ refreshes: ['etcd'] });
    expect(reload).not.toHaveProperty('starts');
  });

  it('always restarts when asked to (handlers)', () => {
    expect(
      cmds(serviceOp.plan({ name: 'etcd', state: 'restarted' }, unit('active', 'enabled'), env())),
    ).toEqual([fresh('systemctl restart -- etcd')]);
  });

  describe('with a reload command (Patroni: reload, then wait until it applied the file)', () => {
    const patroni = (active: string) => unit(active, 'enabled', 'no', 'patroni');
    const args = {
      name: 'patroni',
      state: 'reloaded',
      reloadCommand: '/usr/local/sbin/pgprov-patroni-reload',
    } as const;

    it('runs that command instead of systemctl reload on an active unit', () => {
      const plan = serviceOp.plan(args, patroni('active'), env());
      expect(cmds(plan)).toEqual(['/usr/local/sbin/pgprov-patroni-reload']);
      expect(plan).toMatchObject({ changed: true, reason: 'reload patroni', refreshes: ['patroni'] });
      expect(plan).not.toHaveProperty('starts');
      const { reloadCommand: _, ...plain } = args;
      expect(cmds(serviceOp.plan(plain, patroni('active'), env()))).toEqual(['systemctl reload -- patroni']);
    });

    it('starts an inactive unit instead', () => {
      const plan = serviceOp.plan(args, patroni('inactive'), env());
      expect(cmds(plan)).toEqual([fresh('systemctl start -- patroni')]);
      expect(plan).toMatchObject({ reason: 'start patroni (was inactive)', starts: ['patroni'] });
    });
  });

  it('says when a unit is not installed yet (check mode before the package)', () => {
    const facts = recorded([
      unitFact,
      { name: 'etcd' },
      'LoadState=not-found\nActiveState=inactive\nUnitFileState=\nNeedDaemonReload=no\n',
    ]);
    const plan = serviceOp.plan({ name: 'etcd', state: 'started' }, facts, env());
    expect(plan.changed && plan.reason).toBe('start etcd (was not installed)');
  });
});
