/** A step in a YAML path: a map key or a list index. */
export type Segment = string | number;

const PLAIN = /^[^.[\]"'\s]+$/;

/**
 * Formats a path the way users read it: `all.children.etcd_cluster.hosts.pg1.ansible_port`. Keys with a dot or
 * other separators are bracketed (`all.hosts["10.0.0.1"].ansible_port`), list indexes too (`roles[0]`).
 */
export function formatPath(path: readonly Segment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Splits a JSON pointer (`/all/hosts/pg1`, as ajv reports it) into path segments. */
export function pointerToPath(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
