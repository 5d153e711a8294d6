// npm run bench:fanout — result fan-out and tick steadiness, side by side: the fived gateways, the
// Socket.IO peer (bench/peers/socketio), the floor (bench/peers/floor) and `compat` (Socket.IO
// clients of the replaced system's protocol on fived's own gateways, docs/socketio.md), each behind the same
// HAProxy configuration with K light clients (bench/lib) spread over forked client processes.
//
// Per stack and run: start it; RSS of its servers; open K clients (connections/s); RSS again
// (kb_per_conn); P measured periods (result latency = receipt − period end, tick lateness =
// receipt − second boundary, at every client); then one fallback period: the scheduler stopped and
// FIVED_BENCH_FALLBACK_BETS bets bulk-loaded, so the stack computes the result and settlement
// itself (ticks during it, at the servers and the clients); then a short tail.
//
// Two steps per stack and run (issue 18): FIVED_BENCH_SMALL_CLIENTS (2,000: clients not saturated,
// measured periods only, no fallback period) and FIVED_BENCH_CLIENTS (10,000, with the fallback).
// Each server reports when the last result frame of a period left for the kernel on every socket
// (result_sent_ms: the gateway's fived_gateway_result_sent_seconds, the floor's and the peer's
// /stats sentMs), so the servers are compared without the clients' own reading in the figure.
//
// env: FIVED_BENCH_QUICK=1 (or --quick): 500 (and 200) clients, 2 periods, 10 s rooms, 100,000 bets, 1 run
//      FIVED_BENCH_CLIENTS (10000), FIVED_BENCH_SMALL_CLIENTS (2000; 0 skips the step), FIVED_BENCH_PERIODS (3), FIVED_BENCH_DURATION (20 s),
//      FIVED_BENCH_RUNS (3), FIVED_BENCH_FALLBACK_BETS (1000000), FIVED_BENCH_STACKS
//      (floor,gateway,peer,compat; each run rotates the order by one), FIVED_BENCH_INSTANCES (2), FIVED_BENCH_CLIENT_PROCS (4),
//      FIVED_BENCH_FORMAT (binary | text), FIVED_BENCH_KEEP=1 keeps the logs dir,
//      FIVED_BENCH_NODE_ARGS extra node flags for the gateways (e.g. "--trace-gc"),
//      FIVED_BENCH_PROBE=0 skips the publish probe (bench/lib/publish-probe.ts).

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nextPeriod, periodAt } from '../src/core/clock.js';
import { DEFAULT_DAY_START, type PeriodWindow } from '../src/core/types.js';
import { ClientPool } from './lib/client-pool.js';
import { maxconnFor } from '../test/support/haproxy.js';
import { cpuMsOf, rssKb, runMain, stopAllOnExit } from '../test/support/procs.js';
import { startStack, type ServerResult, type ServerSent, type ServerTick, type Stack, type StackName } from './lib/stacks.js';
import { cdf, medianOf, pct, r2, summarize, type Pcts } from './lib/stats.js';
import { probePublish, type ProbeResult } from './lib/publish-probe.js';
import { lineChart, type Series } from './lib/svg.js';
import type { WorkerSamples } from './lib/client-worker.js';

const env = process.env;
const quick = env.FIVED_BENCH_QUICK === '1' || process.argv.includes('--quick');
const int = (name: string, def: number) => (env[name] ? Number(env[name]) : def);
const K = int('FIVED_BENCH_CLIENTS', quick ? 500 : 10_000);
const SMALL = int('FIVED_BENCH_SMALL_CLIENTS', quick ? 200 : 2000);
/** the steps: [clients, with a fallback period] — the small one first */
const STEPS: Array<[number, boolean]> = [...(SMALL > 0 && SMALL < K ? [[SMALL, false] as [number, boolean]] : []), [K, true]];
const P = int('FIVED_BENCH_PERIODS', quick ? 2 : 3);
const D = int('FIVED_BENCH_DURATION', quick ? 10 : 20);
const FREEZE_MS = int('FIVED_BENCH_FREEZE_MS', 3000);
const RUNS = int('FIVED_BENCH_RUNS', quick ? 1 : 3);
const FALLBACK_BETS = int('FIVED_BENCH_FALLBACK_BETS', quick ? 100_000 : 1_000_000);
const INSTANCES = int('FIVED_BENCH_INSTANCES', 2);
const CLIENT_PROCS = int('FIVED_BENCH_CLIENT_PROCS', quick ? 2 : 4);
const FORMAT = (env.FIVED_BENCH_FORMAT ?? 'binary') as 'binary' | 'text';
const STACKS = (env.FIVED_BENCH_STACKS ?? 'floor,gateway,peer,compat').split(',').map((s) => s.trim()) as StackName[];
const TAIL_MS = Math.min(D * 1000, 10_000);
const SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
const ROOM = `fiveD_${D}`;
const SPEC = { duration: D, freezeMs: FREEZE_MS, dayStart: DEFAULT_DAY_START };

