// One chaos run, shared by `npm run chaos` (long) and test/chaos-ci.test.ts (CI-sized): start the
// cluster, fund and connect the fleet, let it bet while faults hit, stop, wait for the last
// settlements, check every invariant, stop every process (also on failure).

import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RedisStore } from '../../../src/store/redis.js';
import { check, INVARIANTS, waitSettled, type CheckReport } from './checker.js';
import { ChaosCluster } from '../../../test/support/cluster.js';
import { faultLoop, type FaultEvent } from './faults.js';
import { Fleet } from './fleet.js';
import { httpRequest, sleep, stopAll } from '../../../test/support/procs.js';
import { formatReport } from './report.js';

export interface ChaosOptions {
  /** seconds of betting under faults */
  seconds: number;
  clients: number;
  /** mean time between faults (ms) */
  faultEveryMs: number;
  /** faults the run must inject at least: gaps shrink while fewer have happened */
  minFaults?: number;
  durations?: number[];
  freezeMs?: number;
  /** FIVED_CLOCK_OFFSET_MS of the last gateway */
  clockOffsetMs?: number;
  maxClockSkewMs?: number;
  gateways?: number;
  schedulers?: number;
  dir?: string;
  log?: (line: string) => void;
  /** Redis as a primary, a replica and three Sentinels, with the fault "primary killed, replica
   *  promoted" instead of a restart of the one Redis (issue 13) */
  sentinel?: boolean;
}

export interface ChaosResult {
  report: CheckReport;
  faults: FaultEvent[];
  periods: number;
  betsAcked: number;
  violations: number;
  text: string;
  json: { periods: number; faults: number; bets_acked: number; violations: number; by_invariant: Record<string, number>; clients: number; seconds: number; dir: string };
  dir: string;
}

const JWT_SECRET = 'chaos-secret-0123456789abcdef';
const OPERATOR_TOKEN = 'chaos-operator-token-0123456789abcdef'; // >= 32 characters (config)

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const log = o.log ?? ((l: string) => console.log(l));
  const durations = o.durations ?? [3, 5];
  const freezeMs = o.freezeMs ?? 1000;
  const gateways = o.gateways ?? 3;
  // one gateway runs ahead by the offset (it must still never reveal a result early) and, with 3 or
  // more, another runs behind by it (the store's frozen flag must still refuse its late bets)
  const offset = Math.abs(o.clockOffsetMs ?? 300);
  const dir = o.dir ?? mkdtempSync(path.join(os.tmpdir(), 'fived-chaos-'));
  const rooms = durations.map((d) => ({ name: `fiveD_${d}`, duration: d }));
  const cluster = new ChaosCluster({
    dir, gateways, schedulers: o.schedulers ?? 2, durations, freezeMs, jwtSecret: JWT_SECRET, operatorToken: OPERATOR_TOKEN,
    clockOffsets: Array.from({ length: gateways }, (_, i) => (i === gateways - 1 ? offset : i === gateways - 2 && gateways >= 3 ? -offset : 0)),
    maxClockSkewMs: o.maxClockSkewMs ?? 500,
    sentinel: o.sentinel === true,
    env: { FIVED_DRAIN_MS: '1000', FIVED_LEASE_TTL_MS: '2000', FIVED_SETTLE_GRACE_MS: '2000', FIVED_RATE_LIMIT: '200', FIVED_LOG_LEVEL: 'info' },
  });
  let store: RedisStore | null = null;
  let fleet: Fleet | null = null;
  let watching = true;
  const watchers: Array<Promise<void>> = [];
  try {
    log(`chaos: starting the cluster in ${dir} (redis appendonly+always${o.sentinel ? ', two replicas and 3 Sentinels' : ''}, ${o.schedulers ?? 2} schedulers, ${gateways} gateways, gateway-${gateways} clock ${offset} ms, haproxy)`);
    await cluster.start();
    log(`chaos: cluster up; LB 127.0.0.1:${cluster.lbPort}, redis ${cluster.redisUrl.replace(/:[^:@/]*@/, ':***@')}`);
    store = new RedisStore({ ...cluster.storeOptions(), keyPrefix: '', light: true, instance: 'chaos-checker' });
    await store.init();

    const credit = async (userId: string, amount: number, depositId: string): Promise<void> => {
      for (let i = 0; i < 40; i++) {
        const live = cluster.gateways().filter((g) => g.proc?.alive());
        const g = live[i % Math.max(1, live.length)];
        if (g) {
          const r = await httpRequest(g.port, '/api/wallet/credit', {
            method: 'POST', body: JSON.stringify({ userId, amount, depositId }),
            headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
          });
          if (r.status === 200) return;
        }
        await sleep(150);
      }
      throw new Error(`could not credit ${userId}`);
    };
    const runId = Date.now().toString(36);
    fleet = new Fleet({ lbPort: cluster.lbPort, jwtSecret: JWT_SECRET, rooms, freezeMs, runId, credit });
    await fleet.start(o.clients, 1_000_000);
    log(`chaos: ${o.clients} clients funded and connected`);
    for (const g of cluster.gateways()) watchers.push(fleet.watchTicks(g.name, g.port, rooms.map((r) => r.name), () => !watching));

    const from = Date.now();
    const until = from + o.seconds * 1000;
    fleet.run();
    const samplers = rooms.map(async (room) => {
      let i = 0;
      while (Date.now() < until - room.duration * 1000) await fleet!.sampler(room, i++);
    });
    const faults = await faultLoop(cluster, fleet, o.faultEveryMs, until, (e) => log(`chaos: fault ${e.kind} ${e.target}: ${e.detail}`), o.minFaults);
    await sleep(Math.max(0, until - Date.now()));
    const to = Date.now();
    await fleet.stop();
    await Promise.all(samplers);
    log(`chaos: betting stopped after ${Math.round((to - from) / 1000)} s and ${faults.length} faults; waiting for the last settlements`);
    const open = await waitSettled(store, fleet.rec.bets, 30_000);
    if (open > 0) log(`chaos: ${open} periods with bets still unsettled after 30 s`);
    watching = false;
    await Promise.all(watchers);

    const report = await check({
      store, rec: fleet.rec, rooms, freezeMs, from, to, freezeToleranceMs: 150, unexpectedExits: cluster.unexpectedExits,
    });
    const violations = INVARIANTS.reduce((a, k) => a + report.violations[k], 0);
    const text = formatReport(report, faults, { clients: o.clients, seconds: o.seconds });
    const json = {
      periods: report.periods.length, faults: faults.length, bets_acked: report.betsAcked, violations, by_invariant: report.violations,
      clients: o.clients, seconds: o.seconds, dir,
    };
    return { report, faults, periods: report.periods.length, betsAcked: report.betsAcked, violations, text, json, dir };
  } finally {
    watching = false;
    fleet?.close();
    await store?.close().catch(() => undefined);
    await cluster.stop().catch(() => undefined);
    await stopAll();
  }
}
