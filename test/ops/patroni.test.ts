import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeAction, type RolloutAction } from '../../src/cluster/rollout.js';
import { SafetyError } from '../../src/core/errors.js';
import { request } from '../../src/facts/fact.js';
import { type PatroniApi, patroniFact } from '../../src/facts/patroni.js';
import type { Plan, Step } from '../../src/ops/operation.js';
import { patroniConfigOp, patroniRolloutOp } from '../../src/ops/patroni.js';
import { env, recorded } from '../support/facts.js';
import { CLUSTER_BODY, CONFIG_BODY, clusterBody, factOutput } from '../support/patroni.js';

const api: PatroniApi = {
  config: '/etc/patroni/config.yml',
  url: 'https://10.231.0.11:8008',
  cacert: '/etc/patroni/pki/ca.crt',
  cluster: 'test',
};

const cluster = (stdout = factOutput(), code = 0) => recorded([patroniFact, api, stdout, code]);
const NOT_SET_UP = cluster('', 4);
const UNREADABLE = cluster(
  "curl: (7) Failed to connect to 10.231.0.11 port 8008 after 0 ms: Couldn't connect to server\n\n000\n",
  5,
);

/** The cluster-wide settings the role renders (bootstrap.dcs), equal to what the lab's DCS holds. */
type Settings = Record<string, unknown> & { postgresql: { parameters: Record<string, unknown> } };
const wanted = () => JSON.parse(CONFIG_BODY) as Settings;

const steps = (plan: Plan): Step[] => (plan.changed ? plan.steps : []);
const shown = (plan: Plan) => steps(plan).map((s) => (s.kind === 'exec' ? s.label : `put ${s.file.path}`));

