import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HOST_APT_MIRROR } from './topology.js';

/**
 * The Debian mirror this machine's own apt sources use: the image is bootstrapped from it and the lab proxy fetches
 * from it. Both formats are read: one-line `deb URI suite components` and deb822 `.sources` stanzas.
 */

/** The first `deb` URI of a Debian archive (not debian-security, not a third-party repository), or undefined. */
export function debianMirrorIn(files: readonly { name: string; text: string }[]): string | undefined {
  const uris: string[] = [];
  for (const { name, text } of files) {
    if (name.endsWith('.sources')) uris.push(...deb822Uris(text));
    else uris.push(...oneLineUris(text));
  }
  return uris.find(isDebianArchive)?.replace(/\/+$/, '');
}

function oneLineUris(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    // deb [ options ] uri suite components...
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/.exec(line);
    if (m?.[1]) out.push(m[1]);
  }
  return out;
}

function deb822Uris(text: string): string[] {
  const out: string[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#')) continue;
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m?.[1] && m[2] !== undefined) fields.set(m[1].toLowerCase(), m[2].trim());
    }
    if (fields.get('enabled') === 'no') continue;
    if (!(fields.get('types') ?? '').split(/\s+/).includes('deb')) continue;
    out.push(...(fields.get('uris') ?? '').split(/\s+/).filter(Boolean));
  }
  return out;
}

function isDebianArchive(uri: string): boolean {
  return /^https?:\/\/[^/]+(\/.*)?\/debian\/?$/.test(uri);
}

/** This machine's Debian mirror, or deb.debian.org when its sources name none. */
export async function machineDebianMirror(etcApt = '/etc/apt'): Promise<string> {
  const files: { name: string; text: string }[] = [];
  const read = async (path: string) => {
    try {
      files.push({ name: path, text: await readFile(path, 'utf8') });
    } catch {
      // absent: fine
    }
  };
  await read(join(etcApt, 'sources.list'));
  let names: string[] = [];
  try {
    names = (await readdir(join(etcApt, 'sources.list.d'))).sort();
  } catch {
    // absent: fine
  }
  for (const name of names) {
    if (name.endsWith('.list') || name.endsWith('.sources')) await read(join(etcApt, 'sources.list.d', name));
  }
  return debianMirrorIn(files) ?? HOST_APT_MIRROR;
}
