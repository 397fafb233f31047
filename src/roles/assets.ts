import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Project } from './model.js';

/** Reads every template (templates/**) and role file (roles/<role>/files/**) once, so planning stays pure. */
export async function loadAssets(
  project: Project,
): Promise<{ templates: Map<string, string>; files: Map<string, string> }> {
  const templates = new Map<string, string>();
  for (const file of await walk(project.templatesDir)) {
    templates.set(relative(project.templatesDir, file), await readFile(file, 'utf8'));
  }
  const files = new Map<string, string>();
  for (const role of project.roles.keys()) {
    const dir = join(project.root, 'roles', role, 'files');
    for (const file of await walk(dir))
      files.set(`${role}/${relative(dir, file)}`, await readFile(file, 'utf8'));
  }
  return { templates, files };
}

async function walk(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(path)));
    else if (e.isFile()) out.push(path);
  }
  return out.sort();
}
