// Spreads K light clients over W forked processes (so the clients are not one event loop's
// bottleneck), reports progress, and gathers every client's samples at the end.

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { adoptProcess, type Proc } from '../../test/support/procs.js';
import type { FromWorker, WorkerConfig, WorkerSamples } from './client-worker.js';
import type { Dialect, WireFormat } from './light-client.js';

export interface PoolOptions {
  host: string;
  port: number;
  clients: number;
  workers: number;
  dialect: Dialect;
  format: WireFormat;
  rooms: string[];
  /** compat: the players' token */
  token?: string;
  sourceAddresses: string[];
  inFlight?: number;
  resultsOnly?: boolean;
  onProgress?: (ready: number, failed: number) => void;
}

export interface ConnectStats {
  ready: number;
  failed: number;
  /** first connect started → last client ready */
  ms: number;
  perSecond: number;
  failures: string[];
}

export class ClientPool {
  private procs: Proc[] = [];
  private handlers = new Set<(m: FromWorker) => void>();

  constructor(private readonly o: PoolOptions) {}

  /** Forks the workers and resolves when every client is ready or failed. */
  async connect(): Promise<ConnectStats> {
    const o = this.o;
    const workerPath = fileURLToPath(new URL('./client-worker.ts', import.meta.url));
    const per = Math.floor(o.clients / o.workers);
    const progress = new Map<number, { ready: number; failed: number }>();
    const readies: Array<Extract<FromWorker, { ev: 'ready' }>> = [];
    const allReady = new Promise<void>((resolve, reject) => {
      this.handlers.add((m) => {
        if (m.ev === 'progress' || m.ev === 'ready') {
          progress.set(m.index, { ready: m.ready, failed: m.failed });
          let r = 0;
          let f = 0;
          for (const p of progress.values()) { r += p.ready; f += p.failed; }
          o.onProgress?.(r, f);
        }
        if (m.ev === 'ready') {
          readies.push(m);
          if (readies.length === o.workers) resolve();
        }
      });
      for (let i = 0; i < o.workers; i++) {
        const cfg: WorkerConfig = {
          index: i,
          host: o.host,
          port: o.port,
          count: i === o.workers - 1 ? o.clients - per * (o.workers - 1) : per,
          dialect: o.dialect,
          format: o.format,
          rooms: o.rooms,
          ...(o.token ? { token: o.token } : {}),
          sourceAddresses: o.sourceAddresses,
          inFlight: o.inFlight ?? 64,
          resultsOnly: o.resultsOnly === true,
        };
        const child = fork(workerPath, [JSON.stringify(cfg)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        const t = adoptProcess(`clients-${i}`, child);
        this.procs.push(t);
        child.on('message', (m: FromWorker) => { for (const h of this.handlers) h(m); });
        void t.exited.then((e) => { if (readies.length < o.workers) reject(new Error(`client worker ${i} exited (${e.code ?? e.signal}) before its clients were ready`)); });
      }
    });
    await allReady;
    const first = Math.min(...readies.map((r) => r.firstAt));
    const last = Math.max(...readies.map((r) => r.lastAt));
    const ready = readies.reduce((s, r) => s + r.ready, 0);
    const failed = readies.reduce((s, r) => s + r.failed, 0);
    const ms = last - first;
    return { ready, failed, ms, perSecond: ms > 0 ? (ready * 1000) / ms : ready, failures: readies.flatMap((r) => r.failures).slice(0, 10) };
  }

  /** Every worker's samples. */
  async collect(): Promise<WorkerSamples[]> {
    const got: WorkerSamples[] = [];
    await new Promise<void>((resolve) => {
      this.handlers.add((m) => {
        if (m.ev === 'report') {
          got.push(m.samples);
          if (got.length === this.procs.length) resolve();
        }
      });
      for (const t of this.procs) t.child.send({ cmd: 'report' });
    });
    return got;
  }

  async close(): Promise<void> {
    for (const t of this.procs) if (t.child.connected) t.child.send({ cmd: 'close' });
    await Promise.all(this.procs.map((t) => Promise.race([t.exited, new Promise((r) => setTimeout(r, 5000))])));
    for (const t of this.procs) await t.kill();
    this.procs = [];
  }
}
