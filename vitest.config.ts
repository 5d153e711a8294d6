import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { withSbin } from './scripts/prereqs.mjs';
import { INTEGRATION, LONGEST, SYSTEM } from './test/lanes.js';

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

// Longest first: a lane's wall time is its longest worker's, so the files that wait longest start
// first and the short ones fill in beside them. Vitest orders by the last run's durations when it
// has them and by file size otherwise (a fresh clone, CI), which put 60-line gateway-load.test.ts
// (a minute) last; test/lanes.ts LONGEST names them instead.
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const rank = (s: TestSpecification) => {
      const i = LONGEST.indexOf(path.relative(s.project.config.root, s.moduleId).split(path.sep).join('/'));
      return i < 0 ? LONGEST.length : i;
    };
    // stable: the lanes' order (groupOrder, then project) stays; within a lane LONGEST first
    const lane = (s: TestSpecification) => base.findIndex((b) => b.project === s.project);
    return [...base].sort((a, b) => lane(a) - lane(b) || rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    sequence: { sequencer: LongestFirst },
    reporters: ['default'],
    projects: [
      // in-process and CPU-bound: one file per core
      lane('unit', 0, 2, ['test/**/*.test.ts'], [...INTEGRATION, ...SYSTEM]),
      // each file on its own Redis and ports. Three at a time on two cores: a file mostly waits for
      // real periods (client-gateway.test.ts: 8 s of CPU, its processes' included, in 80 s;
      // scheduler-skew.test.ts 14 s in 76 s), so a third file fills the wait; the CPU-bound timed
      // test (gateway-load.test.ts, ticks during a 1,000,000-bet settlement) runs alone in system
      lane('integration', 1, 3, INTEGRATION),
      lane('system', 2, 1, SYSTEM),
    ],
  },
});
