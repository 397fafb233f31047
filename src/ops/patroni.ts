import { type Command, sh } from '../core/command.js';
import { SafetyError } from '../core/errors.js';
import { dynamicConfigPatch, describeChange } from '../cluster/dynamic-config.js';
import { describeAction, planRollout, type RolloutAction } from '../cluster/rollout.js';
import { request } from '../facts/fact.js';
import { type PatroniApi, patroniFact, type PatroniView } from '../facts/patroni.js';
import { standbySettings } from '../cluster/standby.js';
import { change, defineOperation, exec, noChange, type Step, withWarning } from './operation.js';

export interface PatroniConfigArgs {
  /** How to reach this member's Patroni (patronictl reads the DCS address and credentials from its config). */
  api: PatroniApi;
  /** The cluster-wide settings wanted in the DCS (the rendered bootstrap.dcs section). */
  settings: Record<string, unknown>;
}

/** Where the patch waits for patronictl on the host; root-only, removed right after. */
const PATCH_FILE = '/run/pgprov-patroni-settings.json';

/**
 * Patroni writes its cluster-wide settings (ttl, synchronous_mode, the parameters every member must share) to
 * the DCS once, when the first leader bootstraps, and reads them only from there afterwards. This keeps them
 * equal to the same declaration after bootstrap, so changing the inventory changes the cluster.
 */
export const patroniConfigOp = defineOperation<PatroniConfigArgs>({
  module: 'patroni_config',
  facts: ({ api }) => [request(patroniFact, api)],
  plan: ({ api, settings }, facts) => {
    const { config } = api;
    const view = readable(facts.get(patroniFact, api), 'compare the cluster-wide settings');
    if (!view)
      return noChange('Patroni is not set up here yet: the first leader writes these settings at bootstrap');
    if (!view.settings)
      return noChange('the cluster is bootstrapping: its first leader writes these settings to the DCS');
    const standby = standbySettings(settings, view.settings);
    const { patch, changes } = dynamicConfigPatch(standby.settings, view.settings);
    const settle = Math.max(Number(settings.loop_wait ?? 10), Number(view.settings.loop_wait ?? 10)) + 3;
    if (changes.length === 0)
      return withWarning(noChange('the cluster-wide settings in the DCS match'), standby.warning);
    const steps: Step[] = [
      {
        kind: 'put',
        file: {
          path: PATCH_FILE,
          content: `${JSON.stringify(patch, null, 2)}\n`,
          mode: '0600',
          owner: 'root',
          group: 'root',
        },
      },
      exec(
        sh`patronictl -c ${config} edit-config --force --quiet --apply ${PATCH_FILE}; rc=$?; rm -f ${PATCH_FILE}; exit $rc`,
        `patronictl edit-config --apply (${changes.length} change${changes.length > 1 ? 's' : ''})`,
      ),
      // Members read the DCS settings at their next cycle and only then reload PostgreSQL and know whether a
      // restart is pending: the rollout that follows must not look earlier.
      exec(sh`sleep ${settle}`, `wait ${settle} s (loop_wait + 3) for every member to apply them`),
    ];
    return withWarning(
      change(`update the cluster-wide settings in the DCS: ${changes.map(describeChange).join('; ')}`, steps),
      standby.warning,
    );
  },
});

export interface PatroniRolloutArgs {
  api: PatroniApi;
  /** Seconds to wait for each member to be back. */
  timeout: number;
}

/**
 * Applies the changes Patroni could only mark "pending restart": replicas one at a time, then a switchover, then
 * the old leader (see planRollout). Each step waits until the member is back before the next one starts.
 */
export const patroniRolloutOp = defineOperation<PatroniRolloutArgs>({
  module: 'patroni_rollout',
  facts: ({ api }) => [request(patroniFact, api)],
  plan: ({ api, timeout }, facts) => {
    const view = readable(facts.get(patroniFact, api), 'see which members need a restart');
    if (!view) return noChange('Patroni is not set up here yet: nothing to restart');
    const rollout = planRollout(view.members);
    if (!rollout) return noChange('no member is pending restart');
    return change(
      `roll out the restart (${rollout.reason})`,
      rollout.actions.map((a) => step(a, api.config, api.cluster, timeout)),
    );
  },
});

/** The cluster as patronictl sees it; undefined when Patroni is not installed or configured here yet. */
function readable(view: PatroniView, what: string): Extract<PatroniView, { available: true }> | undefined {
  if (view.available) return view;
  if (view.reason === 'unreadable') {
    throw new SafetyError(`cannot ${what}: ${view.why}`, {
      hint: 'check etcd (`etcdctl endpoint health`) and Patroni (`journalctl -u patroni`) on the member',
    });
  }
  return undefined;
}

