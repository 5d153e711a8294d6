// npm run bench:http — the read API under load: autocannon against GET /api/rooms/:room/periods/:id
// (a resulted period: Redis read + JSON) and GET /api/rooms, directly on one gateway and on one
// Socket.IO peer instance (its Express-style endpoint), and through HAProxy for information
// (HAProxy then limits both). Each stack runs as in bench:fanout (2 instances, the scheduler,
// Redis, HAProxy), one stack at a time; figures are medians of FIVED_BENCH_RUNS runs.
//
// env: FIVED_BENCH_QUICK=1 (or --quick): 1 run of 3 s per target; FIVED_BENCH_RUNS (3),
//      FIVED_BENCH_HTTP_SECONDS (10), FIVED_BENCH_HTTP_CONNECTIONS (64), FIVED_BENCH_STACKS (gateway,peer)

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { previousPeriod, periodAt } from '../src/core/clock.js';
import { DEFAULT_DAY_START } from '../src/core/types.js';
import { runMain, stopAllOnExit } from '../test/support/procs.js';
import { startStack, type StackName } from './lib/stacks.js';
import { medianOf } from './lib/stats.js';

const env = process.env;
const quick = env.FIVED_BENCH_QUICK === '1' || process.argv.includes('--quick');
const RUNS = Number(env.FIVED_BENCH_RUNS ?? (quick ? 1 : 3));
const SECONDS = Number(env.FIVED_BENCH_HTTP_SECONDS ?? (quick ? 3 : 10));
const CONNECTIONS = Number(env.FIVED_BENCH_HTTP_CONNECTIONS ?? 64);
const STACKS = (env.FIVED_BENCH_STACKS ?? 'gateway,peer').split(',').map((s) => s.trim()).filter((s) => s === 'gateway' || s === 'peer') as StackName[];
const D = 10;
const SPEC = { duration: D, freezeMs: 3000, dayStart: DEFAULT_DAY_START };
const here = path.dirname(fileURLToPath(import.meta.url));
const t0 = Date.now();
const loadAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
const log = (s: string) => console.log(`[http +${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${s}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Shot { reqPerS: number; p99: number; p50: number; errors: number; non2xx: number }

async function cannon(url: string): Promise<Shot> {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, pipelining: 1 });
  return { reqPerS: Math.round(r.requests.average), p99: r.latency.p99, p50: r.latency.p50, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

/** Waits until the period before the current one has a visible result, and returns its id. */
async function resultedPeriod(port: number): Promise<string> {
  for (let i = 0; i < 60; i++) {
    const prev = previousPeriod(periodAt(Date.now(), SPEC), SPEC);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/api/rooms/fiveD_${D}/periods/${prev.periodId}`);
      if (r.ok && ((await r.json()) as { result: unknown }).result) return prev.periodId;
    } catch { /* not yet */ }
    await sleep(500);
  }
  throw new Error('no resulted period appeared within 30 s');
}

type Target = 'period' | 'rooms' | 'lb_period' | 'lb_rooms';

async function runStack(name: StackName, run: number): Promise<Record<Target, Shot>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `fived-http-${name}-`));
  const stack = await startStack({ name, dir, instances: 2, duration: D, freezeMs: SPEC.freezeMs, haproxyProcesses: 1, haproxyMaxconn: 4000, format: 'binary', log: (s) => log(`[${name} ${run}/${RUNS}] ${s}`) });
  try {
    const direct = stack.instancePorts[0]!;
    const periodId = await resultedPeriod(direct);
    const paths = { period: `/api/rooms/fiveD_${D}/periods/${periodId}`, rooms: '/api/rooms' };
    const out = {} as Record<Target, Shot>;
    for (const [target, port, p] of [
      ['period', direct, paths.period], ['rooms', direct, paths.rooms], ['lb_period', stack.lbPort, paths.period], ['lb_rooms', stack.lbPort, paths.rooms],
    ] as Array<[Target, number, string]>) {
      const shot = await cannon(`http://127.0.0.1:${port}${p}`);
      out[target] = shot;
      log(`[${name} ${run}/${RUNS}] ${target.padEnd(9)} ${p}: ${shot.reqPerS} req/s, p50 ${shot.p50} ms, p99 ${shot.p99} ms${shot.errors || shot.non2xx ? `, ${shot.errors} errors, ${shot.non2xx} non-2xx` : ''}`);
    }
    return out;
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  stopAllOnExit('bench');
  log(`${quick ? 'QUICK mode: ' : ''}${RUNS} run(s) × ${SECONDS} s per target, ${CONNECTIONS} connections, stacks ${STACKS.join(',')}, ${os.cpus().length} cores`);
  const all: Record<string, Array<Record<Target, Shot>>> = {};
  for (let run = 1; run <= RUNS; run++) {
    for (const s of STACKS) (all[s] ??= []).push(await runStack(s, run));
  }
  const med = (s: string, t: Target, f: keyof Shot) => medianOf((all[s] ?? []).map((r) => r[t][f]));
  const result: Record<string, number | null> = {
    req_per_s: med('gateway', 'period', 'reqPerS').median,
    p99_ms: med('gateway', 'period', 'p99').median,
    peer_req_per_s: med('peer', 'period', 'reqPerS').median,
    peer_p99_ms: med('peer', 'period', 'p99').median,
    rooms_req_per_s: med('gateway', 'rooms', 'reqPerS').median,
    rooms_p99_ms: med('gateway', 'rooms', 'p99').median,
    peer_rooms_req_per_s: med('peer', 'rooms', 'reqPerS').median,
    peer_rooms_p99_ms: med('peer', 'rooms', 'p99').median,
    lb_req_per_s: med('gateway', 'lb_period', 'reqPerS').median,
    peer_lb_req_per_s: med('peer', 'lb_period', 'reqPerS').median,
  };
  const detail: Record<string, unknown> = {};
  for (const s of Object.keys(all)) {
    detail[s] = Object.fromEntries((['period', 'rooms', 'lb_period', 'lb_rooms'] as Target[]).map((t) => [t, {
      req_per_s: med(s, t, 'reqPerS'), p50_ms: med(s, t, 'p50'), p99_ms: med(s, t, 'p99'),
      errors: (all[s] ?? []).map((r) => r[t].errors + r[t].non2xx),
    }]));
  }
  const out = {
    ...result,
    stacks: detail,
    config: { quick, runs: RUNS, seconds: SECONDS, connections: CONNECTIONS, stacks: STACKS },
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', node: process.version, loadavg_start: loadAtStart, loadavg_end: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    at: new Date().toISOString(),
  };
  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(path.join(here, 'results', 'http.json'), JSON.stringify(out, null, 2) + '\n');
  log('wrote bench/results/http.json');
  console.log(`RESULT ${JSON.stringify(result)}`);
}

runMain(main);
