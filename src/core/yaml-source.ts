import { isMap, isNode, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { InputIssue, SourceLocation } from './errors.js';

/** A parsed YAML file that remembers where each value came from, so later stages can point at lines. */
export interface YamlSource {
  file: string;
  value: unknown;
  /** Location of a YAML path (the deepest node that exists on it). */
  locate(path: readonly (string | number)[]): SourceLocation;
}

/** Parses YAML text; syntax errors come back as issues with line and column, never thrown. */
export function parseYaml(file: string, text: string): { source?: YamlSource; issues: InputIssue[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const issues: InputIssue[] = doc.errors.map((e) => {
    const pos = lineCounter.linePos(e.pos[0]);
    return {
      file,
      line: pos.line,
      column: pos.col,
      message: `YAML syntax error: ${e.message.split('\n')[0]}`,
      hint: 'fix the YAML syntax at this line (indentation, a missing colon, an unclosed quote)',
    };
  });
  if (issues.length > 0) return { issues };
  const locate = (path: readonly (string | number)[]): SourceLocation => {
    let node: unknown = doc.contents;
    let found: Node | undefined = isNode(node) ? node : undefined;
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => (isNode(p.key) ? (p.key as { value?: unknown }).value : p.key) === key,
        );
        if (!pair) break;
        node = pair.value ?? pair.key;
        found = isNode(pair.value) ? pair.value : isNode(pair.key) ? pair.key : found;
      } else if (isSeq(node) && /^\d+$/.test(String(key))) {
        // A list index, as a number or as a JSON pointer gives it (`/pgbouncer_databases/1`).
        node = node.items[Number(key)];
        if (isNode(node)) found = node;
        else break;
      } else break;
    }
    const offset = found?.range?.[0];
    const pos = offset === undefined ? undefined : lineCounter.linePos(offset);
    return { file, path: path.join('.'), ...(pos ? { line: pos.line, column: pos.col } : {}) };
  };
  return { source: { file, value: doc.toJS(), locate }, issues: [] };
}

/** Formats a location as `file:line:column`. */
export function where(loc: SourceLocation): string {
  return `${loc.file}${loc.line ? `:${loc.line}${loc.column ? `:${loc.column}` : ''}` : ''}`;
}
