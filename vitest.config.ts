import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { withSbin } from './scripts/prereqs.mjs';
import { INTEGRATION, LONGEST, SYSTEM, SYSTEM_ALONE } from './test/lanes.js';

// Debian installs haproxy in /usr/sbin, which a normal user's PATH lacks: the tests (and the
// scripts they run) find it there too, as scripts/prereqs.mjs (npm pretest) does.
process.env.PATH = withSbin(process.env.PATH);

// Three lanes (test/lanes.ts says what goes where) in three groups run one after the other
// (groupOrder): the unit files side by side; then the integration and system files in one pool,
// four at a time (a group shares one maxWorkers); then the system files that must run alone, one at
// a time. Tests inside a file run in order. `npm test` runs them all; `npm run test:unit`,
// `test:integration` and `test:system` (the projects `system` and `system:alone`) one lane.
/** The integration and system files' pool: one group shares one maxWorkers (vitest refuses two). */
const SHARED_WORKERS = 4;

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

// Longest first: a group's wall time is its longest worker's, so the files that wait longest start
// first and the short ones fill in beside them. Vitest orders by the last run's durations when it
// has them and by file size otherwise (a fresh clone, CI), which put 60-line gateway-load.test.ts
// (a minute) last; test/lanes.ts LONGEST names them instead. The sequencer sees one group at a time.
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const rank = (s: TestSpecification) => {
      const i = LONGEST.indexOf(path.relative(s.project.config.root, s.moduleId).split(path.sep).join('/'));
      return i < 0 ? LONGEST.length : i;
    };
    return [...base].sort((a, b) => rank(a) - rank(b)); // stable: the rest keep vitest's order
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
      lane('unit', 0, 2, ['test/**/*.test.ts'], [...INTEGRATION, ...SYSTEM, ...SYSTEM_ALONE]),
      // each file on its own Redis, ports and folders. Four at a time on two cores: a file mostly
      // waits for real periods (client-gateway.test.ts: 8 s of CPU, its processes' included, in
      // 80 s; scheduler-skew.test.ts 14 s in 76 s; the whole of `npm test`, when these files still ran
      // three and one at a time, 424 s of CPU in 650 s), so the others fill the wait
      lane('integration', 1, SHARED_WORKERS, INTEGRATION),
      lane('system', 1, SHARED_WORKERS, SYSTEM),
      // alone: npm pack and the page build rewrite dist/; the CPU-bound timed test
      // (gateway-load.test.ts, ticks during a 1,000,000-bet settlement) needs the cores to itself
      lane('system:alone', 2, 1, SYSTEM_ALONE),
    ],
  },
});
