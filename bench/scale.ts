// npm run bench:scale — how far one gateway goes (issue 18): one gateway process (plus Redis and
// the scheduler) and the bare floor server (bench/peers/floor), each with 25,000, 50,000 and
// 100,000 light clients connected straight to it (no HAProxy), spread over several loopback source
// addresses (127.0.<step>.2, …: a fresh block per step, a few thousand connections on each) and over
// several client processes, all subscribed to one room. A fresh stack per step. Per step and stack:
// connections per second, server RSS per connection, result p99 after the end (at the clients),
// worst tick lateness at the server (its own figure), failures (connects that failed, results
// missing, sockets closed). The clients decode result frames only (light-client.ts resultsOnly).
//
// usage: tsx bench/scale.ts [--steps 25000,50000,100000] [--stacks gateway,floor] [--periods 2]
//        [--duration 10]   (env FIVED_BENCH_SCALE_STEPS, FIVED_BENCH_SCALE_STACKS the same)
// Fails before starting anything when the fd limits cannot hold the largest step.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nextPeriod, periodAt } from '../src/core/clock.js';
import { DEFAULT_DAY_START, type PeriodWindow } from '../src/core/types.js';
import { ClientPool } from './lib/client-pool.js';
import { rssKb, runMain, stopAllOnExit } from '../test/support/procs.js';
import { startStack, type Stack } from './lib/stacks.js';
import { r2, summarize, type Pcts } from './lib/stats.js';
import { lineChart, type Series } from './lib/svg.js';

type ScaleStack = 'gateway' | 'floor';
const argv = process.argv.slice(2);
const arg = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : def;
};
const STEPS = arg('steps', process.env.FIVED_BENCH_SCALE_STEPS ?? '25000,50000,100000').split(',').map(Number);
const STACKS = arg('stacks', process.env.FIVED_BENCH_SCALE_STACKS ?? 'gateway,floor').split(',') as ScaleStack[];
const P = Number(arg('periods', '2'));
const D = Number(arg('duration', '10'));
const FREEZE_MS = 3000;
// Connections per loopback source address. A client socket bound to an address gets its port at
// bind(), before the destination is known, so a port is unique per address across every server
// and every TIME_WAIT left by the previous step: the port search slows long before the ~28,000
// ports run out. So: few connections per address, and a fresh block of addresses for every step.
const PER_SOURCE = 5_000;
const PER_CLIENT_PROC = 6_000; // sockets per client process (under its fd limit; parallel handshakes)
let sourceBlock = 0;
const SPEC = { duration: D, freezeMs: FREEZE_MS, dayStart: DEFAULT_DAY_START };
const ROOM = `fiveD_${D}`;

