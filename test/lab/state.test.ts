import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labLayout, type LabLayout } from '../../src/lab/layout.js';
import { withLabLock } from '../../src/lab/state.js';

describe('the lab lock', () => {
  let home = '';
  let layout: LabLayout;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'pgprov-lab-lock-'));
    layout = labLayout(join(home, 'lab'));
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('runs lab commands one at a time: the second waits, is told why, then runs', async () => {
    const order: string[] = [];
    const told: string[] = [];
    let release = (): void => undefined;
    const first = withLabLock(layout, async () => {
      order.push('first starts');
      await new Promise<void>((resolve) => (release = resolve));
      order.push('first ends');
    });
    await new Promise((r) => setTimeout(r, 50));
    const second = withLabLock(layout, async () => void order.push('second'), {
      onWait: (m) => told.push(m),
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(order).toEqual(['first starts']);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first starts', 'first ends', 'second']);
    expect(told).toEqual([
      expect.stringMatching(/^waiting for another pgprov lab command to finish \(pid \d+ on /),
    ]);
  });

  it('takes over a lock whose process has ended, and gives up on a live one after the wait, naming it', async () => {
    const dead = spawnSync('true').pid;
    await mkdir(layout.home, { recursive: true });
    await writeFile(
      layout.lock,
      JSON.stringify({ pid: dead, host: hostname(), since: new Date().toISOString() }),
    );
    expect(await withLabLock(layout, async () => 'ran')).toBe('ran');

    await writeFile(
      layout.lock,
      JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }),
    );
    const refused = withLabLock(layout, async () => 'ran', { waitMs: 300 });
    await expect(refused).rejects.toThrow(`pid ${process.pid}`);
    await expect(refused).rejects.toMatchObject({
      hint: expect.stringContaining('another pgprov lab command'),
    });
    expect(JSON.parse(await readFile(layout.lock, 'utf8'))).toMatchObject({ pid: process.pid });
  });
});
