// `npm run soak`: a long steady run — 5,000 watching clients through HAProxy plus a few dozen
// betting players, for 30 minutes (both configurable) — sampling each minute: the RSS of every
// process, the gateways' event-loop delay (their /metrics histogram) and the result latency the
// clients saw (receipt − period end). Writes bench/results/soak.json and docs/soak.svg, prints a
// table and a last line `RESULT {json}`. Fails (exit 1) on a growth trend: the RSS of a process
// in the last third of the run over its middle third by more than 20 % and 30 MB, or p99 result
// latency / event-loop delay rising likewise; and on any chaos-checker violation at the end.
//
//   FIVED_SOAK_MINUTES=30  FIVED_SOAK_CLIENTS=5000  FIVED_SOAK_PLAYERS=50  FIVED_SOAK_WORKERS=4
//   (or --minutes N --clients N)

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClientPool } from '../bench/lib/client-pool.js';
import { parseHistogram, type Hist } from '../bench/lib/stacks.js';
import { lineChart } from '../bench/lib/svg.js';
import { RedisStore } from '../src/store/redis.js';
import { check, INVARIANTS, waitSettled } from './lib/chaos/checker.js';
import { ChaosCluster, REPO } from '../test/support/cluster.js';
import { Fleet } from './lib/chaos/fleet.js';
import { httpRequest, rssOf, runMain, sleep, stopAll, stopAllOnExit } from '../test/support/procs.js';

