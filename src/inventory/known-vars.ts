/**
 * pgprov's own variables that the inventory stage reads. Their types live in schemas/inventory.schema.json
 * (`$defs/vars`), generated into vars.generated.ts; a test checks every name here is in the schema.
 */

/** Each connection setting has an Ansible name and a pgprov name; both mean the same variable. */
export const CONNECTION_VARS = {
  address: { ansible: 'ansible_host', pgprov: 'address' },
  port: { ansible: 'ansible_port', pgprov: 'ssh_port' },
  user: { ansible: 'ansible_user', pgprov: 'ssh_user' },
  privateKeyFile: { ansible: 'ansible_ssh_private_key_file', pgprov: 'ssh_private_key_file' },
  become: { ansible: 'ansible_become', pgprov: 'become' },
} as const;

export type ConnectionField = keyof typeof CONNECTION_VARS;
export const CONNECTION_FIELDS = Object.keys(CONNECTION_VARS) as ConnectionField[];

/** Name -> the other name of the same connection variable (`ansible_user` <-> `ssh_user`). */
export const ALIASES: ReadonlyMap<string, string> = new Map(
  Object.values(CONNECTION_VARS).flatMap(({ ansible, pgprov }) => [
    [ansible, pgprov],
    [pgprov, ansible],
  ]),
);

/** Both names of a connection variable, the pgprov name last (it wins if one place gives both). */
export function namesOf(field: ConnectionField): readonly [string, string] {
  const { ansible, pgprov } = CONNECTION_VARS[field];
  return [ansible, pgprov];
}

/** The inventory-wide known_hosts file. */
export const KNOWN_HOSTS_VAR = 'pgprov_known_hosts';

/**
 * Ansible variables pgprov does not read. Left alone they would be ignored silently (and pgprov would connect
 * somewhere else, or as someone else), so they are errors unless they hold the one value pgprov uses anyway.
 */
export const UNSUPPORTED_ANSIBLE_VARS: Readonly<Record<string, { hint: string; allowed?: unknown }>> = {
  ansible_ssh_host: { hint: 'rename it to ansible_host (or address)' },
  ansible_ssh_port: { hint: 'rename it to ansible_port (or ssh_port)' },
  ansible_ssh_user: { hint: 'rename it to ansible_user (or ssh_user)' },
  ansible_password: {
    hint: 'pgprov logs in with SSH keys only: set ansible_ssh_private_key_file or use an agent',
  },
  ansible_ssh_pass: {
    hint: 'pgprov logs in with SSH keys only: set ansible_ssh_private_key_file or use an agent',
  },
  ansible_connection: { hint: 'pgprov always connects over SSH: remove ansible_connection', allowed: 'ssh' },
  ansible_become_user: { hint: 'pgprov always becomes root: remove ansible_become_user', allowed: 'root' },
  ansible_become_method: {
    hint: 'pgprov becomes root with sudo: remove ansible_become_method',
    allowed: 'sudo',
  },
};