const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(here, 'results');
const t0 = Date.now();
const log = (s: string) => console.log(`[scale +${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${s}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sleepUntil = (epochMs: number) => sleep(Math.max(0, epochMs - Date.now()));
const loadavg = () => os.loadavg().map((x) => r2(x));

function fdLimit(): { soft: number; hard: number } {
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  const n = (s: string | undefined) => (s === undefined || s === 'unlimited' ? Infinity : Number(s));
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

/** The limits every step needs, checked before anything starts: a clear message, not a half run. */
export function preflight(steps: number[]): string[] {
  const max = Math.max(...steps);
  const problems: string[] = [];
  const { hard } = fdLimit();
  // the server holds one fd per client (+ its own: listen sockets, Redis, logs)
  if (hard < max + 1000) {
    problems.push(`the hard fd limit (ulimit -Hn) is ${hard}: one server process holding ${max} sockets needs at least ${max + 1000}. ` +
      `Raise it (as root: ulimit -Hn ${max * 2} in this shell, LimitNOFILE= in systemd, or /etc/security/limits.conf) or run smaller --steps (at most ${Math.max(0, hard - 1000)} here).`);
  }
  const fileMax = Number(readFileSync('/proc/sys/fs/file-max', 'utf8').trim());
  if (fileMax < 2 * max + 10_000) problems.push(`fs.file-max is ${fileMax}: server and clients together need ~${2 * max + 10_000} (sysctl -w fs.file-max=${4 * max}).`);
  const nrOpen = Number(readFileSync('/proc/sys/fs/nr_open', 'utf8').trim());
  if (nrOpen < max + 1000) problems.push(`fs.nr_open is ${nrOpen}: no process may hold ${max + 1000} fds (sysctl -w fs.nr_open=${max * 2}).`);
  const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  if (hi! - lo! < 2 * PER_SOURCE) problems.push(`the ephemeral port range ${lo}-${hi} is under ${PER_SOURCE + 1000} ports per source address.`);
  return problems;
}

interface StepResult {
  stack: ScaleStack;
  clients: number;
  connected: number;
  failures: number;
  connectFailed: number;
  resultsMissing: number;
  closed: number;
  connPerS: number;
  rssBeforeKb: number;
  rssAfterKb: number;
  kbPerConn: number;
  result: Pcts;
  tickLateMaxMs: number | null;
  tickLateMaxConnectingMs: number | null;
  sources: number;
  clientProcs: number;
  loadavg: number[];
}

async function runStep(name: ScaleStack, clients: number): Promise<StepResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `fived-scale-${name}-`));
  const tag = `[${name} ${clients}]`;
  const stack: Stack = await startStack({
    name, dir, instances: 1, duration: D, freezeMs: FREEZE_MS, haproxyProcesses: 0, haproxyMaxconn: 0, format: 'binary', haproxy: false,
    log: (s) => log(`${tag} ${s}`),
  });
  const sources = Math.max(2, Math.ceil(clients / PER_SOURCE));
  const procs = Math.max(4, Math.ceil(clients / PER_CLIENT_PROC));
  const block = ++sourceBlock; // 127.0.<block>.2, …: never the addresses of an earlier step
  let pool: ClientPool | null = null;
  try {
    await sleep(2000);
    stack.startObserving();
    const connectFrom = Date.now();
    const rssBefore = (await rssKb(stack.serverPids[0]!)) ?? 0;
    let shown = 0;
    pool = new ClientPool({
      host: '127.0.0.1', port: stack.lbPort, clients, workers: procs, dialect: 'fived', format: 'binary', rooms: [ROOM],
      sourceAddresses: Array.from({ length: sources }, (_, i) => `127.0.${block}.${i + 2}`), inFlight: 128, resultsOnly: true,
      onProgress: (ready, failed) => {
        if (Date.now() - shown > 2000) { shown = Date.now(); log(`${tag} connecting ${ready}/${clients}${failed ? ` (${failed} failed)` : ''}`); }
      },
    });
    const conn = await pool.connect();
    log(`${tag} ${conn.ready} ready in ${Math.round(conn.ms)} ms (${Math.round(conn.perSecond)}/s) over ${sources} source address(es), ${procs} client processes${conn.failed ? `; ${conn.failed} failed: ${conn.failures.join('; ')}` : ''}`);
    await sleep(2000);
    const rssAfter = (await rssKb(stack.serverPids[0]!)) ?? 0;
    const measured = measuredPeriods(Date.now() + 500);
    const measureFrom = measured[0]!.startsAt;
    for (const w of measured) {
      await sleepUntil(w.endsAt + 1500);
      log(`${tag} period ${w.periodId.slice(-4)} ended`);
    }
    const samples = await pool.collect();
    const ticks = await stack.serverTicks();
    const results: number[] = [];
    let got = 0;
    for (const w of measured) for (const s of samples) { const a = s.results[w.periodId] ?? []; got += a.length; results.push(...a); }
    const missing = Math.max(0, conn.ready * measured.length - got);
    const closed = samples.reduce((n, s) => n + Object.values(s.closes).reduce((a, b) => a + b, 0), 0);
    const maxLate = (from: number, to: number) => {
      const xs = ticks.filter((t) => t.boundary >= from && t.boundary <= to).map((t) => t.lateMs);
      return xs.length ? r2(Math.max(...xs)) : null;
    };
    return {
      stack: name, clients, connected: conn.ready, failures: conn.failed + missing + closed, connectFailed: conn.failed, resultsMissing: missing, closed,
      connPerS: Math.round(conn.perSecond), rssBeforeKb: rssBefore, rssAfterKb: rssAfter, kbPerConn: conn.ready ? r2((rssAfter - rssBefore) / conn.ready) : NaN,
      result: summarize(results), tickLateMaxMs: maxLate(measureFrom, measured[measured.length - 1]!.endsAt),
      tickLateMaxConnectingMs: maxLate(connectFrom, measureFrom), sources, clientProcs: procs, loadavg: loadavg(),
    };
  } finally {
    await pool?.close();
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** P whole periods starting after `from`. */
function measuredPeriods(from: number): PeriodWindow[] {
  const out = [nextPeriod(periodAt(from, SPEC), SPEC)];
  while (out.length < P) out.push(nextPeriod(out[out.length - 1]!, SPEC));
  return out;
}

function plot(steps: StepResult[]): void {
  const colors: Record<ScaleStack, string> = { gateway: '#1f6feb', floor: '#2da44e' };
  const series: Series[] = [];
  for (const s of STACKS) {
    const mine = steps.filter((x) => x.stack === s);
    series.push({ name: `${s}: result p99 (ms)`, color: colors[s], points: mine.map((x) => [x.clients, Math.max(0.1, x.result.p99)]) });
    series.push({ name: `${s}: worst tick lateness (ms)`, color: colors[s], dash: true, points: mine.map((x) => [x.clients, Math.max(0.1, x.tickLateMaxMs ?? 0.1)]) });
    series.push({ name: `${s}: KiB per connection`, color: s === 'gateway' ? '#8250df' : '#bf8700', points: mine.map((x) => [x.clients, Math.max(0.1, x.kbPerConn)]) });
  }
  writeFileSync(path.join(resultsDir, 'scale.svg'), lineChart({
    title: `One process, N clients in one room: gateway beside the bare floor (load ${loadavg().join(' ')})`,
    xLabel: 'connected clients', yLabel: 'ms / KiB (log)', series, yLog: true, width: 900,
  }));
}

function resultLine(steps: StepResult[]): Record<string, number | null> {
  const at = (stack: ScaleStack, n: number) => steps.find((x) => x.stack === stack && x.clients === n);
  const top = Math.max(...STEPS);
  const g = at('gateway', top);
  const f = at('floor', top);
  const ok = steps.filter((x) => x.stack === 'gateway' && x.failures === 0).map((x) => x.connected);
  const sfx = top === 100_000 ? '100k' : `${Math.round(top / 1000)}k`;
  return {
    clients_max: ok.length ? Math.max(...ok) : 0,
    [`failures_${sfx}`]: g ? g.failures + (g.clients - g.connected - g.connectFailed) : null,
    [`kb_per_conn_${sfx}`]: g?.kbPerConn ?? null,
    [`result_p99_ms_${sfx}`]: g?.result.p99 ?? null,
    [`floor_result_p99_ms_${sfx}`]: f?.result.p99 ?? null,
    [`tick_late_max_ms_${sfx}`]: g?.tickLateMaxMs ?? null,
    [`floor_tick_late_max_ms_${sfx}`]: f?.tickLateMaxMs ?? null,
  };
}

async function main(): Promise<void> {
  stopAllOnExit('bench');
  const problems = preflight(STEPS);
  if (problems.length > 0) {
    console.error(`bench:scale cannot run steps ${STEPS.join(',')} on this machine:\n - ${problems.join('\n - ')}`);
    process.exit(2);
  }
  mkdirSync(resultsDir, { recursive: true });
  const loadStart = loadavg();
  log(`steps ${STEPS.join(', ')}; stacks ${STACKS.join(', ')}; ${P} periods of ${D} s per step; fd limit ${JSON.stringify(fdLimit())}; load ${loadStart.join(' ')}`);
  const steps: StepResult[] = [];
  for (const n of STEPS) {
    for (const s of STACKS) {
      const r = await runStep(s, n);
      steps.push(r);
      log(`[${s} ${n}] ${r.connected} connected (${r.connPerS}/s), ${r.kbPerConn} KiB/conn, result p99 ${r.result.p99} ms (n=${r.result.n}), tick late max ${r.tickLateMaxMs} ms (while connecting ${r.tickLateMaxConnectingMs}), failures ${r.failures}; load ${r.loadavg.join(' ')}`);
    }
  }
  plot(steps);
  const result = resultLine(steps);
  const out = {
    ...result,
    steps,
    plot: 'bench/results/scale.svg',
    config: { steps: STEPS, stacks: STACKS, periods: P, duration_s: D, per_source: PER_SOURCE, per_client_process: PER_CLIENT_PROC },
    machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, fd_limit: fdLimit(), loadavg_start: loadStart, loadavg_end: loadavg() },
    minutes: r2((Date.now() - t0) / 60_000),
    at: new Date().toISOString(),
  };
  writeFileSync(path.join(resultsDir, 'scale.json'), JSON.stringify(out, null, 2) + '\n');
  log('wrote bench/results/scale.json and bench/results/scale.svg');
  console.log(`RESULT ${JSON.stringify(result)}`);
}

runMain(main);