function opt(name: string, env: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i >= 0 ? process.argv[i + 1] : process.env[env];
  const v = raw === undefined || raw === '' ? def : Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number, got ${raw}`);
  return v;
}

/** mean and the p99 upper bound (ms) between two scrapes */
function histDelta(a: Hist | null, b: Hist | null): { mean: number; p99: number } | null {
  if (!a || !b || b.count <= a.count) return null;
  const n = b.count - a.count;
  const want = n * 0.99;
  let p99 = Infinity;
  for (let i = 0; i < b.buckets.length; i++) {
    const d = b.buckets[i]![1] - (a.buckets[i]?.[1] ?? 0);
    if (d >= want) { p99 = b.buckets[i]![0] * 1000; break; }
  }
  return { mean: ((b.sum - a.sum) / n) * 1000, p99 };
}
const pct = (xs: number[], p: number) => { if (xs.length === 0) return NaN; const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]!; };
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const SOAK_OPERATOR = 'soak-operator-token-0123456789abcdef'; // >= 32 characters (config)

interface Minute { minute: number; rss: Record<string, number>; loopMean: number; loopP99: number; resultP50: number; resultP99: number; results: number }

async function main(): Promise<number> {
  stopAllOnExit('soak');
  const minutes = opt('minutes', 'FIVED_SOAK_MINUTES', 30);
  const clients = opt('clients', 'FIVED_SOAK_CLIENTS', 5000);
  const players = opt('players', 'FIVED_SOAK_PLAYERS', 50);
  const workers = opt('workers', 'FIVED_SOAK_WORKERS', 4);
  const durations = [5, 30, 60];
  const freezeMs = 2000;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-soak-'));
  const cluster = new ChaosCluster({
    dir, gateways: 2, schedulers: 1, durations, freezeMs, jwtSecret: 'soak-secret-0123456789abcdef', operatorToken: SOAK_OPERATOR, maxconn: Math.max(4000, clients + 2000),
    env: { FIVED_LOG_LEVEL: 'warn', FIVED_DRAIN_MS: '1000' },
  });
  let pool: ClientPool | null = null;
  let fleet: Fleet | null = null;
  let store: RedisStore | null = null;
  try {
    console.log(`soak: ${clients} clients, ${players} players, ${minutes} min; state in ${dir}`);
    await cluster.start();
    store = new RedisStore({ redisUrl: cluster.redisUrl, keyPrefix: '', light: true });
    await store.init();
    const rooms = durations.map((d) => ({ name: `fiveD_${d}`, duration: d }));
    pool = new ClientPool({ host: '127.0.0.1', port: cluster.lbPort, clients, workers, dialect: 'fived', format: 'binary', rooms: rooms.map((r) => r.name), sourceAddresses: ['127.0.0.1'] });
    const c = await pool.connect();
    console.log(`soak: ${c.ready} watchers connected (${c.failed} failed) in ${c.ms} ms`);
    const gw = cluster.gateways()[0]!;
    fleet = new Fleet({
      lbPort: cluster.lbPort, jwtSecret: 'soak-secret-0123456789abcdef', rooms: rooms.slice(0, 1), freezeMs, runId: `soak${Date.now().toString(36)}`,
      credit: async (userId, amount, depositId) => {
        const r = await httpRequest(gw.port, '/api/wallet/credit', { method: 'POST', body: JSON.stringify({ userId, amount, depositId }), headers: { authorization: `Bearer ${SOAK_OPERATOR}`, 'content-type': 'application/json' } });
        if (r.status !== 200) throw new Error(`credit: ${r.status} ${r.body}`);
      },
    });
    await fleet.start(players, 100_000_000);
    const from = Date.now();
    fleet.run();

    const series: Minute[] = [];
    const scrape = async () => Promise.all(cluster.gateways().map(async (g) => parseHistogram((await httpRequest(g.port, '/metrics')).body, 'fived_gateway_event_loop_delay_seconds')));
    let prev = await scrape();
    const seen = new Set<string>();
    for (let m = 1; m <= minutes; m++) {
      await sleep(from + m * 60_000 - Date.now());
      const rss: Record<string, number> = {};
      for (const mem of cluster.members) if (mem.proc?.alive()) rss[mem.name] = Math.round(((await rssOf(mem.proc.pid)) ?? 0) / 1e5) / 10;
      const cur = await scrape();
      const deltas = cur.map((h, i) => histDelta(prev[i] ?? null, h)).filter((d): d is { mean: number; p99: number } => d !== null);
      prev = cur;
      // result latencies of the periods that ended in this minute, as the watchers saw them
      const samples = await pool.collect();
      const lat: number[] = [];
      for (const s of samples) {
        for (const [periodId, xs] of Object.entries(s.results)) {
          if (seen.has(periodId)) continue;
          lat.push(...xs);
        }
      }
      for (const s of samples) for (const periodId of Object.keys(s.results)) seen.add(periodId);
      const row: Minute = {
        minute: m, rss, loopMean: Math.round(avg(deltas.map((d) => d.mean)) * 100) / 100, loopP99: Math.max(0, ...deltas.map((d) => d.p99)),
        resultP50: Math.round(pct(lat, 0.5) * 10) / 10, resultP99: Math.round(pct(lat, 0.99) * 10) / 10, results: lat.length,
      };
      series.push(row);
      console.log(`soak: minute ${m}: RSS ${Object.entries(rss).map(([k, v]) => `${k} ${v} MB`).join(', ')}; loop mean ${row.loopMean} ms p99 ≤ ${row.loopP99} ms; results ${row.results} p50 ${row.resultP50} ms p99 ${row.resultP99} ms`);
    }
    const to = Date.now();
    await fleet.stop();
    await waitSettled(store, fleet.rec.bets, 30_000);
    const report = await check({ store, rec: fleet.rec, rooms: rooms.slice(0, 1), freezeMs, from, to, freezeToleranceMs: 150, unexpectedExits: cluster.unexpectedExits });
    const violations = INVARIANTS.reduce((a, k) => a + report.violations[k], 0);

    // growth trend: the last third against the middle third (the first third is warm-up)
    const trend: string[] = [];
    const third = Math.max(1, Math.floor(series.length / 3));
    const mid = series.slice(third, 2 * third);
    const last = series.slice(-third);
    const grows = (name: string, a: number[], b: number[], minAbs: number) => {
      const x = avg(a), y = avg(b);
      if (a.length > 0 && b.length > 0 && y > x * 1.2 && y - x > minAbs) trend.push(`${name}: ${x.toFixed(1)} → ${y.toFixed(1)}`);
    };
    if (series.length >= 3) {
      for (const name of Object.keys(series[0]!.rss)) grows(`RSS ${name} (MB)`, mid.map((s) => s.rss[name] ?? 0), last.map((s) => s.rss[name] ?? 0), 30);
      grows('result latency p99 (ms)', mid.map((s) => s.resultP99).filter(Number.isFinite), last.map((s) => s.resultP99).filter(Number.isFinite), 20);
      grows('event-loop delay mean (ms)', mid.map((s) => s.loopMean), last.map((s) => s.loopMean), 5);
    }

    const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
    const names = Object.keys(series[0]?.rss ?? {});
    const svg = lineChart({
      title: `fived soak: ${clients} clients, ${minutes} min`, xLabel: 'minute', yLabel: 'RSS MB / latency ms',
      series: [
        ...names.map((n, i) => ({ name: `RSS ${n}`, color: colors[i % colors.length]!, points: series.map((s) => [s.minute, s.rss[n] ?? 0] as [number, number]) })),
        { name: 'result p99 ms', color: '#000000', dash: true, points: series.filter((s) => Number.isFinite(s.resultP99)).map((s) => [s.minute, s.resultP99] as [number, number]) },
        { name: 'loop delay mean ms', color: '#7f7f7f', dash: true, points: series.map((s) => [s.minute, s.loopMean] as [number, number]) },
      ],
    });
    mkdirSync(path.join(REPO, 'bench', 'results'), { recursive: true });
    writeFileSync(path.join(REPO, 'docs', 'soak.svg'), svg);
    const json = { clients, players, minutes, connected: c.ready, violations, trend, bets_acked: report.betsAcked, series };
    writeFileSync(path.join(REPO, 'bench', 'results', 'soak.json'), JSON.stringify(json, null, 2) + '\n');
    console.log('');
    console.log('| minute | ' + names.map((n) => `RSS ${n} MB`).join(' | ') + ' | loop mean ms | loop p99 ≤ ms | results | result p50 ms | result p99 ms |');
    console.log('|' + '---|'.repeat(names.length + 6));
    for (const s of series) console.log(`| ${s.minute} | ${names.map((n) => s.rss[n] ?? '-').join(' | ')} | ${s.loopMean} | ${s.loopP99} | ${s.results} | ${s.resultP50} | ${s.resultP99} |`);
    console.log(`invariants: ${INVARIANTS.map((k) => `${k}=${report.violations[k]}`).join(' ')}`);
    if (trend.length) console.log(`growth trend: ${trend.join('; ')}`);
    console.log(`RESULT ${JSON.stringify({ clients, players, minutes, connected: c.ready, violations, trend, bets_acked: report.betsAcked })}`);
    return violations === 0 && trend.length === 0 && c.ready >= clients * 0.99 ? 0 : 1;
  } finally {
    fleet?.close();
    await pool?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    await cluster.stop().catch(() => undefined);
    await stopAll();
  }
}

runMain(main);
