// Starts `fived scheduler` processes (fived.ts: compiled dist/, built by `npm test`'s pretest),
// parses their JSON log lines, and stops each one by its pid.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../src/config.js';
import type { PeriodWindow } from '../../src/core/types.js';
import { netStake, multiplierOf, patternIndex, patternWins } from '../../src/core/rules.js';
import type { Store, StoreOptions, BetAck } from '../../src/store/types.js';
import type { ComputePool } from '../../src/worker/pool.js';
import { at, everySecond, systemClock, type Cancel } from '../../src/runtime/clock.js';
import { commitAhead } from '../../src/runtime/commit.js';
import { computeInPool, deriveResultAtEnd } from '../../src/runtime/compute.js';
import { applyAtEnd } from '../../src/runtime/settle.js';
import { CHANNELS } from '../../src/runtime/bus.js';
import { nextWindow, windowAt, type Room } from '../../src/runtime/rooms.js';

import { REPO as ROOT, startFived } from './fived.js';
import { TEST_SEED_KEY } from './redis.js';

export interface LogLine {
  level: string;
  msg: string;
  tag?: string;
  room?: string;
  periodId?: string;
  epoch?: number;
  /** when the test process read the line (epoch ms) */
  seenAt: number;
  [k: string]: unknown;
}

export interface SchedulerProc {
  name: string;
  pid: number;
  child: ChildProcess;
  lines: LogLine[];
  /** resolves with the first line (already seen or future) matching pred */
  waitFor(pred: (l: LogLine) => boolean, timeoutMs?: number, what?: string): Promise<LogLine>;
  signal(sig: NodeJS.Signals): void;
  /** SIGKILL and wait for the exit */
  kill(): Promise<void>;
  /** SIGTERM (graceful: releases the lease), SIGKILL after a bound */
  stop(): Promise<void>;
  exited: Promise<number | null>;
  alive(): boolean;
}

