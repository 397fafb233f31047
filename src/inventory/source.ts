import {
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type Node,
} from 'yaml';
import type { InputIssue, SourceLocation } from '../core/errors.js';
import { formatPath, type Segment } from './yaml-path.js';

/**
 * A parsed input (a YAML file, or the command line) that can say where each of its values is. Structurally
 * compatible with src/core/yaml-source.ts's YamlSource, plus locating a map key instead of its value.
 */
export interface Source {
  /** Absolute path, or `<command line>`. */
  file: string;
  /** The plain data (maps are objects, lists arrays). */
  value: unknown;
  /**
   * Where a YAML path is, at its value (default: where a wrong value is) or at its key (where an unknown or
   * duplicated key is). A path that does not exist falls back to the deepest part of it that does.
   */
  locate(path: readonly Segment[], at?: 'key' | 'value'): SourceLocation;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; issues: InputIssue[] };

const SYNTAX_HINTS: Partial<Record<string, string>> = {
  DUPLICATE_KEY: 'remove or rename one of them (a host may be listed in several groups, but once per group)',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  BAD_INDENT: 'align the keys of one map in the same column, indenting nested maps by two spaces',
  MULTIPLE_DOCS: 'keep one YAML document per file: remove the extra `---`',
  BLOCK_AS_IMPLICIT_KEY:
    'check the indentation of the lines above: a nested map is probably indented too little',
};
const OPENERS: Partial<Record<string, string>> = { ']': '[', '}': '{' };
const SYNTAX_HINT =
  'check the indentation (spaces only), that each `key:` has a space after the colon, and that quotes are closed';

/** Parses one YAML file. Syntax errors come back as issues naming the line, never thrown. */
export function parseSource(file: string, text: string): Parsed<Source> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, merge: true });
  const syntaxIssue = (offset: number, message: string, hint: string): InputIssue => {
    const { line, col } = lineCounter.linePos(offset);
    return {
      file,
      line,
      column: col,
      message: `YAML syntax error at line ${line}, column ${col}: ${message}`,
      hint,
    };
  };
  const issues = doc.errors.map((e) => {
    const message = e.message.split('\n')[0] ?? e.message;
    // An unclosed quote or bracket is found where the file ends; the user needs the line where it opens.
    const opener =
      /^Missing closing (["'])quote/.exec(message)?.[1] ??
      OPENERS[/end with an? ([\]}])/.exec(message)?.[1] ?? ''];
    const offset = opener ? Math.max(text.lastIndexOf(opener, e.pos[0] - 1), 0) : e.pos[0];
    const hint = opener ? `close the ${opener} opened here` : (SYNTAX_HINTS[e.code] ?? SYNTAX_HINT);
    return syntaxIssue(offset, message, hint);
  });
  issues.push(
    ...duplicateKeys(doc).map(({ key, offset, first }) =>
      syntaxIssue(
        offset,
        `"${key}" appears twice in the same map (first at line ${lineCounter.linePos(first).line})`,
        SYNTAX_HINTS.DUPLICATE_KEY as string,
      ),
    ),
  );
  if (issues.length > 0) return { ok: false, issues };
  const locate = (path: readonly Segment[], at: 'key' | 'value' = 'value'): SourceLocation => {
    const node = findNode(doc.contents, path, at);
    const offset = node?.range?.[0];
    const pos = offset === undefined ? undefined : lineCounter.linePos(offset);
    return withPath({ file, ...(pos ? { line: pos.line, column: pos.col } : {}) }, path);
  };
  return { ok: true, value: { file, value: doc.toJS({ maxAliasCount: 100 }) as unknown, locate } };
}

/** A source for values given on the command line (`-e key=value`): no lines, only the path. */
export function commandLineSource(value: unknown): Source {
  const file = '<command line>';
  return { file, value, locate: (path) => withPath({ file }, path) };
}

function withPath(location: SourceLocation, path: readonly Segment[]): SourceLocation {
  return path.length > 0 ? { ...location, path: formatPath(path) } : location;
}

/** Keys given twice in one map, at the second one (yaml's own check points at the first one's value). */
function duplicateKeys(doc: Document): { key: string; offset: number; first: number }[] {
  const found: { key: string; offset: number; first: number }[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Map<string, number>();
      for (const { key } of map.items) {
        const text = keyText(key);
        const offset = isNode(key) ? (key.range?.[0] ?? 0) : 0;
        const first = seen.get(text);
        if (first === undefined) seen.set(text, offset);
        else found.push({ key: text, offset, first });
      }
    },
  });
  return found;
}

/** The node on the path (or the deepest existing one); for `key`, the last map key instead of its value. */
function findNode(root: unknown, path: readonly Segment[], at: 'key' | 'value'): Node | undefined {
  let node: unknown = root;
  let found: Node | undefined = isNode(root) ? root : undefined;
  for (const [i, segment] of path.entries()) {
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(segment));
      if (!pair) break;
      const last = i === path.length - 1;
      // An empty value (`pg1:`) has no useful position of its own: point at its key.
      const valueless = !isNode(pair.value) || (isScalar(pair.value) && pair.value.value === null);
      if ((last && at === 'key') || valueless) return isNode(pair.key) ? pair.key : found;
      next = pair.value;
    } else if (isSeq(node) && /^\d+$/.test(String(segment))) {
      // A list index, as a number or as ajv's JSON pointer gives it (`/pgbouncer_databases/1`).
      next = node.items[Number(segment)];
    }
    if (!isNode(next)) break;
    node = next;
    found = next;
  }
  return found;
}

function keyText(key: unknown): string {
  return String(isScalar(key) ? key.value : key);
}

/** Where something came from: a source and the YAML path inside it. */
export interface Origin {
  source: Source;
  path: Segment[];
}

/** The location of an origin, or of a path below it. */
export function locateOrigin(
  origin: Origin,
  below: readonly Segment[] = [],
  at?: 'key' | 'value',
): SourceLocation {
  return origin.source.locate([...origin.path, ...below], at);
}
