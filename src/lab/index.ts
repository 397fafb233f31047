/**
 * The local lab: Debian hosts pg1..pgN as systemd-nspawn containers on a private bridge, reachable over SSH like
 * VMs. `pgprov lab up|down|status|ssh` and the e2e tests use this API; library code only, it never prints.
 */
export { labUp, type LabUpOptions, type LabUpResult } from './up.js';
export { labDown, type LabDownOptions, type LabDownResult } from './down.js';
export { labStatus, type LabStatus, type LabHostStatus, type LabStatusOptions } from './status.js';
export { labStart, labStop, type LabPowerOptions, type LabPowerResult } from './power.js';
export { labHeal, labNetwork, labPartition, type LabPartitionOptions } from './partition.js';
export { labSshArgs, type SshArgsOptions } from './ssh.js';
export {
  ensureLabImage,
  imageReady,
  labImage,
  IMAGE_PACKAGES,
  type ImageOptions,
  type ImageResult,
} from './image.js';
export { LAB_HOME, labLayout, type LabLayout } from './layout.js';
export {
  APT_PROXY_URL,
  BRIDGE_ADDRESS,
  BRIDGE_NAME,
  DEFAULT_HOST_COUNT,
  DEFAULT_SUITE,
  LAB_SUBNET,
  LAB_USER,
  MAX_HOST_COUNT,
  VIRTUAL_IP,
  labHost,
  labHostNamed,
  labHosts,
  type LabHost,
} from './topology.js';
