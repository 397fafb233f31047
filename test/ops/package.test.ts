import { describe, expect, it } from 'vitest';
import { packagesFact } from '../../src/facts/package.js';
import { packageOp, type PackageArgs } from '../../src/ops/package.js';
import { env, recorded } from '../support/facts.js';

const args: PackageArgs = {
  names: ['etcd-server', 'etcd-client'],
  state: 'present',
  cacheValidSeconds: 3600,
  startServices: false,
};
const names = { names: args.names };

describe('package operation', () => {
  it('installs what is missing without letting the package start services, refreshing stale lists', () => {
    const facts = recorded([packagesFact, names, 'now 1000000 lists 0\netcd-client\tii \t3.4.23-4+b6\n']);
    const plan = packageOp.plan(args, facts, env());
    expect(plan.changed && plan.reason).toBe('install etcd-server (services not started by the package)');
    const commands = plan.changed
      ? plan.steps.map((s) => (s.kind === 'exec' ? s.command.display() : ''))
      : [];
    expect(commands[0]).toContain('apt-get -q -y -o DPkg::Lock::Timeout=300 update --error-on=any');
    expect(commands[1]).toContain('/usr/sbin/policy-rc.d');
    expect(commands[1]).toContain('install --no-install-recommends etcd-server');
    expect(commands[1]).not.toContain('etcd-client');
  });

  it('skips apt-get update when the lists are fresh and know the missing packages', () => {
    const facts = recorded([
      packagesFact,
      names,
      'now 1000000 lists 999000\ncandidate\tetcd-server\t3.4.23-4+b6\ncandidate\tetcd-client\t3.4.23-4+b6\n',
    ]);
    const plan = packageOp.plan({ ...args, startServices: true }, facts, env());
    expect(plan.changed && plan.steps).toHaveLength(1);
  });

  it('updates fresh lists that do not know a missing package (an update that failed part-way)', () => {
    const facts = recorded([
      packagesFact,
      names,
      'now 1000000 lists 999990\ncandidate\tetcd-client\t3.4.23-4+b6\ncandidate\tetcd-server\t(none)\n',
    ]);
    const plan = packageOp.plan({ ...args, startServices: true }, facts, env());
    const steps = plan.changed ? plan.steps : [];
    expect(steps).toHaveLength(2);
    expect(steps[0]?.kind === 'exec' && steps[0].command.display()).toMatch(/ update --error-on=any /);
  });

  it('is satisfied when all are installed, naming versions', () => {
    const facts = recorded([
      packagesFact,
      names,
      'now 1 lists 1\netcd-server\tii \t3.4.23-4+b6\netcd-client\tii \t3.4.23-4+b6\n',
    ]);
    expect(packageOp.plan(args, facts, env())).toEqual({
      changed: false,
      reason: 'installed: etcd-server 3.4.23-4+b6, etcd-client 3.4.23-4+b6',
    });
  });

  it('treats a half-installed or removed-with-config package as missing', () => {
    const facts = recorded([
      packagesFact,
      names,
      'now 1 lists 1\netcd-server\trc \t3.4.23\netcd-client\tiU \t3.4.23\n',
    ]);
    expect(packageOp.plan(args, facts, env()).changed).toBe(true);
  });
});