const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(here, 'results');
const t0 = Date.now();
const loadAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
const log = (s: string) => console.log(`[fanout +${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${s}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sleepUntil = (epochMs: number) => sleep(Math.max(0, epochMs - Date.now()));

function fdLimits(): { soft: number; hard: number } {
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  const n = (s: string | undefined) => (s === undefined || s === 'unlimited' ? 1_048_576 : Number(s));
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

interface StackRun {
  stack: StackName;
  run: number;
  clients: number;
  connected: number;
  connectFailed: number;
  connPerS: number;
  kbPerConn: number;
  result: Pcts;
  resultMissing: number;
  resultFallback: Pcts;
  tickClient: Pcts;
  tickClientDuringFallback: Pcts;
  tickServerMax: number | null;
  tickServerMaxDuringFallback: number | null;
  publishMs: number | null;
  publishSubscribers: number | null;
  publishNote: string;
  fallbackLoadMs: number | null;
  fallbackLoadInTime: boolean | null;
  clientCores: number;
  serverCores: number;
  haproxyCores: number;
  closes: Record<string, number>;
  /** end → last result frame handed to the kernel on every socket, worst server, median of the periods */
  resultSentMs: number | null;
  resultSentPeriods: number[];
  // for the plots
  resultCdf: Array<[number, number]>;
  tickSeries: { client: Array<[number, number]>; clientMax: Array<[number, number]>; server: Array<[number, number]> };
  window: { from: number; fallbackFrom: number; fallbackTo: number; to: number };
}

async function runStack(name: StackName, run: number, K: number, withFallback: boolean): Promise<StackRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `fived-bench-${name}-`));
  const { hard } = fdLimits();
  const maxconn = maxconnFor(hard);
  const haproxyProcesses = Math.max(1, Math.ceil((K * 1.05) / maxconn));
  const tag = `[${name} ${K} ${run}/${RUNS}]`;
  const stack: Stack = await startStack({
    name, dir, instances: INSTANCES, duration: D, freezeMs: FREEZE_MS, haproxyProcesses, haproxyMaxconn: maxconn, format: FORMAT,
    log: (s) => log(`${tag} ${s}`),
  });
  let pool: ClientPool | null = null;
  try {
    await sleep(1500);
    const rssBefore = (await Promise.all(stack.serverPids.map(rssKb))).reduce<number>((a, b) => a + (b ?? 0), 0);
    let lastShown = 0;
    pool = new ClientPool({
      host: '127.0.0.1', port: stack.lbPort, clients: K, workers: Math.min(CLIENT_PROCS, K), dialect: stack.dialect, format: FORMAT, rooms: [ROOM],
      ...(stack.token ? { token: stack.token } : {}),
      sourceAddresses: SOURCES, inFlight: 64,
      onProgress: (ready, failed) => {
        if (Date.now() - lastShown > 1000 || ready + failed === K) {
          lastShown = Date.now();
          log(`${tag} connecting ${ready}/${K}${failed ? ` (${failed} failed)` : ''}`);
        }
      },
    });
    const conn = await pool.connect();
    log(`${tag} ${conn.ready} clients ready in ${Math.round(conn.ms)} ms (${Math.round(conn.perSecond)}/s)${conn.failed ? `, ${conn.failed} failed: ${conn.failures.join('; ')}` : ''}`);
    await sleep(1500);
    const rssAfter = (await Promise.all(stack.serverPids.map(rssKb))).reduce<number>((a, b) => a + (b ?? 0), 0);
    const kbPerConn = conn.ready > 0 ? (rssAfter - rssBefore) / conn.ready : NaN;

    // the measured periods: P whole periods, then the fallback period, then a tail
    const first = nextPeriod(periodAt(Date.now() + 500, SPEC), SPEC);
    const measured: PeriodWindow[] = [first];
    while (measured.length < P) measured.push(nextPeriod(measured[measured.length - 1]!, SPEC));
    const fb = nextPeriod(measured[measured.length - 1]!, SPEC);
    const end = withFallback ? fb.endsAt + TAIL_MS : measured[measured.length - 1]!.endsAt + 3000;
    log(`${tag} measuring periods ${measured.map((w) => w.periodId.slice(-4)).join(',')}${withFallback ? ` + fallback ${fb.periodId.slice(-4)} (${FALLBACK_BETS} bets)` : ''}; done in ~${Math.round((end - Date.now()) / 1000)} s`);
    stack.startObserving();
    const cpuBefore = await Promise.all(stack.serverPids.map(cpuMsOf));
    const lbCpuBefore = await Promise.all(stack.haproxyPids.map(cpuMsOf));
    const wallBefore = Date.now();

    for (const w of measured) {
      await sleepUntil(w.endsAt + 300);
      log(`${tag} period ${w.periodId.slice(-4)} ended`);
    }
    const fbLoad = withFallback ? await fallbackPeriod(stack, name, fb, tag) : { loadMs: null, inTime: null };
    await sleepUntil(end + 700);
    const wall = Date.now() - wallBefore;
    const cpuAfter = await Promise.all(stack.serverPids.map(cpuMsOf));
    const serverCores = cpuAfter.reduce<number>((s, c, i) => s + ((c ?? 0) - (cpuBefore[i] ?? 0)), 0) / wall;
    const lbCpuAfter = await Promise.all(stack.haproxyPids.map(cpuMsOf));
    const haproxyCores = lbCpuAfter.reduce<number>((s, c, i) => s + ((c ?? 0) - (lbCpuBefore[i] ?? 0)), 0) / wall;

    const samples = await pool.collect();
    const serverTicks = await stack.serverTicks();
    const serverResults = await stack.serverResults();
    const serverSent = await stack.serverSent();
    return analyse({
      name, run, clients: K, withFallback, serverSent, conn, kbPerConn, measured, fb, end, samples, serverTicks, serverResults, fallbackLoadMs: fbLoad.loadMs, fallbackLoadInTime: fbLoad.inTime, serverCores, haproxyCores,
    });
  } finally {
    await pool?.close();
    await stack.stop();
    if (env.FIVED_BENCH_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
    else log(`${tag} logs kept in ${dir}`);
  }
}

/** The fallback period: the scheduler is gone and the period holds FALLBACK_BETS bets. */
async function fallbackPeriod(stack: Stack, name: StackName, fb: PeriodWindow, tag: string): Promise<{ loadMs: number | null; inTime: boolean | null }> {
  await stack.stopScheduler();
  log(`${tag} scheduler stopped; loading ${FALLBACK_BETS} bets into ${fb.periodId.slice(-4)}`);
  let fallbackLoadMs: number | null = null;
  let fallbackLoadInTime: boolean | null = null;
  if (name !== 'floor') {
    try {
      fallbackLoadMs = await stack.loadBets(fb, FALLBACK_BETS);
      fallbackLoadInTime = Date.now() < fb.freezeAt;
      log(`${tag} loaded ${FALLBACK_BETS} bets in ${fallbackLoadMs} ms${fallbackLoadInTime ? '' : ' — AFTER the freeze: the fallback period has fewer bets than asked'}`);
    } catch (err) {
      log(`${tag} loading bets failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  await sleepUntil(fb.endsAt + 300);
  log(`${tag} fallback period ${fb.periodId.slice(-4)} ended; tail ${TAIL_MS / 1000} s`);
  return { loadMs: fallbackLoadMs, inTime: fallbackLoadInTime };
}

