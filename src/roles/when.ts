/**
 * `when:` conditions: a small, safe expression language over variables (no code execution).
 *   etcd_tls and not etcd_single_node
 *   postgresql_version == 15 or os_codename in ['trixie', 'forky']
 *   patroni_watchdog is defined
 */
export type Lookup = (path: string) => { found: boolean; value?: unknown };

type Token = { kind: 'op' | 'name' | 'str' | 'num' | 'punct'; text: string; value?: unknown };

const TOKEN =
  /\s*(?:(==|!=|<=|>=|<|>)|(\(|\)|\[|\]|,)|'([^']*)'|"([^"]*)"|(-?\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_.]*))/y;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) throw new Error(`unexpected '${text.slice(at).trim()[0]}' at column ${at + 1}`);
    if (m[1]) tokens.push({ kind: 'op', text: m[1] });
    else if (m[2]) tokens.push({ kind: 'punct', text: m[2] });
    else if (m[3] !== undefined || m[4] !== undefined)
      tokens.push({ kind: 'str', text: '', value: m[3] ?? m[4] });
    else if (m[5]) tokens.push({ kind: 'num', text: m[5], value: Number(m[5]) });
    else tokens.push({ kind: 'name', text: m[6] as string });
  }
  return tokens;
}

/** Evaluates a condition. Throws Error with a readable message on bad syntax or an undefined variable. */
export function evaluateWhen(expression: string, lookup: Lookup): boolean {
  const tokens = tokenize(expression);
  let i = 0;
  const peek = () => tokens[i];
  const isWord = (w: string) => peek()?.kind === 'name' && peek()?.text === w;
  const expect = (text: string) => {
    if (peek()?.text !== text) throw new Error(`expected '${text}'`);
    i++;
  };

  // `x is defined and x` must not fail when x is undefined: the right side of a decided and/or is parsed
  // with variable lookups switched off (skipping), not evaluated.
  let skipping = 0;
  const skipIf = <T>(skip: boolean, parse: () => T): T => {
    if (skip) skipping++;
    try {
      return parse();
    } finally {
      if (skip) skipping--;
    }
  };
  const or = (): unknown => {
    let left = and();
    while (isWord('or')) {
      i++;
      const decided = truthy(left);
      const right = skipIf(decided, and);
      left = decided || truthy(right);
    }
    return left;
  };
  const and = (): unknown => {
    let left = not();
    while (isWord('and')) {
      i++;
      const decided = !truthy(left);
      const right = skipIf(decided, not);
      left = !decided && truthy(right);
    }
    return left;
  };
  const not = (): unknown => {
    if (isWord('not')) {
      i++;
      return !truthy(not());
    }
    return comparison();
  };
  const comparison = (): unknown => {
    if (peek()?.kind === 'name' && tokens[i + 1]?.text === 'is') {
      const name = (tokens[i] as Token).text;
      i += 2;
      const negate = isWord('not');
      if (negate) i++;
      if (!isWord('defined')) throw new Error(`expected 'defined' after 'is'`);
      i++;
      return lookup(name).found !== negate;
    }
    const left = atom();
    const t = peek();
    if (t?.kind === 'op') {
      i++;
      const right = atom();
      return compare(t.text, left, right);
    }
    if (isWord('in') || (isWord('not') && tokens[i + 1]?.text === 'in')) {
      const negate = isWord('not');
      i += negate ? 2 : 1;
      const list = atom();
      if (!Array.isArray(list)) {
        if (skipping > 0) return false;
        throw new Error(`'in' needs a list on its right`);
      }
      return list.includes(left) !== negate;
    }
    return left;
  };
  const atom = (): unknown => {
    const t = peek();
    if (!t) throw new Error('unexpected end of condition');
    i++;
    if (t.kind === 'str' || t.kind === 'num') return t.value;
    if (t.text === '(') {
      const v = or();
      expect(')');
      return v;
    }
    if (t.text === '[') {
      const items: unknown[] = [];
      while (peek()?.text !== ']') {
        items.push(atom());
        if (peek()?.text === ',') i++;
        else if (peek()?.text !== ']') throw new Error(`expected ',' or ']' in list`);
      }
      i++;
      return items;
    }
    if (t.kind === 'name') {
      if (t.text === 'true' || t.text === 'false') return t.text === 'true';
      if (t.text === 'null') return null;
      if (skipping > 0) return undefined;
      const found = lookup(t.text);
      if (!found.found)
        throw new Error(`variable '${t.text}' is not defined (use '${t.text} is defined' to test)`);
      return found.value;
    }
    throw new Error(`unexpected '${t.text}'`);
  };

  const result = or();
  if (i < tokens.length) throw new Error(`unexpected '${tokens[i]?.text || String(tokens[i]?.value)}'`);
  return truthy(result);
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return Boolean(v);
}

function compare(op: string, a: unknown, b: unknown): boolean {
  switch (op) {
    case '==':
      return a === b || (a != null && b != null && String(a) === String(b));
    case '!=':
      return !compare('==', a, b);
    default: {
      const [x, y] = [Number(a), Number(b)];
      if (Number.isNaN(x) || Number.isNaN(y)) throw new Error(`'${op}' compares numbers`);
      return op === '<' ? x < y : op === '>' ? x > y : op === '<=' ? x <= y : x >= y;
    }
  }
}

/** Looks up a dotted path (`etcd.tls`) in a vars object. */
export function lookupIn(vars: Record<string, unknown>): Lookup {
  return (path) => {
    let v: unknown = vars;
    for (const part of path.split('.')) {
      if (v === null || typeof v !== 'object' || !(part in (v as object))) return { found: false };
      v = (v as Record<string, unknown>)[part];
    }
    return { found: true, value: v };
  };
}
