import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { planRun, type RunPlan } from '../../src/engine/plan.js';
import { Secret } from '../../src/core/secret.js';
import { repositoryVars } from '../../src/standby/repository.js';
import { upstreamVars } from '../../src/standby/upstream.js';
import type { FileArgs } from '../../src/ops/file.js';
import { contentOf, loadShippedProject, secretVars, stackInputs, stackInventory, taskOf } from './support.js';

/** The primary's repository host as the engine derives it from the primary's inventory. */
const REPOSITORY = {
  host: 'a3',
  port: 8432,
  path: '/var/lib/pgbackrest',
  cipherType: 'aes-256-cbc',
  stanza: 'site-a',
};

/**
 * The lab's shape as a standby cluster of another inventory's cluster (VIP 10.231.0.10, port 5002), with or
 * without the primary's pgBackRest repository to read WAL from.
 */
async function planStandby(standby: boolean, repository = false): Promise<RunPlan> {
  const { project, assets } = await loadShippedProject();
  const inventory = stackInventory(standby ? { standby_of: '../site-a/inventory.yaml' } : {});
  const derived = standby
    ? {
        ...upstreamVars(
          {
            inventory: stackInventory(),
            clusterName: 'site-a',
            host: '10.231.0.10',
            port: 5002,
            caPem: 'PRIMARY CA\n',
          },
          'OWN CA\n',
        ),
        ...(repository
          ? repositoryVars(
              REPOSITORY,
              { name: 'standby.test', certPem: 'CLIENT CERT\n', keyPem: new Secret('CLIENT KEY\n') },
              new Secret('primary-cipher-pass'),
            )
          : {}),
      }
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

  it("reads WAL from the primary's repository host when streaming breaks: its CA, a client certificate, the passphrase", async () => {
    const plan = await planStandby(true, true);
    expect(patroniConfig(plan).bootstrap.dcs.standby_cluster).toMatchObject({
      restore_command:
        '/usr/local/sbin/pgprov-if-answers a3:8432 1 pgbackrest --config=/etc/pgbackrest/upstream.conf --stanza=site-a archive-get %f "%p"',
    });
    expect(contentOf(plan, 'standby', 'pg2', "CAs of the primary's repository host")).toBe('PRIMARY CA\n');
    expect(contentOf(plan, 'standby', 'pg2', "Client certificate from the primary's CA")).toBe(
      'CLIENT CERT\n',
    );
    const key = taskOf(plan, 'standby', 'pg2', 'Its private key').args as FileArgs;
    expect(key.mode).toBe('0600');
    const conf = contentOf(plan, 'standby', 'pg2', "pgBackRest configuration for the primary's repository");
    for (const line of [
      'repo1-host=a3',
      'repo1-host-type=tls',
      'repo1-host-port=8432',
      'repo1-host-cert-file=/etc/pgbackrest/upstream/client.crt',
      'repo1-path=/var/lib/pgbackrest',
      'repo1-cipher-pass=primary-cipher-pass',
      'io-timeout=2',
      '[site-a]',
      'pg1-path=/var/lib/postgresql/15/test',
    ])
      expect(conf.split('\n')).toContain(line);
    // The passphrase and the key are masked wherever the plan is shown.
    expect(plan.masker.mask(conf)).not.toContain('primary-cipher-pass');
    expect(plan.masker.mask('CLIENT KEY\n')).not.toContain('CLIENT KEY');
  });

  it("without the primary's repository, and on a primary cluster, the standby phase does nothing", async () => {
    for (const plan of [await planStandby(true), await planStandby(false)]) {
      expect(patroniConfig(plan).bootstrap.dcs.standby_cluster ?? {}).not.toHaveProperty('restore_command');
      const phase = plan.phases.find((p) => p.name === 'standby');
      expect(phase?.hosts.flatMap((h) => h.tasks) ?? []).toEqual([]);
    }
  });

  it('--tags standby runs the standby phase and the CA file Patroni replicates with, nothing else', async () => {
    const { project, assets } = await loadShippedProject();
    const inventory = stackInventory({ standby_of: '../site-a/inventory.yaml' });
    const plan = planRun(
      {
        ...stackInputs(project, assets, inventory),
        derived: {
          ...upstreamVars(
            {
              inventory: stackInventory(),
              clusterName: 'site-a',
              host: '10.231.0.10',
              port: 5002,
              caPem: 'P\n',
            },
            'O\n',
          ),
          ...repositoryVars(
            REPOSITORY,
            { name: 'standby.test', certPem: 'C\n', keyPem: new Secret('K\n') },
            new Secret('p'),
          ),
        },
      },
      { tags: ['standby'], extraVars: secretVars() },
    );
    expect(plan.phases.map((p) => p.name)).toEqual(['standby', 'patroni']);
    expect(plan.phases[0]?.hosts[0]?.tasks).toHaveLength(8);
    expect(plan.phases[1]?.hosts[0]?.tasks.map((t) => t.name)).toEqual([
      "CAs a standby cluster's replication trusts",
    ]);
  });
});