function analyse(a: {
  name: StackName; run: number; clients: number; withFallback: boolean; serverSent: ServerSent[]; conn: Awaited<ReturnType<ClientPool['connect']>>; kbPerConn: number; measured: PeriodWindow[]; fb: PeriodWindow; end: number;
  samples: WorkerSamples[]; serverTicks: ServerTick[]; serverResults: ServerResult[]; fallbackLoadMs: number | null; fallbackLoadInTime: boolean | null; serverCores: number; haproxyCores: number;
}): StackRun {
  const from = a.measured[0]!.startsAt;
  const fbFrom = a.fb.freezeAt;
  const fbTo = a.fb.endsAt + TAIL_MS;
  const results: number[] = [];
  let missing = 0;
  for (const w of a.measured) {
    let got = 0;
    for (const s of a.samples) {
      const arr = s.results[w.periodId] ?? [];
      got += arr.length;
      for (const x of arr) results.push(x);
    }
    missing += Math.max(0, a.conn.ready - got);
  }
  const fallbackResults = a.samples.flatMap((s) => s.results[a.fb.periodId] ?? []);
  const ticks: number[] = [];
  const ticksFb: number[] = [];
  const perBoundary = new Map<number, number[]>();
  for (const s of a.samples) {
    for (const [k, arr] of Object.entries(s.ticks)) {
      const b = Number(k);
      if (b < from || b > a.end) continue;
      let pb = perBoundary.get(b);
      if (!pb) perBoundary.set(b, (pb = []));
      for (const x of arr) {
        ticks.push(x);
        pb.push(x);
        if (b >= fbFrom && b <= fbTo) ticksFb.push(x);
      }
    }
  }
  const st = a.serverTicks.filter((t) => t.boundary >= from && t.boundary <= a.end);
  const stFb = st.filter((t) => t.boundary >= fbFrom && t.boundary <= fbTo);
  const maxOf = (xs: number[]) => (xs.length ? Math.max(...xs) : null);
  // result publication during the measured (non-fallback) periods
  const ids = new Set(a.measured.map((w) => w.periodId));
  const normalEnd = a.measured[a.measured.length - 1]!.endsAt;
  const pubs = a.serverResults.filter((r) => (r.periodId ? ids.has(r.periodId) : (r.at ?? 0) > from && (r.at ?? 0) <= normalEnd + 1000));
  const sentPeriods = sentByPeriod(a.serverSent, a.measured, normalEnd);
  const pubMs = pubs.map((r) => r.publishMs).filter(Number.isFinite).sort((x, y) => x - y);
  const subs = pubs.map((r) => r.subscribers).filter((x): x is number => typeof x === 'number');
  const closes: Record<string, number> = {};
  for (const s of a.samples) for (const [k, v] of Object.entries(s.closes)) closes[k] = (closes[k] ?? 0) + v;
  const clientCpu = a.samples.reduce((s, x) => s + x.cpuMs, 0);
  const clientWall = Math.max(...a.samples.map((x) => x.wallMs));
  const bounds = [...perBoundary.keys()].sort((x, y) => x - y);
  const rel = (b: number) => (b - from) / 1000;
  const serverByBoundary = new Map<number, number>();
  for (const t of st) serverByBoundary.set(t.boundary, Math.max(serverByBoundary.get(t.boundary) ?? 0, t.lateMs));
  return {
    stack: a.name,
    run: a.run,
    clients: a.clients,
    connected: a.conn.ready,
    connectFailed: a.conn.failed,
    connPerS: Math.round(a.conn.perSecond),
    kbPerConn: r2(a.kbPerConn),
    result: summarize(results),
    resultMissing: missing,
    resultFallback: summarize(fallbackResults),
    tickClient: summarize(ticks),
    tickClientDuringFallback: summarize(ticksFb),
    tickServerMax: maxOf(st.map((t) => r2(t.lateMs))),
    tickServerMaxDuringFallback: maxOf(stFb.map((t) => r2(t.lateMs))),
    publishMs: pubMs.length ? r2(pct(pubMs, 50)) : null,
    publishSubscribers: subs.length ? Math.round(subs.reduce((x, y) => x + y, 0) / subs.length) : null,
    publishNote: pubs[0]?.note ?? 'n/a',
    fallbackLoadMs: a.fallbackLoadMs,
    fallbackLoadInTime: a.fallbackLoadInTime,
    clientCores: r2(clientCpu / clientWall),
    serverCores: r2(a.serverCores),
    haproxyCores: r2(a.haproxyCores),
    closes,
    resultSentMs: sentPeriods.length ? medianOf(sentPeriods).median : null,
    resultSentPeriods: sentPeriods,
    resultCdf: cdf(results),
    tickSeries: {
      client: bounds.map((b) => [rel(b), r2(pct(Float64Array.from(perBoundary.get(b)!).sort(), 99))]),
      clientMax: bounds.map((b) => [rel(b), r2(Math.max(...perBoundary.get(b)!))]),
      server: [...serverByBoundary].sort((x, y) => x[0] - y[0]).map(([b, v]) => [rel(b), r2(v)]),
    },
    window: { from, fallbackFrom: rel(fbFrom), fallbackTo: rel(fbTo), to: rel(a.end) },
  };
}

