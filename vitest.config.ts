import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { basename } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { rankOf } from './test/support/order.js';

class LabOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification): number => rankOf(basename(f.moduleId, '.test.ts'));
    const names = files.map((f) => basename(f.moduleId, '.test.ts'));
    if (names.includes('trixie') && names.length > 1) buildAhead('trixie');
    return [...files].sort((a, b) => rank(a) - rank(b) || a.moduleId.localeCompare(b.moduleId));
  }
}

/**
 * trixie.test.ts boots Debian 13 hosts; on a machine without that image, building it (debootstrap, minutes) while
 * the unit files and lab.test.ts run takes it off the suite's length. `pgprov lab image` takes the image's build lock, so
 * the file's own `lab up` waits for this build instead of starting another. Its output: LAB_HOME/images/.
 */
const buildingAhead = new Set<string>();
function buildAhead(suite: string): void {
  if (buildingAhead.has(suite)) return;
  buildingAhead.add(suite);
  const images = '/var/lib/pgprov/lab/images';
  if (process.getuid?.() !== 0 || (process.env.PGPROV_LAB_SUITE ?? 'bookworm') === suite) return;
  if (existsSync(`${images}/${suite}/.pgprov-image.json`) || !existsSync('dist/cli/main.js')) return;
  mkdirSync(images, { recursive: true });
  const log = openSync(`${images}/.${suite}.build-ahead.log`, 'w');
  const child = spawn(process.execPath, ['bin/pgprov.js', 'lab', 'image', '--suite', suite], {
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  // Ends with the suite: a build cut short leaves only its building folder, which the next build discards.
  process.once('exit', () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
}

// Two projects, one after the other: `unit` is pure (no SSH, no lab) and fast; `e2e` drives real hosts in the
// nspawn lab, in two lanes side by side (test/support/order.ts): each file takes its lane in the setup file.
export default defineConfig({
  test: {
    sequence: { sequencer: LabOrder },
    projects: [
      { test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/e2e/**'] } },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          setupFiles: ['test/support/lanes.ts'],
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          testTimeout: 600_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
