import type { SourceLocation } from '../core/errors.js';

/** Variables: plain YAML values (strings, numbers, booleans, lists, maps). Secrets are wrapped later. */
export type Vars = Record<string, unknown>;

/** How to reach a host over SSH, from `ansible_*` or pgprov's own names. */
export interface HostConnection {
  address: string;
  port: number;
  user: string;
  /** Absolute path (relative paths are resolved against the inventory file's folder). */
  privateKeyFile?: string;
  become: boolean;
}

export interface InventoryHost {
  name: string;
  /** With defaults applied; extra vars (`-e ssh_user=...`) count here too. */
  connection: HostConnection;
  /** Groups the host belongs to, directly or through `children:`, plus `all`. Sorted. */
  groups: string[];
  /**
   * Group vars (all < parent groups < child groups; inventory file < group_vars/) < host vars (file < host_vars/),
   * without role defaults or extra vars: add those with resolveHostVars (precedence.ts). A connection variable
   * set under one name is present under both (`ansible_user` and `ssh_user`).
   */
  vars: Vars;
}

/** A loaded, validated inventory. Pure data: no file handles, no connections. */
export interface Inventory {
  /** Absolute path of the inventory file. */
  file: string;
  /** Folder for this inventory's local state (PKI, secrets, known_hosts): `<dir>/.pgprov/<basename>/`. */
  stateDir: string;
  /** known_hosts used to verify SSH host keys (`pgprov_known_hosts`, default `<stateDir>/known_hosts`). */
  knownHostsFile: string;
  /** Hosts in file order. */
  hosts: InventoryHost[];
  /** Group name -> host names (children expanded), including `all`. */
  groups: Record<string, string[]>;
  /** Where a YAML path was defined, for error messages from later stages. */
  locate(path: readonly (string | number)[]): SourceLocation;
}