/**
 * Per measured period, the worst server's end → sent time. The floor and the peer name the period;
 * the gateway's histogram is attributed to the scrape after it (one result per period and room).
 */
function sentByPeriod(sent: ServerSent[], measured: PeriodWindow[], normalEnd: number): number[] {
  const out: number[] = [];
  for (const w of measured) {
    const next = w.endsAt + D * 1000;
    const mine = sent.filter((x) => (x.periodId ? x.periodId === w.periodId : (x.at ?? 0) >= w.endsAt && (x.at ?? 0) < Math.min(next, normalEnd + 5000)));
    if (mine.length) out.push(r2(Math.max(...mine.map((x) => x.sentMs))));
  }
  return out;
}

const PREFIX: Record<StackName, string> = { gateway: '', peer: 'peer_', floor: 'floor_', compat: 'compat_' };
const COLORS: Record<StackName, string> = { gateway: '#1f6feb', peer: '#d1242f', floor: '#2da44e', compat: '#8250df' };

function resultFields(runs: StackRun[]): Record<string, number | null> {
  const out: Record<string, number | null> = { clients: K };
  for (const stack of STACKS) {
    const rs = runs.filter((r) => r.stack === stack);
    if (rs.length === 0) continue;
    const p = PREFIX[stack];
    const m = (f: (r: StackRun) => number | null) => medianOf(rs.map(f)).median;
    out[`${p}result_p50_ms`] = m((r) => r.result.p50);
    out[`${p}result_p99_ms`] = m((r) => r.result.p99);
    out[`${p}tick_late_max_ms`] = m((r) => r.tickServerMax);
    out[`${p}tick_late_max_during_fallback_ms`] = m((r) => r.tickServerMaxDuringFallback);
    out[`${p}tick_client_p99_ms`] = m((r) => r.tickClient.p99);
    out[`${p}publish_5k_ms`] = m((r) => r.publishMs);
    out[`${p}kb_per_conn`] = m((r) => r.kbPerConn);
    out[`${p}conn_per_s`] = m((r) => r.connPerS);
    out[`${p}result_sent_ms`] = m((r) => r.resultSentMs);
  }
  return out;
}

