// ComputePool: the piscina pool that runs src/worker/task.ts. Threads are kept warm (the first
// period after an idle spell must not pay a thread start), the queue is bounded (a stalled pool
// refuses with E_POOL_BUSY instead of growing), and every run can be cancelled (E_ABORTED).

import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { DEFAULT_PAYTABLE } from '../core/types.js';
import { ErrorCode, FivedError } from '../errors.js';
import type { ComputeResult, ComputeTask, TaskReply, WorkerData } from './types.js';

export interface ComputePoolOptions {
  threads?: number; // default 1
  maxQueue?: number; // tasks waiting for a thread; default 64
  idleTimeout?: number; // ms an idle thread above `threads` is kept; default 10 min
  /** the compiled task module; default <package root>/dist/worker/task.js */
  filename?: string;
  /** nice increment of each worker thread (Linux; 0 = as the main thread); default 0 */
  nice?: number;
}

/**
 * Always the compiled module: workers cannot load .ts. This file is at src/worker/pool.ts (tests,
 * tsx) or dist/worker/pool.js (built), both two levels below the package root.
 */
export function defaultWorkerFile(): string {
  return fileURLToPath(new URL('../../dist/worker/task.js', import.meta.url));
}

function isTaskError(r: TaskReply): r is Extract<TaskReply, { error: unknown }> {
  return typeof r === 'object' && r !== null && 'error' in r;
}

/** A buffer we may transfer must own its whole ArrayBuffer (never a slice of Node's Buffer pool). */
function transferable(records: Uint8Array): Uint8Array {
  const owns = records.byteOffset === 0 && records.byteLength === records.buffer.byteLength && records.buffer instanceof ArrayBuffer;
  return owns ? records : records.slice();
}

export class ComputePool {
  private readonly piscina: Piscina<ComputeTask, TaskReply>;
  private readonly capacity: number;
  private readonly threadCount: number;
  private inFlight = 0;
  private closed = false;

  constructor(opts: ComputePoolOptions = {}) {
    const threads = opts.threads ?? 1;
    const maxQueue = opts.maxQueue ?? 64;
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new FivedError(ErrorCode.BAD_REQUEST, `pool threads=${threads} must be 1..64`);
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new FivedError(ErrorCode.BAD_REQUEST, `pool maxQueue=${maxQueue} must be a non-negative integer`);
    // Our own bound: piscina keeps tasks that carry an AbortSignal outside its maxQueue count.
    this.capacity = threads + maxQueue;
    this.threadCount = threads;
    this.piscina = new Piscina<ComputeTask, TaskReply>({
      filename: opts.filename ?? defaultWorkerFile(),
      minThreads: threads,
      maxThreads: threads,
      maxQueue: maxQueue + threads, // backstop only; the bound above decides
      idleTimeout: opts.idleTimeout ?? 10 * 60_000,
      // The task module is compiled JS: run it on plain node, without the parent's loader flags
      // (tsx/vitest hooks would re-transform dist/ and made the hot loop ~3x slower).
      execArgv: [],
      workerData: { nice: opts.nice ?? 0 } satisfies WorkerData,
    });
  }

  /** Tasks waiting for a thread. */
  get queueSize(): number {
    return this.piscina.queueSize;
  }

  /** Tasks submitted and not yet finished (running + waiting). */
  get pending(): number {
    return this.inFlight;
  }

  get threads(): number {
    return this.piscina.threads.length;
  }

  /**
   * Runs one period's computation. A 'buffer' source's records are transferred: the caller's
   * Uint8Array is detached afterwards (copied first when it shares its ArrayBuffer).
   */
  async run(task: ComputeTask, opts: { signal?: AbortSignal } = {}): Promise<ComputeResult> {
    if (this.closed) throw new FivedError(ErrorCode.ABORTED, 'the compute pool is closed');
    if (opts.signal?.aborted) throw new FivedError(ErrorCode.ABORTED, 'compute aborted before it started');
    if (this.inFlight >= this.capacity) {
      throw new FivedError(ErrorCode.POOL_BUSY, `compute pool is busy (${this.inFlight} tasks running or waiting)`);
    }
    let sent = task;
    const transferList: ArrayBuffer[] = [];
    if (task?.source?.type === 'buffer') {
      if (!(task.source.records instanceof Uint8Array)) throw new FivedError(ErrorCode.INVALID_BETS, 'source.records must be a Uint8Array');
      const records = transferable(task.source.records);
      transferList.push(records.buffer as ArrayBuffer);
      sent = { ...task, source: { ...task.source, records } };
    }
    let reply: TaskReply;
    this.inFlight++;
    try {
      reply = await this.piscina.run(sent, { transferList, signal: opts.signal ?? null });
    } catch (err) {
      throw mapPoolError(err);
    } finally {
      this.inFlight--;
    }
    if (isTaskError(reply)) throw new FivedError(reply.error.code, reply.error.message, reply.error.details);
    return reply;
  }

  /** Starts the threads and loads the task module (a period with no bets), so the first real run is warm. */
  async warm(): Promise<void> {
    const runs = [];
    for (let i = 0; i < this.threadCount; i++) {
      runs.push(
        this.run({
          seed: '0'.repeat(64),
          duration: 60,
          timeline: 'default',
          periodId: '20000101000000001',
          paytable: DEFAULT_PAYTABLE,
          source: { type: 'buffer', records: new Uint8Array(0), users: [] },
        }),
      );
    }
    await Promise.all(runs);
  }

  /** Waits for running tasks, then stops the threads. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.piscina.close();
  }
}

function mapPoolError(err: unknown): FivedError {
  if (err instanceof FivedError) return err;
  const e = err as { name?: string; message?: string };
  if (e?.name === 'AbortError') return new FivedError(ErrorCode.ABORTED, `compute aborted: ${e.message ?? ''}`.trim());
  if (/queue is at limit|No task queue available/i.test(e?.message ?? '')) {
    return new FivedError(ErrorCode.POOL_BUSY, 'compute queue is full');
  }
  return new FivedError(ErrorCode.INTERNAL, `compute worker failed: ${e?.message ?? String(err)}`);
}
