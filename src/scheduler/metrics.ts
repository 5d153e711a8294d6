// The scheduler's Prometheus metrics, registered on the registry it is given (in `fived all`
// the gateway's, so they appear on the gateway's /metrics).

import { buildInfo, counter, gauge, histogram, SECONDS_BUCKETS, type Registry } from '../runtime/metrics.js';
import { fivedVersion } from '../version.js';

export type PrecalcOutcome = 'stored' | 'exists' | 'void' | 'stale' | 'error';

export function schedulerMetrics(registry: Registry) {
  buildInfo(registry, fivedVersion());
  return {
    precalc: counter(registry, 'fived_scheduler_precalc_total', 'Pre-calculations at the freeze by outcome (stored, exists: another result was kept, void, stale: fenced off, error)', ['room', 'outcome'] as const),
    computeSeconds: histogram(registry, 'fived_scheduler_compute_seconds', 'Freeze + snapshot + compute + plan saved, per pre-calculation', SECONDS_BUCKETS, ['room'] as const),
    leaseActive: gauge(registry, 'fived_scheduler_lease_active', '1 while this scheduler holds the lease (active), 0 on standby'),
    leaseEpoch: gauge(registry, 'fived_scheduler_lease_epoch', 'Fencing epoch of the lease last held'),
    leaseChanges: counter(registry, 'fived_scheduler_lease_changes_total', 'Lease acquired / lost / released', ['event'] as const),
    settled: counter(registry, 'fived_scheduler_settlements_total', 'Settlements applied by this scheduler at the end', ['room'] as const),
    settledElsewhere: counter(registry, 'fived_scheduler_settled_elsewhere_total', 'Periods this scheduler pre-calculated whose settlement someone else (a gateway) applied first', ['room'] as const),
    commits: counter(registry, 'fived_scheduler_commits_total', 'Commitments created ahead by this scheduler', ['room'] as const),
    resultMismatch: counter(registry, 'fived_scheduler_result_mismatch_total', 'Stored results that did not verify against their commitment (5D_RESULT_MISMATCH): voided with refunds, or alerted when already settled', ['room'] as const),
    clockSkew: gauge(registry, 'fived_scheduler_clock_skew_seconds', 'Local clock minus Redis TIME at the last measurement (beyond FIVED_MAX_CLOCK_SKEW_MS the scheduler is not ready and does not hold the lease)'),
    ready: gauge(registry, 'fived_scheduler_ready', '1 when the scheduler /ready answers 200'),
    errors: counter(registry, 'fived_scheduler_errors_total', 'Unexpected errors caught (by where)', ['where'] as const),
    lateStartMs: histogram(registry, 'fived_scheduler_timer_lateness_seconds', 'Lateness of the freeze and end timers', SECONDS_BUCKETS, ['event'] as const),
  };
}

export type SchedulerMetrics = ReturnType<typeof schedulerMetrics>;
