import {
  APT_PROXY_PORT,
  APT_PROXY_URL,
  BRIDGE_ADDRESS,
  HOST_APT_MIRROR,
  LAB_USER,
  type LabHost,
} from './topology.js';

/** The text of every file the lab writes into an image or a host, as pure functions of the topology. */

/** /etc/hosts on every lab host: all lab hosts by name, and this machine as `pgprov-lab`. */
export function etcHosts(hosts: readonly LabHost[]): string {
  return [
    '# Written by pgprov lab up.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    `${BRIDGE_ADDRESS}\tpgprov-lab`,
    ...hosts.map((h) => `${h.address}\t${h.name}`),
    '',
  ].join('\n');
}

/** One OpenSSH known_hosts line per host: `10.231.0.11 ssh-ed25519 AAAA...`. */
export function knownHosts(entries: readonly { host: LabHost; publicKey: string }[]): string {
  return entries
    .map(({ host, publicKey }) => {
      const [type, key] = publicKey.trim().split(/\s+/);
      return `${host.address} ${type} ${key}\n`;
    })
    .join('');
}

/** Hosts' apt sources: the Debian mirror's main and updates suites, fetched through the lab's proxy. */
export function aptSources(suite: string): string {
  return [
    '# Written by pgprov lab: fetched through the lab proxy (see apt.conf.d/01pgprov-lab-proxy).',
    `deb ${HOST_APT_MIRROR} ${suite} main`,
    `deb ${HOST_APT_MIRROR} ${suite}-updates main`,
    '',
  ].join('\n');
}

export function aptProxy(): string {
  return `Acquire::http::Proxy "${APT_PROXY_URL}";\n`;
}

/**
 * dpkg on a lab host: the host is disposable, so dpkg skips its fsyncs and leaves out manual pages and
 * translations, as container images do. Package installs are most of a fresh deploy on the lab; production
 * hosts are not touched by this (it is the lab image's, not a role's).
 */
export function dpkgConfig(): string {
  return [
    '# Written by pgprov lab: a lab host is disposable (see src/lab/host-files.ts).',
    'force-unsafe-io',
    'path-exclude=/usr/share/man/*',
    'path-exclude=/usr/share/locale/*/LC_MESSAGES/*.mo',
    '',
  ].join('\n');
}

export function sudoers(): string {
  return `${LAB_USER} ALL=(ALL) NOPASSWD:ALL\n`;
}

/** sshd on lab hosts: only the per-host ed25519 key (the image has none), keys only, no DNS lookups. */
export function sshdConfig(): string {
  return [
    '# Written by pgprov lab.',
    'HostKey /etc/ssh/ssh_host_ed25519_key',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UseDNS no',
    '',
  ].join('\n');
}

/** policy-rc.d that keeps package scripts from starting services. */
export function policyRcD(): string {
  return '#!/bin/sh\n# pgprov lab image build: no service starts while packages install.\nexit 101\n';
}

export interface ProxyConfig {
  cacheDir: string;
  logDir: string;
  socketPath: string;
  /** This machine's Debian mirror, where the proxy fetches what hosts ask of any Debian mirror. */
  debianMirror: string;
}

/**
 * The lab's own apt-cacher-ng configuration (its own folder, so /etc/apt-cacher-ng stays as the package left it).
 * Requests for any known Debian mirror are remapped to `debianMirror`; without a backend apt-cacher-ng answers 503.
 */
export function aptCacherConfig(config: ProxyConfig): { 'acng.conf': string; backends_debian: string } {
  return {
    'acng.conf': [
      '# Written by pgprov lab up: the lab proxy, bound to the bridge address only.',
      `CacheDir: ${config.cacheDir}`,
      `LogDir: ${config.logDir}`,
      `SocketPath: ${config.socketPath}`,
      'SupportDir: /usr/lib/apt-cacher-ng',
      `BindAddress: ${BRIDGE_ADDRESS}`,
      `Port: ${APT_PROXY_PORT}`,
      'ForeGround: 1',
      'Remap-debrep: file:deb_mirror*.gz /debian ; file:backends_debian # Debian Archives',
      'ExThreshold: 4',
      'FollowIndexFileRemoval: 1',
      '',
    ].join('\n'),
    backends_debian: `${config.debianMirror.replace(/\/?$/, '/')}\n`,
  };
}
