/** One difference between the cluster-wide settings wanted and those in the DCS. */
export interface ConfigChange {
  path: string;
  from: unknown;
  /** undefined: the setting is removed. */
  to: unknown;
}

type Settings = Record<string, unknown>;

/**
 * Sections the inventory owns whole: a key there that the inventory no longer names is removed. Elsewhere only
 * the keys the inventory names are compared, so settings an operator added (a `pause`, permanent `slots`) stay.
 */
const OWNED = new Set(['postgresql.parameters']);

/**
 * The patch (Patroni's PATCH /config semantics: objects merge, null removes) that brings `current` to what
 * `desired` says, and the changes it makes. Scalars compare by their text, as PostgreSQL reads them: 100 and
 * "100" are the same setting.
 */
export function dynamicConfigPatch(
  desired: Settings,
  current: Settings,
): { patch: Settings; changes: ConfigChange[] } {
  const changes: ConfigChange[] = [];
  const walk = (want: Settings, have: Settings, path: string): Settings => {
    const patch: Settings = {};
    for (const [key, value] of Object.entries(want)) {
      const at = path ? `${path}.${key}` : key;
      const old = have[key];
      if (value === null || value === undefined) {
        if (old !== undefined && old !== null) {
          patch[key] = null;
          changes.push({ path: at, from: old, to: undefined });
        }
      } else if (isObject(value)) {
        const sub = walk(value, isObject(old) ? old : {}, at);
        if (Object.keys(sub).length > 0) patch[key] = sub;
      } else if (!same(value, old)) {
        patch[key] = value;
        changes.push({ path: at, from: old, to: value });
      }
    }
    if (OWNED.has(path)) {
      for (const [key, old] of Object.entries(have)) {
        if (!(key in want) && old !== null) {
          patch[key] = null;
          changes.push({ path: `${path}.${key}`, from: old, to: undefined });
        }
      }
    }
    return patch;
  };
  const patch = walk(desired, current, '');
  return { patch, changes };
}

export function describeChange(c: ConfigChange): string {
  const show = (v: unknown): string => (v === undefined ? '(unset)' : JSON.stringify(v));
  return `${c.path}: ${show(c.from)} -> ${c.to === undefined ? '(removed)' : show(c.to)}`;
}

const isObject = (v: unknown): v is Settings => typeof v === 'object' && v !== null && !Array.isArray(v);

function same(a: unknown, b: unknown): boolean {
  if (b === undefined || b === null) return false;
  if (typeof a === 'object' || typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return String(a) === String(b);
}