/** The small step's fields (issue 18): result p99 and end → sent, per stack, medians of the runs. */
function smallStepFields(runs: StackRun[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const stack of STACKS) {
    const rs = runs.filter((r) => r.stack === stack);
    if (rs.length === 0) continue;
    out[`${PREFIX[stack]}result_p99_ms_2k`] = medianOf(rs.map((r) => r.result.p99)).median;
    out[`${PREFIX[stack]}result_sent_ms_2k`] = medianOf(rs.map((r) => r.resultSentMs)).median;
  }
  return out;
}

type Ratios = Record<string, number | null>;
const ratio = (a: number | null | undefined, b: number | null | undefined) => (a != null && b != null && b > 0 ? r2(a / b) : null);

/** Each run's ratios (issue 18 targets) and their medians, with whether the medians meet them. */
function peerRatios(runs: StackRun[]): { runs: Ratios[]; median: Ratios; targets_met: Record<string, boolean | null> } {
  const perRun: Ratios[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const at = (stack: StackName, clients: number) => runs.find((r) => r.run === run && r.stack === stack && r.clients === clients);
    perRun.push({
      run,
      peer_over_gateway_result_p99_2k: ratio(at('peer', SMALL)?.result.p99, at('gateway', SMALL)?.result.p99),
      gateway_over_floor_result_p99_2k: ratio(at('gateway', SMALL)?.result.p99, at('floor', SMALL)?.result.p99),
      gateway_over_floor_result_sent: ratio(at('gateway', K)?.resultSentMs, at('floor', K)?.resultSentMs),
      peer_over_gateway_result_sent: ratio(at('peer', K)?.resultSentMs, at('gateway', K)?.resultSentMs),
    });
  }
  const keys = Object.keys(perRun[0] ?? {}).filter((k) => k !== 'run');
  const median: Ratios = Object.fromEntries(keys.map((k) => [k, medianOf(perRun.map((r) => r[k])).median]));
  const meets = (k: string, ok: (x: number) => boolean) => (median[k] == null ? null : ok(median[k]!));
  return {
    runs: perRun,
    median,
    targets_met: {
      'peer_result_p99_ms_2k >= 3 x result_p99_ms_2k': meets('peer_over_gateway_result_p99_2k', (x) => x >= 3),
      'result_p99_ms_2k <= 1.5 x floor': meets('gateway_over_floor_result_p99_2k', (x) => x <= 1.5),
      'result_sent_ms <= 1.5 x floor': meets('gateway_over_floor_result_sent', (x) => x <= 1.5),
      'result_sent_ms <= peer / 10': meets('peer_over_gateway_result_sent', (x) => x >= 10),
    },
  };
}

