import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { InputError, type InputIssue } from '../core/errors.js';
import type { Inventory, Vars } from './model.js';
import { validateInventory, type VarsText } from './validate.js';

/** The imperative shell of the inventory: it reads the files, the pure stages (validate.ts) judge them. */

export interface LoadOptions {
  /** Parsed `-e` values (parseExtraVars). */
  extraVars?: Vars;
}

/**
 * Reads an inventory file with the group_vars/ and host_vars/ folders beside it, validates it, and returns it.
 * Throws one InputError carrying every problem found (file, line, column, YAML path, hint).
 */
export async function loadInventory(file: string, options: LoadOptions = {}): Promise<Inventory> {
  const path = resolve(file);
  const dir = dirname(path);
  const issues: InputIssue[] = [];
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    issues.push({
      file: path,
      message: `cannot read the inventory ${file}: ${error.code ?? error.message}`,
      hint: 'check the path of the inventory file',
    });
    return undefined;
  });
  const [groupVars, hostVars] = await Promise.all([
    readVarsFolder(join(dir, 'group_vars'), issues),
    readVarsFolder(join(dir, 'host_vars'), issues),
  ]);
  if (text === undefined || issues.length > 0) throw invalid(file, issues);
  const result = validateInventory({ file: path, text, groupVars, hostVars, homeDir: homedir(), ...options });
  if (!result.ok) throw invalid(file, result.issues);
  return result.value;
}

/**
 * `<dir>/<name>.yaml|.yml` then `<dir>/<name>/*.yaml|.yml` (one level), each in name order; other files are
 * ignored. A missing folder is no folder.
 */
async function readVarsFolder(dir: string, issues: InputIssue[]): Promise<VarsText[]> {
  const list = async (folder: string): Promise<{ name: string; isDir: boolean }[]> => {
    const entries = await readdir(folder, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT')
        issues.push({ file: folder, message: `cannot read ${folder}: ${error.code ?? error.message}` });
      return [];
    });
    return entries
      .map((e) => ({ name: e.name, isDir: e.isDirectory() }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  };
  const isYaml = (name: string): boolean => /\.ya?ml$/.test(name) && !name.startsWith('.');
  const read = async (name: string, file: string): Promise<VarsText[]> => {
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      issues.push({ file, message: `cannot read ${file}: ${error.code ?? error.message}` });
      return undefined;
    });
    return text === undefined ? [] : [{ name, file, text }];
  };
  const entries = await list(dir);
  const files = entries.filter((e) => !e.isDir && isYaml(e.name));
  const folders = entries.filter((e) => e.isDir);
  const single = await Promise.all(
    files.map((e) => read(basename(e.name, extname(e.name)), join(dir, e.name))),
  );
  const nested = await Promise.all(
    folders.map(async (folder) => {
      const inner = (await list(join(dir, folder.name))).filter((e) => !e.isDir && isYaml(e.name));
      return (await Promise.all(inner.map((e) => read(folder.name, join(dir, folder.name, e.name))))).flat();
    }),
  );
  return [...single.flat(), ...nested.flat()];
}

function invalid(file: string, issues: readonly InputIssue[]): InputError {
  return new InputError(`${plural(issues.length)} in the inventory ${file}`, issues, {
    hint: 'fix the problems listed; nothing was changed on any host',
  });
}

const plural = (n: number): string => (n === 1 ? '1 problem' : `${n} problems`);
