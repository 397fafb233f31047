/**
 * The commands behind `put` and `get`. Pure: they build Commands and the data sent on stdin.
 *
 * put, in one round trip: the content arrives base64-encoded on stdin (binary and secrets survive, and nothing of
 * it appears in the command line or a process listing); it is decoded into a temporary file beside the
 * destination (same directory, so the rename is atomic), its size is checked (a cut connection gives a short
 * file, not an error from base64), mode and owner are set, and only then is it renamed over the destination.
 * Any failure or signal removes the temporary file; the destination is either the old file or the new one.
 */
import { posix } from 'node:path';
import { join, raw, sh, type Command } from '../core/command.js';

/** Temporary files are `.<name>.pgprov-XXXXXX` beside the destination. */
export const TEMP_SUFFIX = '.pgprov-';

export function tempTemplate(path: string): string {
  return posix.join(posix.dirname(path), `.${posix.basename(path)}${TEMP_SUFFIX}XXXXXX`);
}

export interface PutTarget {
  path: string;
  mode: string;
  owner: string;
  group: string;
  /** A check run on the new file before it replaces the old one; `%s` is its path (`haproxy -c -f %s`). */
  validate?: string;
}

/** The command that places stdin (base64) at `target.path`, if and only if exactly `size` bytes arrived. */
export function putCommand(target: PutTarget, size: number): Command {
  if (!posix.isAbsolute(target.path) || target.path.endsWith('/')) {
    throw new Error(`put needs an absolute file path, got ${JSON.stringify(target.path)}`);
  }
  if (!/^[0-7]{3,4}$/.test(target.mode)) throw new Error(`put needs an octal mode, got ${target.mode}`);
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`bad size ${size}`);
  const owner = `${target.owner}:${target.group}`;
  // On any failure or signal the EXIT trap removes the temp file; after the rename there is none to remove.
  const cleanup = sh`tmp=; trap 'rm -f "$tmp"' EXIT; trap 'exit 129' HUP INT TERM PIPE;`;
  const steps = [
    sh`tmp=$(mktemp ${tempTemplate(target.path)})`,
    sh`base64 -d >"$tmp"`,
    sh`n=$(wc -c <"$tmp")`,
    sh`{ [ $n -eq ${size} ] || { echo "put: received $n of ${size} bytes" >&2; false; }; }`,
    sh`chmod ${target.mode} "$tmp"`,
    sh`chown ${owner} "$tmp"`,
    ...(target.validate ? [validateStep(target.validate)] : []),
    sh`mv -f "$tmp" ${target.path}`,
    sh`tmp=`,
  ];
  return join([cleanup, join(steps, ' && ')], ' ');
}

/** Runs the role's check on the temporary file; when it fails the old file stays and its output is the error. */
function validateStep(template: string): Command {
  if (!template.includes('%s'))
    throw new Error(`validate needs %s where the file goes, got ${JSON.stringify(template)}`);
  return sh`{ ${raw(template.split('%s').join('"$tmp"'))} >&2 || { echo "validation failed: ${raw(template.replace(/[`"$\\]/g, ''))}" >&2; false; }; }`;
}

/** What put sends on stdin. */
export function putInput(content: Buffer): string {
  return `${content.toString('base64')}\n`;
}

/** The command that prints a file's bytes as base64. */
export function getCommand(path: string): Command {
  return sh`base64 <${path}`;
}

/** Decodes what getCommand printed. */
export function decodeGetOutput(stdout: string): Buffer {
  return Buffer.from(stdout.replace(/\s+/g, ''), 'base64');
}