describe('patroni_config operation', () => {
  it("reads the member's REST API", () => {
    expect(patroniConfigOp.facts({ api, settings: {} }, env())).toEqual([request(patroniFact, api)]);
  });

  it('changes nothing where Patroni is not set up yet (the first leader writes the settings)', () => {
    expect(patroniConfigOp.plan({ api, settings: wanted() }, NOT_SET_UP, env())).toEqual({
      changed: false,
      reason: 'Patroni is not set up here yet: the first leader writes these settings at bootstrap',
    });
  });

  it('changes nothing while the cluster bootstraps (no settings in the DCS yet)', () => {
    const facts = cluster(factOutput(CLUSTER_BODY, '<html>Error code: 503</html>', 200, 503));
    expect(patroniConfigOp.plan({ api, settings: wanted() }, facts, env())).toEqual({
      changed: false,
      reason: 'the cluster is bootstrapping: its first leader writes these settings to the DCS',
    });
  });

  it('refuses to guess when the REST API does not answer', () => {
    const plan = () => patroniConfigOp.plan({ api, settings: wanted() }, UNREADABLE, env());
    expect(plan).toThrow(SafetyError);
    expect(plan).toThrow(
      "cannot compare the cluster-wide settings: Patroni's REST API at https://10.231.0.11:8008 does not answer: curl: (7)",
    );
    try {
      plan();
    } catch (e) {
      expect((e as SafetyError).hint).toContain('etcdctl endpoint health');
    }
  });

  it('changes nothing when the DCS holds the settings wanted', () => {
    expect(patroniConfigOp.plan({ api, settings: wanted() }, cluster(), env())).toEqual({
      changed: false,
      reason: 'the cluster-wide settings in the DCS match',
    });
  });

  it('uploads the patch for root only, applies it with patronictl, then waits a cycle for the members', () => {
    const settings = wanted();
    settings.postgresql.parameters.max_connections = 300;
    settings.synchronous_mode = false;
    const plan = patroniConfigOp.plan({ api, settings }, cluster(), env());
    expect(plan.changed && plan.reason).toBe(
      'update the cluster-wide settings in the DCS: synchronous_mode: true -> false; ' +
        'postgresql.parameters.max_connections: 100 -> 300',
    );
    const [put, apply, settle] = steps(plan);
    expect(put).toEqual({
      kind: 'put',
      file: {
        path: '/run/pgprov-patroni-settings.json',
        content: `${JSON.stringify({ synchronous_mode: false, postgresql: { parameters: { max_connections: 300 } } }, null, 2)}\n`,
        mode: '0600',
        owner: 'root',
        group: 'root',
      },
    });
    expect(apply?.kind === 'exec' && apply.command.display()).toBe(
      'patronictl -c /etc/patroni/config.yml edit-config --force --quiet --apply /run/pgprov-patroni-settings.json; ' +
        'rc=$?; rm -f /run/pgprov-patroni-settings.json; exit $rc',
    );
    expect(settle?.kind === 'exec' && settle.command.display()).toBe('sleep 13');
    expect(shown(plan)).toEqual([
      'put /run/pgprov-patroni-settings.json',
      'patronictl edit-config --apply (2 changes)',
      'wait 13 s (loop_wait + 3) for every member to apply them',
    ]);
  });

  it('waits for the longer of the old and the new loop_wait', () => {
    const longer = patroniConfigOp.plan({ api, settings: { ...wanted(), loop_wait: 20 } }, cluster(), env());
    expect(shown(longer)).toEqual([
      'put /run/pgprov-patroni-settings.json',
      'patronictl edit-config --apply (1 change)',
      'wait 23 s (loop_wait + 3) for every member to apply them',
    ]);
    const shorter = patroniConfigOp.plan({ api, settings: { ...wanted(), loop_wait: 5 } }, cluster(), env());
    expect(shown(shorter)[2]).toBe('wait 13 s (loop_wait + 3) for every member to apply them');
  });

  const STANDBY = { host: '10.231.0.10', port: 5002, create_replica_methods: ['basebackup'] };
  const standbyDcs = () =>
    cluster(factOutput(CLUSTER_BODY, JSON.stringify({ ...wanted(), standby_cluster: STANDBY })));

  it('keeps a standby following its primary, and changes where it streams from with the inventory', () => {
    expect(
      patroniConfigOp.plan({ api, settings: { ...wanted(), standby_cluster: STANDBY } }, standbyDcs(), env()),
    ).toEqual({ changed: false, reason: 'the cluster-wide settings in the DCS match' });
    const moved = patroniConfigOp.plan(
      { api, settings: { ...wanted(), standby_cluster: { ...STANDBY, host: '192.0.2.10' } } },
      standbyDcs(),
      env(),
    );
    expect(moved.changed && moved.reason).toBe(
      'update the cluster-wide settings in the DCS: standby_cluster.host: "10.231.0.10" -> "192.0.2.10"',
    );
  });

  it('never turns a cluster that runs as a primary (promoted) into a standby, and says so', () => {
    const plan = patroniConfigOp.plan(
      { api, settings: { ...wanted(), standby_cluster: STANDBY } },
      cluster(),
      env(),
    );
    expect(plan.changed).toBe(false);
    expect(plan.warning).toContain('it is left writable, never turned back into a standby');
    expect(plan.warning).toContain('Remove standby_of from the inventory');
  });

  it('never promotes a standby because the inventory stopped naming its primary: promote does that', () => {
    const plan = patroniConfigOp.plan({ api, settings: wanted() }, standbyDcs(), env());
    expect(plan.changed).toBe(false);
    expect(plan.warning).toBe(
      'this cluster is a standby of 10.231.0.10:5002 (its DCS says so) but the inventory names no primary ' +
        '(standby_of): it stays a read-only standby. `pgprov promote` makes it writable.',
    );
  });

  it('removes a parameter the inventory no longer sets', () => {
    const settings = wanted();
    delete settings.postgresql.parameters.max_worker_processes;
    const plan = patroniConfigOp.plan({ api, settings }, cluster(), env());
    const put = steps(plan)[0];
    expect(put?.kind === 'put' && JSON.parse(put.file.content as string)).toEqual({
      postgresql: { parameters: { max_worker_processes: null } },
    });
    expect(plan.changed && plan.reason).toContain(
      'postgresql.parameters.max_worker_processes: 8 -> (removed)',
    );
  });
});

