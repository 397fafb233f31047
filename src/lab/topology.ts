import { UsageError } from '../core/errors.js';

/**
 * The lab's network plan, as pure data. Tests and inventory/lab.yaml rely on these names and addresses, so they
 * are fixed: pg1..pgN on 10.231.0.0/24, pg1 = .11, the bridge (this machine) = .1. Addresses .2-.10 and .100 and
 * above are never a host's: the inventories' virtual IPs are .10 (lab.yaml), .9 (lab-standby.yaml) and .8
 * (lab-trixie.yaml).
 */

export const LAB_SUBNET = '10.231.0.0/24';
export const LAB_PREFIX_LENGTH = 24;
export const BRIDGE_NAME = 'pgprov0';
export const BRIDGE_ADDRESS = '10.231.0.1';
/** Reserved for the cluster's virtual IP (keepalived); no lab host ever gets it. */
export const VIRTUAL_IP = '10.231.0.10';
/** apt-cacher-ng listens here; hosts reach Debian packages only through it. */
export const APT_PROXY_PORT = 3142;
export const APT_PROXY_URL = `http://${BRIDGE_ADDRESS}:${APT_PROXY_PORT}`;
/** The mirror hosts' apt sources name; the proxy maps it to this machine's own mirror. */
export const HOST_APT_MIRROR = 'http://deb.debian.org/debian';

export const DEFAULT_HOST_COUNT = 3;
/** pgN sits at .(10+N), and .100 and above stay free. */
export const MAX_HOST_COUNT = 89;
export const DEFAULT_SUITE = 'bookworm';
/** The login user on every lab host, with passwordless sudo, as on Vagrant boxes. */
export const LAB_USER = 'vagrant';

export interface LabHost {
  /** Inventory name and hostname: `pg1`. */
  name: string;
  /** 1-based position: pg1 is 1. */
  index: number;
  /** `10.231.0.11` */
  address: string;
  /** `10.231.0.11/24` */
  cidr: string;
  /** Network namespace, at /run/netns/<netns>: `pgprov-pg1`. */
  netns: string;
  /** This machine's end of the host's veth pair, enslaved to the bridge: `pgpv-pg1`. */
  veth: string;
  /** The host's end of the veth pair, inside its namespace. */
  ifname: 'eth0';
}

const HOST_NAME = /^pg([1-9][0-9]*)$/;

/** The host at a 1-based position. */
export function labHost(index: number): LabHost {
  if (!Number.isInteger(index) || index < 1 || index > MAX_HOST_COUNT) {
    throw new UsageError(`there is no lab host number ${index}`, {
      hint: `lab hosts are pg1..pg${MAX_HOST_COUNT}`,
    });
  }
  const name = `pg${index}`;
  const address = `10.231.0.${10 + index}`;
  return {
    name,
    index,
    address,
    cidr: `${address}/${LAB_PREFIX_LENGTH}`,
    netns: `pgprov-${name}`,
    veth: `pgpv-${name}`,
    ifname: 'eth0',
  };
}

/** The first `count` lab hosts, pg1..pg<count>. */
export function labHosts(count: number = DEFAULT_HOST_COUNT): LabHost[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOST_COUNT) {
    throw new UsageError(`a lab has 1 to ${MAX_HOST_COUNT} hosts, not ${count}`, {
      hint: `pass a host count between 1 and ${MAX_HOST_COUNT} (default ${DEFAULT_HOST_COUNT})`,
    });
  }
  return Array.from({ length: count }, (_, i) => labHost(i + 1));
}

/** The lab host with this name (`pg2`), or a UsageError naming the valid ones. */
export function labHostNamed(name: string): LabHost {
  const match = HOST_NAME.exec(name);
  const index = match ? Number(match[1]) : NaN;
  if (!match || index > MAX_HOST_COUNT) {
    throw new UsageError(`${JSON.stringify(name)} is not a lab host name`, {
      hint: `lab hosts are named pg1, pg2, ... pg${MAX_HOST_COUNT}`,
    });
  }
  return labHost(index);
}

const SUITE = /^[a-z][a-z0-9-]{1,30}$/;

/** A Debian suite codename (`bookworm`, `trixie`). The image cache is keyed by it. */
export function checkSuite(suite: string): string {
  if (!SUITE.test(suite)) {
    throw new UsageError(`${JSON.stringify(suite)} is not a Debian suite codename`, {
      hint: `pass a codename such as ${DEFAULT_SUITE} or trixie`,
    });
  }
  return suite;
}
