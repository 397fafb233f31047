import { defineConfig } from 'vitest/config';

// Two projects: `unit` is pure (no SSH, no lab) and fast; `e2e` drives real hosts in the nspawn lab and
// runs its files one after another because they share the lab.
export default defineConfig({
  test: {
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
