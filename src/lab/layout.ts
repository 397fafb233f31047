import { join } from 'node:path';

/** Where the lab keeps everything on this machine. */
export const LAB_HOME = '/var/lib/pgprov/lab';

/**
 * The lab home's layout, as pure data:
 *
 *     images/<suite>/            the cached debootstrap rootfs (built once, the hosts' shared lower layer)
 *     hosts/<name>/{upper,work}  each host's overlay layers; root/ is the mounted overlay, console.log its console
 *     ssh/id_ed25519{,.pub}      the lab's login key, generated once
 *     known_hosts                each host's pinned SSH host key, rewritten by `up`
 *     apt-cacher-ng/             the package proxy's cache and logs (kept, like the image)
 *     state.json                 what the running lab is made of: suite, hosts, PIDs, sysctls to restore
 */
export interface LabLayout {
  home: string;
  images: string;
  hosts: string;
  sshKey: string;
  sshPublicKey: string;
  knownHosts: string;
  state: string;
  lock: string;
  proxy: { dir: string; cache: string; log: string; socket: string };
  image(suite: string): string;
  host(name: string): HostLayout;
}

export interface HostLayout {
  dir: string;
  upper: string;
  work: string;
  root: string;
  consoleLog: string;
}

export function labLayout(home: string = LAB_HOME): LabLayout {
  const proxyDir = join(home, 'apt-cacher-ng');
  return {
    home,
    images: join(home, 'images'),
    hosts: join(home, 'hosts'),
    sshKey: join(home, 'ssh', 'id_ed25519'),
    sshPublicKey: join(home, 'ssh', 'id_ed25519.pub'),
    knownHosts: join(home, 'known_hosts'),
    state: join(home, 'state.json'),
    lock: join(home, 'lab.lock'),
    proxy: {
      dir: proxyDir,
      cache: join(proxyDir, 'cache'),
      log: join(proxyDir, 'log'),
      socket: join(proxyDir, 'socket'),
    },
    image: (suite) => join(home, 'images', suite),
    host: (name) => {
      const dir = join(home, 'hosts', name);
      return {
        dir,
        upper: join(dir, 'upper'),
        work: join(dir, 'work'),
        root: join(dir, 'root'),
        consoleLog: join(dir, 'console.log'),
      };
    },
  };
}