function perStack(runs: StackRun[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const stack of STACKS) {
    const rs = runs.filter((r) => r.stack === stack);
    if (rs.length === 0) continue;
    const pcts = (f: (r: StackRun) => Pcts) => Object.fromEntries((['p50', 'p90', 'p99', 'max'] as const).map((k) => [k, medianOf(rs.map((r) => f(r)[k]))]));
    const mm = (f: (r: StackRun) => number | null) => medianOf(rs.map(f));
    out[stack] = {
      result_ms: pcts((r) => r.result),
      result_fallback_ms: pcts((r) => r.resultFallback),
      tick_client_ms: pcts((r) => r.tickClient),
      tick_client_during_fallback_ms: pcts((r) => r.tickClientDuringFallback),
      tick_server_max_ms: mm((r) => r.tickServerMax),
      tick_server_max_during_fallback_ms: mm((r) => r.tickServerMaxDuringFallback),
      publish_ms: mm((r) => r.publishMs),
      result_sent_ms: mm((r) => r.resultSentMs),
      result_sent_periods_ms: rs.map((r) => r.resultSentPeriods),
      publish_subscribers: mm((r) => r.publishSubscribers),
      publish_measured_as: rs[0]!.publishNote,
      kb_per_conn: mm((r) => r.kbPerConn),
      conn_per_s: mm((r) => r.connPerS),
      client_cores: mm((r) => r.clientCores),
      server_cores: mm((r) => r.serverCores),
      haproxy_cores: mm((r) => r.haproxyCores),
      fallback_load_ms: mm((r) => r.fallbackLoadMs),
      fallback_loaded_before_freeze: rs.map((r) => r.fallbackLoadInTime),
      results_missing: rs.map((r) => r.resultMissing),
      connect_failed: rs.map((r) => r.connectFailed),
      closes: rs.map((r) => r.closes),
    };
  }
  return out;
}

