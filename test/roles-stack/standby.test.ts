import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { planRun, type RunPlan } from '../../src/engine/plan.js';
import { upstreamVars } from '../../src/standby/upstream.js';
import { contentOf, loadShippedProject, secretVars, stackInputs, stackInventory, taskOf } from './support.js';

/** The lab's shape as a standby cluster of another inventory's cluster (VIP 10.231.0.10, port 5002). */
async function planStandby(standby: boolean): Promise<RunPlan> {
  const { project, assets } = await loadShippedProject();
  const inventory = stackInventory(standby ? { standby_of: '../site-a/inventory.yaml' } : {});
  const derived = standby
    ? upstreamVars(
        {
          inventory: stackInventory(),
          clusterName: 'site-a',
          host: '10.231.0.10',
          port: 5002,
          caPem: 'PRIMARY CA\n',
        },
        'OWN CA\n',
      )
    : {};
  return planRun({ ...stackInputs(project, assets, inventory), derived }, { extraVars: secretVars() });
}

const patroniConfig = (plan: RunPlan) =>
  parse(contentOf(plan, 'patroni', 'pg1', 'Patroni configuration')) as {
    bootstrap: { dcs: Record<string, unknown> };
    postgresql: { authentication: { replication: { sslrootcert: string }; rewind: { sslrootcert: string } } };
  };

describe('a standby cluster (standby_of) in the patroni role', () => {
  it("bootstraps as a standby of the primary's virtual IP, through HAProxy's replication port", async () => {
    const config = patroniConfig(await planStandby(true));
    expect(config.bootstrap.dcs.standby_cluster).toEqual({
      host: '10.231.0.10',
      port: 5002,
      create_replica_methods: ['basebackup'],
      no_replication_slot: true,
    });
  });

  it("trusts its own CA and the primary's for replication, its own alone for pg_rewind", async () => {
    const plan = await planStandby(true);
    const config = patroniConfig(plan);
    expect(config.postgresql.authentication.replication.sslrootcert).toBe(
      '/etc/patroni/pki/replication-ca.crt',
    );
    expect(config.postgresql.authentication.rewind.sslrootcert).toBe('/etc/patroni/pki/ca.crt');
    expect(contentOf(plan, 'patroni', 'pg1', "CAs a standby cluster's replication trusts")).toBe(
      'OWN CA\nPRIMARY CA\n',
    );
  });

  it('leaves a primary cluster as it was: no standby section, no second CA file', async () => {
    const plan = await planStandby(false);
    const config = patroniConfig(plan);
    expect(config.bootstrap.dcs).not.toHaveProperty('standby_cluster');
    expect(config.postgresql.authentication.replication.sslrootcert).toBe('/etc/patroni/pki/ca.crt');
    expect(() => taskOf(plan, 'patroni', 'pg1', "CAs a standby cluster's replication trusts")).toThrow(
      'no task',
    );
  });
});
