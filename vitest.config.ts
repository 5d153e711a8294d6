import { defineConfig } from 'vitest/config';
import { withSbin } from './scripts/prereqs.mjs';
import { INTEGRATION, SYSTEM } from './test/lanes.js';

// Debian installs haproxy in /usr/sbin, which a normal user's PATH lacks: the tests (and the
// scripts they run) find it there too, as scripts/prereqs.mjs (npm pretest) does.
process.env.PATH = withSbin(process.env.PATH);

// Three lanes (test/lanes.ts says what goes where), run one after the other (groupOrder):
// unit and integration files side by side, system files one at a time. Tests inside a file run
// in order. `npm test` runs all three; `npm run test:unit|test:integration|test:system` one.
const lane = (name: string, groupOrder: number, maxWorkers: number, include: string[], exclude: string[] = []) => ({
  extends: true as const,
  test: {
    name,
    include,
    exclude,
    maxWorkers,
    fileParallelism: maxWorkers > 1,
    sequence: { groupOrder },
  },
});

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      // in-process and CPU-bound: one file per core
      lane('unit', 0, 2, ['test/**/*.test.ts'], [...INTEGRATION, ...SYSTEM]),
      // each file on its own Redis and ports; one per core: the timed tests (scheduler failover,
      // skew, inspect before a period's end) need a CPU when their moment comes
      lane('integration', 1, 2, INTEGRATION),
      lane('system', 2, 1, SYSTEM),
    ],
  },
});