function plots(runs: StackRun[]): string[] {
  const lastRun = Math.max(...runs.map((r) => r.run));
  const last = runs.filter((r) => r.run === lastRun);
  const files: string[] = [];
  const cdfSeries: Series[] = last.map((r) => ({ name: `${r.stack} (p99 ${r.result.p99} ms)`, color: COLORS[r.stack], points: r.resultCdf.map(([x, y]) => [Math.max(x, 0.1), y]) }));
  writeFileSync(path.join(resultsDir, 'fanout-latency-cdf.svg'), lineChart({
    title: `Result latency CDF, ${K} clients through HAProxy (run ${lastRun})`, xLabel: 'receipt − period end (ms, log)', yLabel: 'fraction of clients',
    series: cdfSeries, xLog: true, yMin: 0, yMax: 1,
  }));
  files.push('fanout-latency-cdf.svg');
  const w = last[0]?.window;
  const tickSeries: Series[] = [];
  for (const r of last) {
    tickSeries.push({ name: `${r.stack}: server`, color: COLORS[r.stack], points: r.tickSeries.server.map(([x, y]) => [x, Math.max(y, 0.1)]) });
    tickSeries.push({ name: `${r.stack}: clients p99`, color: COLORS[r.stack], dash: true, points: r.tickSeries.client.map(([x, y]) => [x, Math.max(y, 0.1)]) });
  }
  writeFileSync(path.join(resultsDir, 'fanout-ticks.svg'), lineChart({
    title: `Tick lateness per second (run ${lastRun}); shaded: fallback period (${FALLBACK_BETS.toLocaleString('en')} bets, no scheduler)`,
    xLabel: 's since the first measured period', yLabel: 'lateness (ms, log)', series: tickSeries, yLog: true,
    ...(w ? { shade: { from: w.fallbackFrom, to: w.fallbackTo, label: 'fallback' }, xMin: 0, xMax: w.to } : {}),
    width: 960,
  }));
  files.push('fanout-ticks.svg');
  return files;
}

/**
 * The stacks in the order of run `run`: rotated by one each run, so that no stack always runs first
 * on a fresh machine or always after another stack's sockets and processes have just gone (two runs
 * of one pair in the same order disagreed by 2× on this host; see docs/benchmarks.md).
 */
function orderFor(run: number): StackName[] {
  const k = (run - 1) % STACKS.length;
  return [...STACKS.slice(k), ...STACKS.slice(0, k)];
}