function step(action: RolloutAction, config: string, cluster: string, timeout: number): Step {
  const command =
    action.kind === 'switchover'
      ? switchoverCommand({ config, cluster, from: action.from, to: action.to, timeout, strict: false })
      : sh`python3 -c ${MEMBER_ACTION} ${config} ${cluster} restart ${action.member} ${timeout} ${action.role}`;
  return exec(command, describeAction(action));
}

/**
 * A switchover through patronictl on a member, waiting until `to` leads and `from` follows it on its timeline.
 * Not strict: `to` is a preference, and the synchronous standby (or the replica with the least lag) at the time
 * it runs is taken if `to` cannot be. Strict: `to` or nothing.
 */
export function switchoverCommand(o: {
  config: string;
  cluster: string;
  from: string;
  to: string;
  timeout: number;
  strict: boolean;
}): Command {
  return sh`python3 -c ${MEMBER_ACTION} ${o.config} ${o.cluster} switchover ${o.from} ${o.timeout} ${o.to} ${o.strict ? 'strict' : 'prefer'}`;
}

/**
 * Runs one rollout action on the host with patronictl and waits until the cluster is whole again: a restarted
 * member is running in its role with nothing pending (a replica on the leader's timeline); after a switchover
 * the candidate leads and the old leader follows it. A restart is skipped when the member is no longer pending
 * (a demoted leader comes back with the new settings). patronictl exits 0 when Patroni refuses an action, so its
 * output is read for "failed" too.
 */
const MEMBER_ACTION = String.raw`
import json, re, subprocess, sys, time
config, cluster, action, member, timeout, extra = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
strict = len(sys.argv) > 7 and sys.argv[7] == 'strict'

def members():
    out = subprocess.run(['patronictl', '-c', config, 'list', '-f', 'json'], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError((out.stderr or out.stdout).strip())
    return {r['Member']: r for r in json.loads(out.stdout or '[]')}

def ctl(*args):
    out = subprocess.run(['patronictl', '-c', config] + list(args), capture_output=True, text=True)
    text = (out.stdout + out.stderr).strip()
    print(text)
    if out.returncode != 0 or re.search(r'(^|\W)fail', text, re.I):
        sys.exit('patronictl %s failed: %s' % (args[0], text))

def wait(name, want, pending_ok):
    deadline, last = time.time() + timeout, 'no answer from patronictl'
    while time.time() < deadline:
        try:
            rows = members()
            me = rows.get(name, {})
            tl = [r.get('TL') for r in rows.values() if r.get('Role') == 'Leader']
            ok = me.get('State') in ('running', 'streaming') and (pending_ok or not me.get('Pending restart'))
            if want == 'leader':
                ok = ok and me.get('Role') == 'Leader'
            else:
                ok = ok and me.get('Role') != 'Leader' and bool(tl) and me.get('TL') == tl[0]
            if ok:
                return
            last = json.dumps(me) if me else name + ' is not listed'
        except Exception as e:
            last = str(e)
        time.sleep(1)
    sys.exit('%s is not a running %s after %d s; last seen: %s' % (name, want, timeout, last))

if action == 'restart':
    if members().get(member, {}).get('Pending restart'):
        ctl('restart', '--force', cluster, member)
        wait(member, extra, False)
    else:
        print('%s is no longer pending restart' % member)
else:
    # The candidate is chosen now, not when the rollout was planned: restarting replicas moves the synchronous
    # standby, and in synchronous mode Patroni hands over to the synchronous standby only.
    rows = members()
    ready = [r for r in rows.values() if r.get('Role') != 'Leader' and r.get('State') in ('running', 'streaming')]
    sync = [r for r in ready if r.get('Role') == 'Sync Standby']
    eligible = sync or ready
    if not eligible:
        sys.exit('no running replica to switch over to: %s' % json.dumps(list(rows.values())))
    names = [r['Member'] for r in eligible]
    if strict and extra not in names:
        sys.exit('%s cannot take over now (eligible: %s): %s' % (extra, ', '.join(names), json.dumps(rows.get(extra, {}))))
    lag = lambda r: r.get('Lag in MB') if isinstance(r.get('Lag in MB'), (int, float)) else float('inf')
    to = extra if extra in names else sorted(eligible, key=lambda r: (lag(r), r['Member']))[0]['Member']
    ctl('switchover', '--leader', member, '--candidate', to, '--force', cluster)
    wait(to, 'leader', True)
    wait(member, 'replica', True)
`;
