import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  decodeGetOutput,
  getCommand,
  putCommand,
  putInput,
  tempTemplate,
} from '../../src/transport/file-transfer.js';

// The put and get commands run here with a local sh, exactly as the transport runs them on a host.
const owner = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
const group = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();

function runLocally(script: string, input: string) {
  return spawnSync('/bin/sh', ['-c', script], { input, encoding: 'utf8' });
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgprov-put-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const leftovers = async () => (await readdir(dir)).filter((f) => f.includes('.pgprov-'));

describe('put', () => {
  it('writes the temporary file beside the destination', () => {
    expect(tempTemplate('/etc/patroni/patroni.yml')).toBe('/etc/patroni/.patroni.yml.pgprov-XXXXXX');
  });

  it('places binary content with its mode and owner', async () => {
    const path = join(dir, 'file with spaces');
    const content = Buffer.concat([randomBytes(5000), Buffer.from([0, 10, 13, 255])]);
    const command = putCommand({ path, mode: '0640', owner, group }, content.length);
    const result = runLocally(command.script(), putInput(content));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(await readFile(path)).toEqual(content);
    expect((await stat(path)).mode & 0o7777).toBe(0o640);
    expect(await leftovers()).toEqual([]);
  });

  it('leaves the destination alone and cleans up when the content arrives cut short', async () => {
    const path = join(dir, 'config');
    await writeFile(path, 'old content\n');
    const content = randomBytes(3000);
    const cut = putInput(content).slice(0, 2000); // a multiple of 4: valid base64, just too short
    const result = runLocally(putCommand({ path, mode: '0644', owner, group }, content.length).script(), cut);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`received 1500 of 3000 bytes`);
    expect(await readFile(path, 'utf8')).toBe('old content\n');
    expect(await leftovers()).toEqual([]);
  });

  it('leaves the destination alone when the owner cannot be set', async () => {
    const path = join(dir, 'config');
    await writeFile(path, 'old content\n');
    const command = putCommand({ path, mode: '0644', owner: 'no-such-user-pgprov', group }, 3);
    const result = runLocally(command.script(), putInput(Buffer.from('new')));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/invalid user|no-such-user-pgprov/);
    expect(await readFile(path, 'utf8')).toBe('old content\n');
    expect(await leftovers()).toEqual([]);
  });

  it('cleans up when it is killed halfway (connection dropped, timeout)', async () => {
    const path = join(dir, 'config');
    await writeFile(path, 'old content\n');
    const child = spawn('/bin/sh', [
      '-c',
      putCommand({ path, mode: '0644', owner, group }, 300_000).script(),
    ]);
    child.stdin.write(putInput(randomBytes(300_000)).slice(0, 100_000));
    while ((await leftovers()).length === 0) await new Promise((r) => setTimeout(r, 10));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // What sshd does when the channel goes: signal the session, then close its stdin.
    child.kill('SIGTERM');
    child.stdin.end();
    expect(await exited).not.toBe(0);
    expect(await readFile(path, 'utf8')).toBe('old content\n');
    expect(await leftovers()).toEqual([]);
  });

  it('fails with a message when the directory does not exist', () => {
    const path = join(dir, 'missing', 'config');
    const result = runLocally(
      putCommand({ path, mode: '0644', owner, group }, 1).script(),
      putInput(Buffer.from('x')),
    );
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/mktemp/);
  });

  it('refuses relative paths and symbolic modes before anything is sent', () => {
    expect(() => putCommand({ path: 'etc/x', mode: '0644', owner, group }, 1)).toThrow(/absolute/);
    expect(() => putCommand({ path: '/etc/x', mode: 'u+rw', owner, group }, 1)).toThrow(/octal/);
  });
});

describe('get', () => {
  it('reads bytes back through base64', async () => {
    const path = join(dir, `it's here`);
    const content = randomBytes(70_000);
    await writeFile(path, content);
    const result = runLocally(getCommand(path).script(), '');
    expect(result.status).toBe(0);
    expect(decodeGetOutput(result.stdout)).toEqual(content);
  });
});