async function main(): Promise<void> {
  stopAllOnExit('bench');
  const lim = fdLimits();
  log(`${quick ? 'QUICK mode: ' : ''}steps ${STEPS.map(([c]) => c).join(' and ')} clients, ${INSTANCES} instances per stack, ${P} periods of ${D} s + 1 fallback period, ${RUNS} run(s), stacks ${STACKS.join(',')}, ${CLIENT_PROCS} client processes, fd limit ${lim.soft}/${lim.hard}, ${os.cpus().length} cores`);
  mkdirSync(resultsDir, { recursive: true });
  let runs: StackRun[] = [];
  for (let run = 1; run <= RUNS; run++) {
    for (const [clients, withFallback] of STEPS) {
      for (const stack of orderFor(run)) {
      const r = await runStack(stack, run, clients, withFallback);
      runs.push(r);
      log(`[${stack} ${clients} ${run}/${RUNS}] end→sent ${r.resultSentMs} ms (${r.resultSentPeriods.join(', ')}); result p50 ${r.result.p50} p99 ${r.result.p99} max ${r.result.max} ms; tick server max ${r.tickServerMax} (fallback ${r.tickServerMaxDuringFallback}) ms; tick client p99 ${r.tickClient.p99} ms; publish ${r.publishMs} ms to ~${r.publishSubscribers}; ${r.kbPerConn} KiB/conn; ${r.connPerS} conn/s`);
      }
    }
  }
  // timer fired → publish returned, with the gateway's publishing code on a bare uWS app
  let probe: ProbeResult | null = null;
  if (STACKS.includes('gateway') && env.FIVED_BENCH_PROBE !== '0') {
    probe = await probePublish({ clients: Math.min(5000, K), rounds: quick ? 5 : 20, workers: Math.min(CLIENT_PROCS, K), log });
    log(`publish probe: ${probe.subscribers} subscribers, timer fired → publish returned p50 ${probe.p50} ms (laggard scan ${probe.scanP50}, broadcast ${probe.broadcastP50}), max ${probe.max} ms over ${probe.rounds} rounds`);
  }
  const all = runs;
  const small = all.filter((r) => r.clients === SMALL && SMALL !== K);
  runs = all.filter((r) => r.clients === K);
  const result = { ...resultFields(runs), ...(small.length ? smallStepFields(small) : {}) } as Record<string, number | null>;
  const ratios = small.length ? peerRatios(all) : null;
  // issue 15's targets: the compatibility layer at most half the peer's result p99 and memory per connection
  const ratio = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? Math.round((a / b) * 1000) / 1000 : null);
  if (STACKS.includes('compat') && STACKS.includes('peer')) {
    result.compat_result_p99_vs_peer = ratio(result.compat_result_p99_ms, result.peer_result_p99_ms);
    result.compat_kb_per_conn_vs_peer = ratio(result.compat_kb_per_conn, result.peer_kb_per_conn);
  }
  if (probe) {
    // the exact definition from the probe; the gateway's metric (end → publish returned, so also
    // the timer's lateness and any skew delay) beside it
    result.publish_5k_metric_ms = result.publish_5k_ms ?? null;
    result.publish_5k_ms = probe.p50;
  }
  const ranges: Record<string, unknown> = Object.fromEntries(Object.keys(result).filter((k) => k !== 'clients' && !k.startsWith('publish_5k_metric')).map((k) => {
    const stack = (Object.entries(PREFIX).find(([, p]) => p !== '' && k.startsWith(p))?.[0] ?? 'gateway') as StackName;
    const field = k.slice(PREFIX[stack].length);
    const pick = (r: StackRun): number | null => ({
      result_p50_ms: r.result.p50, result_p99_ms: r.result.p99, tick_late_max_ms: r.tickServerMax, tick_late_max_during_fallback_ms: r.tickServerMaxDuringFallback,
      tick_client_p99_ms: r.tickClient.p99, publish_5k_ms: r.publishMs, kb_per_conn: r.kbPerConn, conn_per_s: r.connPerS, result_sent_ms: r.resultSentMs,
    } as Record<string, number | null>)[field] ?? null;
    if (field.endsWith('_2k')) return [k, medianOf(small.filter((r) => r.stack === stack).map((r) => (field.startsWith('result_sent') ? r.resultSentMs : r.result.p99)))];
    return [k, medianOf(runs.filter((r) => r.stack === stack).map(pick))];
  }));
  if (probe) {
    // publish_5k_ms is the probe's median of its rounds; the per-run figures are the gateway metric's
    ranges.publish_5k_metric_ms = ranges.publish_5k_ms;
    ranges.publish_5k_ms = { median: probe.p50, min: Math.min(...probe.all), max: probe.max, runs: probe.rounds };
  }
  const files = plots(runs);
  const out = {
    ...result,
    ranges,
    stacks: perStack(runs),
    stacks_2k: small.length ? perStack(small) : null,
    peer_ratio_runs: ratios?.runs ?? [],
    peer_ratio_median: ratios?.median ?? null,
    targets_met: ratios?.targets_met ?? null,
    plots: files.map((f) => `bench/results/${f}`),
    publish_probe: probe,
    config: { quick, clients: K, small_clients: SMALL, periods: P, duration_s: D, freeze_ms: FREEZE_MS, runs: RUNS, fallback_bets: FALLBACK_BETS, instances: INSTANCES, client_processes: CLIENT_PROCS, format: FORMAT, stacks: STACKS },
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadavg_start: loadAtStart, loadavg_end: os.loadavg().map((x) => Math.round(x * 100) / 100), kernel: os.release() },
    runs: all.map(({ resultCdf: _c, tickSeries: _t, ...r }) => r),
    at: new Date().toISOString(),
  };
  writeFileSync(path.join(resultsDir, 'fanout.json'), JSON.stringify(out, null, 2) + '\n');
  log(`wrote bench/results/fanout.json and ${files.map((f) => `bench/results/${f}`).join(', ')}`);
  if (ratios) log(`ratios per run: ${JSON.stringify(ratios.runs)}; medians ${JSON.stringify(ratios.median)}; targets ${JSON.stringify(ratios.targets_met)}`);
  console.log(`RESULT ${JSON.stringify(result)}`);
}

runMain(main);
