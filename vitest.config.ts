import { basename } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The e2e files share one lab, so their order is part of the suite: the files that start from bare hosts come
 * first, then those that build on the deployed stack (each still makes sure of what it needs, so any file runs
 * alone too). Without this, vitest orders files by size or past durations, which differ between machines.
 */
const E2E_ORDER = [
  'lab',
  'etcd',
  'faults',
  'stack',
  'operate',
  'scale',
  'rollout',
  'failover',
  'partition',
  'safety',
  'vagrantfile',
  // Replaces the Debian 12 lab with Debian 13 hosts: last.
  'trixie',
];

class LabOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification): number => {
      const i = E2E_ORDER.indexOf(basename(f.moduleId, '.test.ts'));
      return i < 0 ? E2E_ORDER.length : i;
    };
    return [...files].sort((a, b) => rank(a) - rank(b) || a.moduleId.localeCompare(b.moduleId));
  }
}

// Two projects: `unit` is pure (no SSH, no lab) and fast; `e2e` drives real hosts in the nspawn lab and
// runs its files one after another because they share the lab.
export default defineConfig({
  test: {
    sequence: { sequencer: LabOrder },
    projects: [
      { test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/e2e/**'] } },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
