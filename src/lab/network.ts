import { sh } from '../core/command.js';
import { EnvironmentError } from '../core/errors.js';
import { run, succeeds, tryRun } from './local.js';
import { BRIDGE_ADDRESS, BRIDGE_NAME, LAB_PREFIX_LENGTH, type LabHost } from './topology.js';

/**
 * The lab network: a bridge on this machine at 10.231.0.1, and per host a network namespace joined to it by a
 * veth pair. Hosts get no default route, and a policy-routing rule refuses to forward anything that arrives on the
 * bridge (even if a host adds a route itself): lab traffic reaches the lab hosts and this machine, nothing else.
 * Every function is idempotent.
 */

/** Priority of the rule that refuses to route lab traffic anywhere but this machine (local addresses match first). */
export const NO_FORWARD_RULE_PRIORITY = 10231;

const hint = 'run `pgprov lab down` to clean up, then `pgprov lab up` again';

export async function linkExists(name: string): Promise<boolean> {
  return succeeds(sh`ip link show dev ${name}`);
}

export async function labNetnsNames(): Promise<string[]> {
  const out = await tryRun(sh`ip netns list`);
  return out.stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith('pgprov-'));
}

/** Refuses to build the lab if another interface already has an address in the lab subnet. */
async function checkSubnetFree(): Promise<void> {
  const out = await run(sh`ip -o -4 addr show`, { step: 'list this machine’s addresses' });
  for (const line of out.split('\n')) {
    const [, dev, , cidr] = line.split(/\s+/);
    if (dev && dev !== BRIDGE_NAME && cidr?.startsWith('10.231.0.')) {
      throw new EnvironmentError(`lab: ${dev} already has ${cidr}, inside the lab subnet 10.231.0.0/24`, {
        hint: `free 10.231.0.0/24 on this machine (the lab's bridge ${BRIDGE_NAME} needs it)`,
      });
    }
  }
}

/** The bridge at 10.231.0.1/24, up, and the rule that keeps lab traffic from being routed elsewhere. */
export async function ensureBridge(): Promise<boolean> {
  let changed = false;
  if (!(await linkExists(BRIDGE_NAME))) {
    await checkSubnetFree();
    await run(sh`ip link add ${BRIDGE_NAME} type bridge`, { step: 'create the lab bridge', hint });
    changed = true;
  }
  const addrs = await run(sh`ip -o -4 addr show dev ${BRIDGE_NAME}`, { step: 'read the bridge address' });
  if (!addrs.includes(` ${BRIDGE_ADDRESS}/${LAB_PREFIX_LENGTH} `)) {
    await run(sh`ip addr add ${`${BRIDGE_ADDRESS}/${LAB_PREFIX_LENGTH}`} dev ${BRIDGE_NAME}`, {
      step: 'address the lab bridge',
      hint,
    });
    changed = true;
  }
  await run(sh`ip link set ${BRIDGE_NAME} up`, { step: 'bring the lab bridge up', hint });
  for (const family of ['-4', '-6']) {
    const rules = await run(sh`ip ${family} rule show priority ${NO_FORWARD_RULE_PRIORITY}`, {
      step: 'read the routing rules',
    });
    if (!rules.includes(`iif ${BRIDGE_NAME}`)) {
      await run(sh`ip ${family} rule add iif ${BRIDGE_NAME} priority ${NO_FORWARD_RULE_PRIORITY} prohibit`, {
        step: 'refuse to route lab traffic off this machine',
        hint,
      });
      changed = true;
    }
  }
  return changed;
}

export async function removeBridge(): Promise<boolean> {
  let changed = false;
  for (const family of ['-4', '-6']) {
    for (;;) {
      const rules = await tryRun(sh`ip ${family} rule show priority ${NO_FORWARD_RULE_PRIORITY}`);
      if (!rules.stdout.includes(`iif ${BRIDGE_NAME}`)) break;
      await run(sh`ip ${family} rule del iif ${BRIDGE_NAME} priority ${NO_FORWARD_RULE_PRIORITY} prohibit`, {
        step: 'remove the lab routing rule',
      });
      changed = true;
    }
  }
  if (await linkExists(BRIDGE_NAME)) {
    await run(sh`ip link del ${BRIDGE_NAME}`, { step: 'remove the lab bridge' });
    changed = true;
  }
  return changed;
}

/** The host's namespace with eth0 at its address (no default route), its veth peer on the bridge. */
export async function ensureHostNetwork(host: LabHost): Promise<boolean> {
  let changed = false;
  const step = (what: string) => ({ step: `${host.name}: ${what}`, hint });
  if (!(await labNetnsNames()).includes(host.netns)) {
    await run(sh`ip netns add ${host.netns}`, step('create the network namespace'));
    changed = true;
  }
  if (!(await linkExists(host.veth))) {
    await run(
      sh`ip link add ${host.veth} type veth peer name ${host.ifname} netns ${host.netns}`,
      step('create the veth pair'),
    );
    changed = true;
  }
  await run(sh`ip link set ${host.veth} master ${BRIDGE_NAME} up`, step('join the bridge'));
  const addrs = await run(
    sh`ip -n ${host.netns} -o -4 addr show dev ${host.ifname}`,
    step('read the address'),
  );
  if (!addrs.includes(` ${host.cidr} `)) {
    await run(sh`ip -n ${host.netns} addr add ${host.cidr} dev ${host.ifname}`, step('set the address'));
    changed = true;
  }
  await run(sh`ip -n ${host.netns} link set ${host.ifname} up`, step('bring eth0 up'));
  await run(sh`ip -n ${host.netns} link set lo up`, step('bring lo up'));
  return changed;
}

/** Deletes the namespace (which deletes the veth pair with it). */
export async function removeHostNetwork(netns: string, veth: string): Promise<boolean> {
  let changed = false;
  if ((await labNetnsNames()).includes(netns)) {
    await run(sh`ip netns del ${netns}`, { step: `remove network namespace ${netns}` });
    changed = true;
  }
  // The kernel destroys a namespace (and the veth's peer in it, hence the veth) after `ip netns del` returns:
  // the link may vanish between the look and the delete.
  if (await linkExists(veth)) {
    const result = await tryRun(sh`ip link del ${veth}`);
    if (result.code !== 0 && (await linkExists(veth))) {
      await run(sh`ip link del ${veth}`, { step: `remove ${veth}` });
    }
    changed = true;
  }
  return changed;
}
