import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPromotions, recordPromotion } from '../../src/standby/promotion.js';

describe("promote's record in the primary's state folder", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('is read back by the primary, one file per promoted standby, and none before', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgprov-promotion-'));
    dirs.push(dir);
    expect(await readPromotions(dir)).toEqual([]);
    const promotion = {
      cluster: 'dr/2',
      inventory: '/x/dr.yaml',
      at: '2026-11-25T11:00:00Z',
      vip: '10.9.0.9',
    };
    const file = await recordPromotion(dir, promotion);
    expect(file).toBe(join(dir, 'promoted-standbys', 'dr_2.json'));
    expect((await stat(file)).mode & 0o777).toBe(0o644);
    expect(await readPromotions(dir)).toEqual([{ ...promotion, file }]);
  });
});
