// Prometheus metrics: one Registry per process, passed to every component (no module-level
// singletons). In `fived all` the gateway and the scheduler register on the same registry, so a
// metric both might define is fetched if already there instead of registered twice.

import { readdirSync, statSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Registry } from 'prom-client';

export function createRegistry(opts: { defaultMetrics?: boolean; prefix?: string } = {}): Registry {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry, ...(opts.prefix ? { prefix: opts.prefix } : {}) });
    openFdsWithoutListing(registry, opts.prefix ?? '');
  }
  return registry;
}

/**
 * process_open_fds without listing /proc/self/fd on every scrape (issue 18): prom-client's
 * collector runs readdirSync there — 24 ms of blocked event loop and one string per fd at 18,000
 * sockets, 100+ ms at 100,000, a long turn a tick can queue behind. Since Linux 6.2 the size of
 * /proc/self/fd is the count of open fds (one stat); older kernels list it at most every 30 s.
 */
function openFdsWithoutListing(registry: Registry, prefix: string): void {
  const name = `${prefix}process_open_fds`;
  if (process.platform !== 'linux' || !registry.getSingleMetric(name)) return;
  registry.removeSingleMetric(name);
  let listed = { at: -Infinity, count: 0 };
  new Gauge({
    name,
    help: 'Number of open file descriptors.',
    registers: [registry],
    collect() {
      try {
        const size = statSync('/proc/self/fd').size;
        if (size > 0) return this.set(size);
        const now = performance.now();
        if (now - listed.at > 30_000) listed = { at: now, count: readdirSync('/proc/self/fd').length - 1 };
        this.set(listed.count);
      } catch {
        /* not readable here: leave the last value */
      }
    },
  });
}

export function counter<L extends string = string>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter<L>({ name, help, labelNames: [...labelNames], registers: [registry] });
}

export function gauge<L extends string = string>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge<L>;
  return new Gauge<L>({ name, help, labelNames: [...labelNames], registers: [registry] });
}

export function histogram<L extends string = string>(
  registry: Registry,
  name: string,
  help: string,
  buckets: readonly number[],
  labelNames: readonly L[] = [],
): Histogram<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Histogram<L>;
  return new Histogram<L>({ name, help, buckets: [...buckets], labelNames: [...labelNames], registers: [registry] });
}

/** Buckets in seconds for compute and delivery times: 1 ms … 10 s. */
export const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** The text exposition and its content type, for any HTTP server. */
export async function renderMetrics(registry: Registry): Promise<{ body: string; contentType: string }> {
  return { body: await registry.metrics(), contentType: registry.contentType };
}

/** fived_build_info{version} 1: which release answers (issue 13). Once per registry. */
export function buildInfo(registry: Registry, version: string): void {
  gauge<'version'>(registry, 'fived_build_info', 'Always 1; the label names the release (package.json version) this process runs', ['version']).set({ version }, 1);
}