describe('patroni_rollout operation', () => {
  const args = { api, timeout: 300 };

  it("reads the member's REST API", () => {
    expect(patroniRolloutOp.facts(args, env())).toEqual([request(patroniFact, api)]);
  });

  it('changes nothing where Patroni is not set up yet', () => {
    expect(patroniRolloutOp.plan(args, NOT_SET_UP, env())).toEqual({
      changed: false,
      reason: 'Patroni is not set up here yet: nothing to restart',
    });
  });

  it('changes nothing when no member is pending restart', () => {
    expect(patroniRolloutOp.plan(args, cluster(), env())).toEqual({
      changed: false,
      reason: 'no member is pending restart',
    });
  });

  it('refuses when the REST API does not answer', () => {
    expect(() => patroniRolloutOp.plan(args, UNREADABLE, env())).toThrow(
      /^cannot see which members need a restart: Patroni's REST API/,
    );
  });

  it('refuses while a member is down', () => {
    const facts = cluster(
      factOutput(clusterBody({ pg1: { pending_restart: true }, pg2: { state: 'stopped' } })),
    );
    expect(() => patroniRolloutOp.plan(args, facts, env())).toThrow(SafetyError);
    expect(() => patroniRolloutOp.plan(args, facts, env())).toThrow('pg2 (replica, stopped) is not running');
  });

  it('runs one step per action, shown as what it does, each naming the config, the cluster and the member', () => {
    const facts = cluster(
      factOutput(
        clusterBody({
          pg1: { pending_restart: true },
          pg2: { pending_restart: true },
          pg3: { pending_restart: true },
        }),
      ),
    );
    const plan = patroniRolloutOp.plan({ api, timeout: 120 }, facts, env());
    expect(plan.changed && plan.reason).toBe(
      'roll out the restart (pg1, pg2, pg3 pending restart: replicas first, then a switchover pg1 -> pg3, then pg1)',
    );
    expect(shown(plan)).toEqual([
      'restart pg2 if still pending and wait until it is a running replica',
      'restart pg3 if still pending and wait until it is a running replica',
      'switch over pg1 -> pg3 (or to the synchronous standby of the moment) and wait until pg1 follows',
      'restart pg1 if still pending and wait until it is a running replica',
    ]);
    const commands = steps(plan).map((s) => (s.kind === 'exec' ? s.command.display() : ''));
    for (const c of commands) expect(c).toMatch(/^python3 -c '\nimport json/);
    expect(commands.map((c) => c.slice(c.lastIndexOf("' ") + 2))).toEqual([
      '/etc/patroni/config.yml test restart pg2 120 replica',
      '/etc/patroni/config.yml test restart pg3 120 replica',
      '/etc/patroni/config.yml test switchover pg1 120 pg3 prefer',
      '/etc/patroni/config.yml test restart pg1 120 replica',
    ]);
  });

  it('quotes a configuration path and a cluster name that need it', () => {
    const odd: PatroniApi = { ...api, config: '/etc/patroni/my config.yml', cluster: "it's" };
    const facts = recorded([patroniFact, odd, factOutput(clusterBody({ pg2: { pending_restart: true } }))]);
    const plan = patroniRolloutOp.plan({ api: odd, timeout: 300 }, facts, env());
    const [step] = steps(plan);
    const display = step?.kind === 'exec' ? step.command.display() : '';
    expect(display.slice(display.lastIndexOf("' '/etc") + 2)).toBe(
      `'/etc/patroni/my config.yml' 'it'\\''s' restart pg2 300 replica`,
    );
  });
});

describe('the rollout step on the member, with a stand-in for patronictl', () => {
  // The interpreter itself, not a version manager's shim (which takes ~100 ms to start each time).
  const python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  const found = python.status === 0 && python.stdout.trim() !== '';
  const dir = mkdtempSync(join(tmpdir(), 'pgprov-patronictl-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  if (found) symlinkSync(python.stdout.trim(), join(dir, 'python3'));
  // Answers `list -f json` from a state file as Patroni 3.0.2's patronictl prints it; restart clears a member's
  // pending restart, switchover moves the leader (new timeline); PATRONICTL_SAYS replaces what they do and say.
  writeFileSync(
    join(dir, 'patronictl'),
    String.raw`#!${found ? python.stdout.trim() : '/usr/bin/python3'}
import json, os, sys
args = sys.argv[1:]
with open(os.environ['PATRONICTL_LOG'], 'a') as f:
    f.write(' '.join(args) + '\n')
with open(os.environ['PATRONI_STATE']) as f:
    rows = json.load(f)
if args[2] == 'list':
    print(json.dumps(rows))
    sys.exit(0)
if os.environ.get('PATRONICTL_SAYS'):
    print(os.environ['PATRONICTL_SAYS'])
    sys.exit(0)
if args[2] == 'restart':
    for r in rows:
        if r['Member'] == args[-1]:
            r.pop('Pending restart', None)
    print('Success: restart on member %s' % args[-1])
else:
    leader, candidate = args[args.index('--leader') + 1], args[args.index('--candidate') + 1]
    for r in rows:
        r['TL'] += 1
        if r['Member'] == leader:
            r['Role'] = 'Replica'
            r.pop('Pending restart', None)
        elif r['Member'] == candidate:
            r['Role'] = 'Leader'
    print('Successfully switched over to "%s"' % candidate)
with open(os.environ['PATRONI_STATE'], 'w') as f:
    json.dump(rows, f)
`,
  );
  chmodSync(join(dir, 'patronictl'), 0o755);

  const row = (member: string, role: string, more: Record<string, unknown> = {}) => ({
    Cluster: 'test',
    Member: member,
    Host: `10.231.0.1${member.slice(2)}`,
    Role: role,
    State: 'running',
    TL: 2,
    'Lag in MB': role === 'Leader' ? '' : 0,
    ...more,
  });
  const lab = () => [
    row('pg1', 'Leader', { 'Pending restart': '*' }),
    row('pg2', 'Replica', { 'Pending restart': '*' }),
    row('pg3', 'Sync Standby', { 'Pending restart': '*' }),
  ];

  /** Runs the step the rollout plans for this action, as the host's shell would. */
  function run(
    action: RolloutAction,
    rows: Record<string, unknown>[] = lab(),
    vars: Record<string, string> = {},
    timeout = 5,
  ) {
    const id = Math.random().toString(36).slice(2);
    const state = join(dir, `state-${id}.json`);
    const log = join(dir, `calls-${id}.log`);
    writeFileSync(state, JSON.stringify(rows));
    writeFileSync(log, '');
    // Planned when every member was pending restart and pg3 the synchronous standby.
    const pending = { pending_restart: true };
    const facts = cluster(factOutput(clusterBody({ pg1: pending, pg2: pending, pg3: pending })));
    const plan = patroniRolloutOp.plan({ api, timeout }, facts, env());
    const step = steps(plan).find((s) => s.kind === 'exec' && s.label === describeAction(action));
    if (step?.kind !== 'exec') throw new Error(`the rollout has no step '${describeAction(action)}'`);
    const result = spawnSync('sh', ['-c', step.command.script()], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${dir}:${process.env.PATH}`,
        PATRONI_STATE: state,
        PATRONICTL_LOG: log,
        ...vars,
      },
    });
    const calls = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l && !l.includes(' list -f json'));
    return { ...result, calls, after: JSON.parse(readFileSync(state, 'utf8')) as Record<string, unknown>[] };
  }

  it.skipIf(!found)('restarts a pending replica and returns once it runs with nothing pending', () => {
    const r = run({ kind: 'restart', member: 'pg2', role: 'replica' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.calls).toEqual(['-c /etc/patroni/config.yml restart --force test pg2']);
    expect(r.after.find((m) => m.Member === 'pg2')).not.toHaveProperty('Pending restart');
  });

  it.skipIf(!found)('skips a member that is no longer pending (a demoted leader restarted already)', () => {
    const rows = [
      row('pg1', 'Replica', { TL: 3 }),
      row('pg2', 'Replica', { TL: 3 }),
      row('pg3', 'Leader', { TL: 3 }),
    ];
    const r = run({ kind: 'restart', member: 'pg1', role: 'replica' }, rows);
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([]);
    expect(r.stdout).toContain('pg1 is no longer pending restart');
  });

  it.skipIf(!found)(
    'switches over to the synchronous standby of the moment, and waits until the old leader follows',
    () => {
      // Planned to pg3; restarting the replicas moved the synchronous standby to pg2.
      const rows = [
        row('pg1', 'Leader', { 'Pending restart': '*' }),
        row('pg2', 'Sync Standby', { 'Lag in MB': 7 }),
        row('pg3', 'Replica'),
      ];
      const r = run({ kind: 'switchover', from: 'pg1', to: 'pg3' }, rows);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.calls).toEqual([
        '-c /etc/patroni/config.yml switchover --leader pg1 --candidate pg2 --force test',
      ]);
      expect(r.after.map((m) => [m.Member, m.Role])).toEqual([
        ['pg1', 'Replica'],
        ['pg2', 'Leader'],
        ['pg3', 'Replica'],
      ]);
    },
  );

  it.skipIf(!found)('fails when patronictl says it failed, though it exits 0', () => {
    const says = 'Failed: restart for member pg2, status code=503, (restart conditions are not satisfied)';
    const r = run({ kind: 'restart', member: 'pg2', role: 'replica' }, lab(), { PATRONICTL_SAYS: says });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`patronictl restart failed: ${says}`);
  });

  it.skipIf(!found)('fails with what it last saw when the member is not back in time', () => {
    const r = run(
      { kind: 'restart', member: 'pg2', role: 'replica' },
      lab(),
      { PATRONICTL_SAYS: 'Success: restart on member pg2' },
      1,
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(
      /^pg2 is not a running replica after 1 s; last seen: \{"Cluster": "test", "Member": "pg2"/,
    );
  });
});
