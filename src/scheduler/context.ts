// What the scheduler's parts (period runner, pre-calculation, completion at the end, reconciler)
// share: the store, the lease keeper, the store-aligned clock, the metrics and the current
// activation's abort signal. Wired once by startScheduler (scheduler/index.ts).

import type { Config } from '../config.js';
import type { Clock } from '../runtime/clock.js';
import type { ComputeDeps, TrackingBase } from '../runtime/compute.js';
import type { Logger } from '../runtime/log.js';
import type { ScheduleView } from '../runtime/schedule.js';
import type { Store } from '../store/types.js';
import type { LeaseKeeper } from './lease.js';
import type { SchedulerMetrics } from './metrics.js';

export interface SchedulerContext {
  cfg: Readonly<Config>;
  store: Store;
  log: Logger;
  m: SchedulerMetrics;
  /** never ahead of the store's clock, which decides the freeze and the end (docs/design.md rule 4) */
  clock: Clock;
  keeper: LeaseKeeper;
  computeDeps: ComputeDeps;
  /** the settings schedule in effect: the rooms and each period's rules */
  view(): ScheduleView;
  /** the current activation's signal: aborted when the lease is lost or the scheduler stops */
  signal(): AbortSignal;
  stopping(): boolean;
}

/** Why the scheduler steps down when the store fences it off. */
export const STALE_EPOCH_WHY = 'the store refused our epoch (E_STALE_EPOCH)';

/** Who the scheduler acts as under lease epoch `epoch` (results' tracking, claims). */
export function whoOf(cfg: Pick<Config, 'instance' | 'host'>, epoch: number): TrackingBase & { epoch: number } {
  return { instance: cfg.instance, host: cfg.host, pid: process.pid, source: 'scheduler' as const, epoch };
}
