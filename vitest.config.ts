import { defineConfig } from 'vitest/config';
import { withSbin } from './scripts/prereqs.mjs';

// Debian installs haproxy in /usr/sbin, which a normal user's PATH lacks: the tests (and the
// scripts they run) find it there too, as scripts/prereqs.mjs (npm pretest) does.
process.env.PATH = withSbin(process.env.PATH);

// Test files that start processes (redis-server, gateways, HAProxy, Chromium) must not run
// side by side on a 2-core machine: files run one at a time, tests inside a file in order.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
