// The piscina task module: computes one period (draw + settlement + exposure) off the main
// thread. Used by the scheduler and by every gateway's fallback, always from the compiled
// dist/worker/task.js (see pool.ts).
//
// Two sources of bets:
//  - 'buffer': the caller transferred the compact records; payouts are transferred back.
//  - 'redis':  the worker snapshots the bets on its own store connection, computes, saves the
//              settlement plan itself (with the scheduler's fence) and returns only the summary,
//              so no multi-megabyte reply is ever parsed on a main thread (docs/design.md rule 3).

import { readlinkSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { computePeriod } from '../core/compute.js';
import { ErrorCode, FivedError, toFivedError } from '../errors.js';
import type { Store, StoreOptions } from '../store/types.js';
import type { ComputeResult, ComputeTask, RedisSource, TaskReply, WorkerData } from './types.js';

/**
 * Lowers this thread's priority (Linux: a thread is a task with its own nice value, set through
 * its thread id). On a busy host a 1,000,000-bet settlement then takes the CPU only when the
 * process's event loop does not need it, so ticks stay on time (docs/design.md rule 3). Best effort:
 * elsewhere, or without /proc, the thread keeps the process's priority.
 */
export function lowerThreadPriority(nice: number): number | null {
  if (!(nice > 0) || process.platform !== 'linux') return null;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return null;
    os.setPriority(tid, Math.min(19, os.getPriority(tid) + nice));
    return os.getPriority(tid);
  } catch {
    return null;
  }
}

lowerThreadPriority((workerData as Partial<WorkerData> | null)?.nice ?? 0);

/**
 * Open stores of this thread, by their options. A worker thread lives as long as the pool keeps
 * it warm, so each thread opens its store connection once and reuses it for every period.
 */
const stores = new Map<string, Promise<Store>>();

function storeFor(options: StoreOptions): Promise<Store> {
  const key = JSON.stringify(options);
  let p = stores.get(key);
  if (p === undefined) {
    p = (async () => {
      if (!options.redisUrl && !(options.sentinels && options.sentinels.length > 0)) {
        throw new FivedError(ErrorCode.BAD_REQUEST, "the 'redis' source needs Redis options (an in-memory store cannot be shared with a worker thread)");
      }
      const { createStore } = await import('../store/index.js');
      const store = createStore(options);
      await store.init();
      return store;
    })();
    stores.set(key, p);
    // a failed open is not cached: the next period tries again
    p.catch(() => stores.delete(key));
  }
  return p;
}

function validateTask(task: ComputeTask): void {
  if (typeof task !== 'object' || task === null || typeof task.source !== 'object' || task.source === null) {
    throw new FivedError(ErrorCode.BAD_REQUEST, 'a compute task needs seed, duration, timeline, periodId, paytable and source');
  }
  if (task.source.type !== 'buffer' && task.source.type !== 'redis') {
    throw new FivedError(ErrorCode.BAD_REQUEST, `unknown bet source ${JSON.stringify((task.source as { type?: unknown }).type)}`);
  }
}

async function computeFromRedis(task: ComputeTask, source: RedisSource): Promise<ComputeResult> {
  const w = source.window;
  if (typeof w !== 'object' || w === null || ![w.startsAt, w.freezeAt, w.endsAt].every(Number.isFinite)) {
    throw new FivedError(ErrorCode.BAD_REQUEST, "the 'redis' source needs the period window (startsAt, freezeAt, endsAt)");
  }
  const ref = { duration: task.duration, timeline: task.timeline, periodId: task.periodId };
  const store = await storeFor(source.store);
  const t0 = performance.now();
  const snapshot = await store.snapshot(ref);
  const t1 = performance.now();
  const c = computePeriod(task.seed, ref, snapshot, task.paytable);
  const t2 = performance.now();
  await store.saveSettlement(
    {
      period: { ...ref, startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt },
      betCount: c.settlement.betCount,
      payouts: c.settlement.payouts,
      users: snapshot.users,
      userPayouts: c.settlement.userPayouts,
      totalPayout: c.settlement.totalPayout,
    },
    source.fence,
  );
  const t3 = performance.now();
  return {
    ...summaryOf(c),
    computeMs: t2 - t1,
    snapshotMs: t1 - t0,
    saveMs: t3 - t2,
  };
}

/** The part of a result both sources return: the draw, exposure and settlement totals. */
function summaryOf(c: ReturnType<typeof computePeriod>) {
  const st = c.settlement;
  return {
    digits: c.draw.digits, sum: c.draw.sum, exposure: c.exposure,
    betCount: st.betCount, winnerCount: st.winnerCount, totalStake: st.totalStake, totalPayout: st.totalPayout,
  };
}

/** Computes a period; throws FivedError on bad input. In-process callers (tests) use this. */
export async function computeTask(task: ComputeTask): Promise<ComputeResult> {
  validateTask(task);
  const source = task.source;
  if (source.type === 'redis') return computeFromRedis(task, source);
  const ref = { duration: task.duration, timeline: task.timeline, periodId: task.periodId };
  const t0 = performance.now();
  const c = computePeriod(task.seed, ref, { records: source.records, users: source.users }, task.paytable);
  const computeMs = performance.now() - t0;
  return {
    ...summaryOf(c),
    computeMs,
    payouts: c.settlement.payouts,
    userPayouts: c.settlement.userPayouts,
  };
}

/**
 * The piscina entry: errors travel back as data (a thrown FivedError would lose its code in the
 * structured clone), payout buffers are transferred, not copied.
 */
export default async function run(task: ComputeTask): Promise<TaskReply> {
  let result: ComputeResult;
  try {
    result = await computeTask(task);
  } catch (err) {
    return { error: toFivedError(err).toJSON() };
  }
  const transfer: ArrayBuffer[] = [];
  if (result.payouts) transfer.push(result.payouts.buffer as ArrayBuffer);
  if (result.userPayouts) transfer.push(result.userPayouts.buffer as ArrayBuffer);
  if (transfer.length === 0) return result;
  const movable = { [Piscina.transferableSymbol]: transfer, [Piscina.valueSymbol]: result };
  return Piscina.move(movable as unknown as Parameters<typeof Piscina.move>[0]) as unknown as TaskReply;
}
