// The release this code belongs to: `version` of the package.json beside dist/ (or src/). Printed
// by `fived --version`, answered in /health and exported as fived_build_info{version} (issue 13,
// releases and rollback: each release lives in its own directory, so one process never mixes two).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

let cached: string | null = null;

export function fivedVersion(): string {
  if (cached === null) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      cached = typeof pkg.version === 'string' && pkg.version !== '' ? pkg.version : 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}

/** When this process started (epoch ms): /health tells a restarted process from the old one
 *  (scripts/rollout.sh waits for another start time before putting a gateway back). */
export function processStartedAt(): number {
  return Math.round(performance.timeOrigin);
}