export function requireBuild(): void {
  if (!existsSync(path.join(ROOT, 'dist/commands/scheduler.js')) || !existsSync(path.join(ROOT, 'dist/worker/task.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it in pretest)');
  }
}

/** `fived scheduler` (or another long-running fived command, e.g. `archiver`) with JSON logs parsed. */
export function spawnScheduler(name: string, env: Record<string, string>, command = 'scheduler'): SchedulerProc {
  const p = startFived(name, [command], {
    env: { ...process.env, FIVED_INSTANCE: name, FIVED_SCHEDULER_PORT: '0', FIVED_LOG_LEVEL: 'info', FIVED_SEED_KEY: TEST_SEED_KEY, ...env },
  });
  const child = p.child;
  const lines: LogLine[] = [];
  const waiters: Array<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  let buf = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const raw = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let l: LogLine;
      try {
        l = { ...JSON.parse(raw), seenAt: Date.now() };
      } catch {
        continue;
      }
      lines.push(l);
      for (let k = waiters.length - 1; k >= 0; k--) {
        if (waiters[k]!.pred(l)) {
          waiters[k]!.resolve(l);
          waiters.splice(k, 1);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => { stderr += c; });
  const exited = p.exited.then((e) => e.code);
  const alive = () => p.alive();
  const proc: SchedulerProc = {
    name,
    pid: child.pid ?? -1,
    child,
    lines,
    exited,
    alive,
    waitFor(pred, timeoutMs = 15_000, what = 'a log line') {
      const found = lines.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise<LogLine>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${name}: no ${what} within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`)), timeoutMs);
        waiters.push({ pred, resolve: (l) => { clearTimeout(t); resolve(l); } });
        void exited.then((code) => {
          clearTimeout(t);
          reject(new Error(`${name} exited (${code}) while waiting for ${what}; stderr: ${stderr.slice(-2000)}`));
        });
      });
    },
    signal(sig) {
      p.signal(sig);
    },
    async kill() {
      await p.kill();
    },
    async stop() {
      await p.stop(8000);
    },
  };
  return proc;
}

export const isAcquired = (l: LogLine) => l.tag === '5D_LEASE' && /Lease acquired/.test(l.msg);
export const isLost = (l: LogLine) => l.tag === '5D_LEASE' && /Lease lost/.test(l.msg);
export const isStarting = (l: LogLine) => l.tag === '5D_PRECALC_EXEC' && /Starting pre-calculation/.test(l.msg);
export const isStored = (l: LogLine) => l.tag === '5D_PRECALC_EXEC' && /Result stored in Redis/.test(l.msg);
export const isStarted = (l: LogLine) => /scheduler started/.test(l.msg);

// ---- the gateways' part, played by the test process (commit ahead; fallback at the end) ----

export interface GatewaySim {
  /** settled notices: period id → times seen (test clock) */
  settled: Map<string, number[]>;
  /** periods the simulated gateways had to settle themselves */
  fallbackSettled: Set<string>;
  /** periods whose result the simulated gateways had to derive */
  fallbackDerived: Set<string>;
  errors: unknown[];
  stop(): void;
}

/**
 * What every gateway does that matters to the scheduler's tests: commit ahead each second, and at
 * end + grace derive the result if none is stored and settle a period nobody settled (claim NX).
 */
export async function simulateGateways(
  store: Store,
  pool: Pick<ComputePool, 'run'>,
  room: Room,
  cfg: Pick<Config, 'paytable'>,
  storeOptions: StoreOptions,
  graceMs: number,
): Promise<GatewaySim> {
  const clock = systemClock();
  const sim: GatewaySim = { settled: new Map(), fallbackSettled: new Set(), fallbackDerived: new Set(), errors: [], stop: () => undefined };
  await store.subscribe(CHANNELS.settled, (_ch, msg) => {
    const id = (msg as { periodId?: string }).periodId;
    if (typeof id !== 'string') return;
    const list = sim.settled.get(id) ?? [];
    list.push(Date.now());
    sim.settled.set(id, list);
  });
  const cancels: Cancel[] = [];
  let stopped = false;
  const fallback = async (w: PeriodWindow) => {
    const kept = await deriveResultAtEnd(store, w, { instance: 'test-gateway', host: 'test', pid: process.pid, source: 'gateway' }, clock.now());
    if (kept?.stored) sim.fallbackDerived.add(w.periodId);
    if (!kept || (await store.isSettled(w))) return;
    if (!(await store.claimSettlement(w, 'test-gateway', 30_000))) return;
    await computeInPool({ store, pool, cfg, storeOptions }, w);
    const out = await applyAtEnd(store, w, clock.now(), undefined, 'test-gateway');
    if (out.applied) sim.fallbackSettled.add(w.periodId);
  };
  const scheduleEnd = (w: PeriodWindow) => {
    cancels.push(at(clock, w.endsAt + graceMs, () => { if (!stopped) fallback(w).catch((e) => sim.errors.push(e)); }));
    cancels.push(at(clock, w.endsAt, () => { if (!stopped) scheduleEnd(nextWindow(room, w)); }));
  };
  await commitAhead(store, [room], clock);
  cancels.push(everySecond(clock, () => { commitAhead(store, [room], clock).catch((e) => sim.errors.push(e)); }));
  scheduleEnd(windowAt(room, clock.now()));
  sim.stop = () => { stopped = true; for (const c of cancels) c(); };
  return sim;
}

/** What the rules pay for an acknowledged bet given its period's digits. */
export function expectedPayout(ack: Pick<BetAck, 'kind' | 'pick' | 'amount'>, digits: readonly number[], paytable: Config['paytable']): number {
  const p = patternIndex(ack.kind, ack.pick);
  const sum = digits.reduce((a, b) => a + b, 0);
  return patternWins(p, digits, sum) ? netStake(ack.amount, paytable.feeBps) * multiplierOf(p, paytable) : 0;
}
