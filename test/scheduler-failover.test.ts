// Two `fived scheduler` processes on one Redis with 2 s rooms (freeze 1 s, lease TTL 1 s):
//  - calm: exactly one computes each period, the standby stays standby;
//  - kill -9 of the active one at random moments over >= 20 periods: takeover within the TTL
//    (+ the standby's poll and log-pipe slack), and for every period in the window exactly one
//    result that verifies against its commitment and exactly one settlement, applied no earlier
//    than the end. The test process plays the gateways (commit ahead each second; at end + grace
//    derive a missing result and settle an unsettled period, as issue 4's fallback does), because
//    a period whose freeze and end both fall in a takeover gap has no scheduler to pre-compute it.
//  - SIGSTOP past the lease, then SIGCONT: the resumed process writes nothing with its stale epoch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';
import { freePort } from './support/ports.js';
import {
  expectedPayout, isAcquired, isLost, isStarted, isStarting, isStored, requireBuild, simulateGateways, spawnScheduler,
  type GatewaySim, type SchedulerProc,
} from './support/scheduler.js';
import { loadConfig } from '../src/config.js';
import { createStore } from '../src/store/index.js';
import type { BetAck, Store, StoreOptions } from '../src/store/types.js';
import { ComputePool } from '../src/worker/pool.js';
import { roomsOf, windowAt, windowOf, type Room } from '../src/runtime/rooms.js';
import { assertResultVerifies } from '../src/runtime/compute.js';
import { sleep } from '../src/runtime/clock.js';
import { waitFor } from './support/procs.js';
import { isFivedError } from '../src/errors.js';

const TTL = 1000;
const GRACE = 2500;

let redis: TestRedis;
let pool: ComputePool;
const procs: SchedulerProc[] = [];
const stores: Store[] = [];

beforeAll(async () => {
  requireBuild();
  redis = await startRedis();
  pool = new ComputePool({ threads: 1 });
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  for (const s of stores) await s.close().catch(() => undefined);
  await pool?.close();
  await redis?.stop();
});

function setup(name: string, ttl = TTL) {
  const prefix = testPrefix(name);
  const env = {
    FIVED_REDIS_URL: redis.url, FIVED_SEED_KEY: TEST_SEED_KEY, FIVED_KEY_PREFIX: prefix, FIVED_DURATIONS: '2', FIVED_FREEZE_MS: '1000',
    FIVED_LEASE_TTL_MS: String(ttl), FIVED_POOL_THREADS: '1', FIVED_SETTLE_GRACE_MS: String(GRACE),
  };
  const cfg = loadConfig(env);
  const room: Room = roomsOf(cfg)[0]!;
  const storeOptions: StoreOptions = { redisUrl: redis.url, keyPrefix: prefix, instance: `test-${name}`, seedKey: TEST_SEED_KEY };
  const store = createStore(storeOptions);
  stores.push(store);
  const start = (instance: string, extra: Record<string, string> = {}) => {
    const p = spawnScheduler(instance, { ...env, ...extra });
    procs.push(p);
    return p;
  };
  return { env, cfg, room, store, storeOptions, start };
}

/** The proc that acquired the lease last and has not lost it since. */
function activeOf(list: SchedulerProc[]): SchedulerProc | null {
  let best: { p: SchedulerProc; at: number } | null = null;
  for (const p of list) {
    if (!p.alive()) continue;
    const acq = [...p.lines].reverse().find(isAcquired);
    const lost = [...p.lines].reverse().find(isLost);
    if (acq && (!lost || lost.seenAt < acq.seenAt) && (!best || acq.seenAt > best.at)) best = { p, at: acq.seenAt };
  }
  return best?.p ?? null;
}

describe('scheduler failover', () => {
  it('two schedulers: exactly one computes each period, the standby stays standby', async () => {
    // the default TTL here: a loaded CI host must not make the active one miss a renewal
    const { room, store, start } = setup('calm', 3000);
    await store.init();
    const [portA, portB] = [await freePort(), await freePort()];
    const a = start('sched-a', { FIVED_SCHEDULER_PORT: String(portA) });
    await a.waitFor(isAcquired, 15_000, 'lease acquisition');
    const b = start('sched-b', { FIVED_SCHEDULER_PORT: String(portB) });
    await b.waitFor(isStarted, 15_000, 'start');
    // its own HTTP port: both ready (store reachable), roles and lease state in /ready and /metrics
    const readyA = await fetch(`http://127.0.0.1:${portA}/ready`);
    const readyB = await fetch(`http://127.0.0.1:${portB}/ready`);
    expect(readyA.status).toBe(200);
    expect(readyB.status).toBe(200);
    expect(await readyA.json()).toMatchObject({ ready: true, role: 'active', instance: 'sched-a' });
    expect(await readyB.json()).toMatchObject({ ready: true, role: 'standby', instance: 'sched-b' });
    expect((await fetch(`http://127.0.0.1:${portA}/health`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${portA}/metrics`)).text()).toMatch(/^fived_scheduler_lease_active 1$/m);
    expect(await (await fetch(`http://127.0.0.1:${portB}/metrics`)).text()).toMatch(/^fived_scheduler_lease_active 0$/m);
    const first = windowAt(room, Date.now());
    const ids: string[] = [];
    for (let w = windowOf(room, first.periodId), i = 0; i < 4; i++) {
      w = windowOf(room, String(BigInt(w.periodId) + 1n).padStart(17, '0'));
      ids.push(w.periodId);
    }
    const last = windowOf(room, ids[ids.length - 1]!);
    await sleep(last.endsAt + 300 - Date.now());
    // the last period's settlement follows its end: awaited (bounded), not assumed within 300 ms
    await waitFor(() => store.isSettled({ duration: room.duration, timeline: room.timeline, periodId: last.periodId }), 5000);
    for (const id of ids) {
      const r = await store.getResult({ duration: room.duration, timeline: room.timeline, periodId: id });
      expect(r, `result of ${id}`).not.toBeNull();
      assertResultVerifies(r!);
      expect(r!.tracking.instance).toBe('sched-a');
      expect(r!.tracking.source).toBe('scheduler');
      expect(await store.isSettled({ duration: room.duration, timeline: room.timeline, periodId: id })).toBe(true);
    }
    expect(a.lines.filter(isStarting).length).toBeGreaterThanOrEqual(4);
    expect(b.lines.filter(isStarting)).toHaveLength(0);
    expect(b.lines.filter(isAcquired)).toHaveLength(0);
    const metrics = await (await fetch(`http://127.0.0.1:${portA}/metrics`)).text();
    const stored = Number(/^fived_scheduler_precalc_total\{room="fiveD_2",outcome="stored"\} (\d+)$/m.exec(metrics)?.[1]);
    expect(stored).toBeGreaterThanOrEqual(4);
    expect(metrics).toMatch(/^fived_scheduler_compute_seconds_count\{room="fiveD_2"\} \d+$/m);
    expect(metrics).toMatch(/^fived_scheduler_lease_epoch [1-9]\d*$/m);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('kill -9 of the active scheduler at random moments over >= 20 periods: one result and one settlement per period', async () => {
    const { cfg, room, store, storeOptions, start } = setup('kill');
    await store.init();
    const sim: GatewaySim = await simulateGateways(store, pool, room, cfg, storeOptions, GRACE);
    try {
      const user = 'u-kill';
      const credit = 1_000_000_000;
      await store.credit(user, credit, 'dep-kill-1');
      const acks: BetAck[] = [];
      const live: SchedulerProc[] = [start('k-0'), start('k-1')];
      await Promise.all(live.map((p) => p.waitFor(isStarted, 15_000, 'start')));
      await sleep(1500);
      const firstW = windowAt(room, Date.now());
      const firstId = String(BigInt(firstW.periodId) + 1n).padStart(17, '0');

      // one bet per period, placed while betting is open, as a player would
      let betting = true;
      const bettor = (async () => {
        let n = 0;
        while (betting) {
          const w = windowAt(room, Date.now());
          if (Date.now() < w.freezeAt - 200) {
            const kinds = ['A', 'B', 'C', 'D', 'E'] as const;
            const picks = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 'big', 'small', 'odd', 'even'] as const;
            try {
              acks.push(await store.placeBet(
                { period: w, userId: user, clientBetId: `b${n++}`, kind: kinds[n % 5]!, pick: picks[(n * 7) % 14]!, amount: 100 + (n % 50) },
                cfg.limits, cfg.paytable, Date.now(),
              ));
            } catch (err) {
              if (!isFivedError(err)) throw err; // a coded refusal (e.g. not yet committed) is fine
            }
          }
          await sleep(w.endsAt - Date.now() + 50);
        }
      })();

      const takeovers: number[] = [];
      let kills = 0;
      let seq = 2;
      // kill at random moments until 22 whole periods have passed since the first checked one
      const until = windowOf(room, firstId).startsAt + 22 * room.duration * 1000;
      // at least 5 kills: on a loaded host a cycle (pause, kill, takeover, a fresh process) can take
      // long enough that 22 periods held only 4 (a clean-clone run); then the run goes on, bounded
      const hardEnd = until + 40_000;
      for (;;) {
        const pause = 2500 + Math.random() * 3000;
        if (kills >= 5 && Date.now() + pause >= until) {
          await sleep(until - Date.now());
          break;
        }
        if (Date.now() + pause >= hardEnd) break;
        await sleep(pause);
        const victim = activeOf(live);
        if (!victim) continue;
        const survivor = live.find((p) => p !== victim && p.alive())!;
        const acquiredBefore = survivor.lines.filter(isAcquired).length;
        const killedAt = Date.now();
        await victim.kill();
        kills++;
        const acq = await survivor.waitFor((l) => isAcquired(l) && survivor.lines.filter(isAcquired).indexOf(l) >= acquiredBefore, TTL * 5, 'takeover');
        // the survivor's own timestamp of the acquisition (not when the log pipe delivered it)
        takeovers.push(Date.parse(acq.time as string) - killedAt);
        live.splice(live.indexOf(victim), 1);
        const fresh = start(`k-${seq++}`);
        live.push(fresh);
        await fresh.waitFor(isStarted, 15_000, 'start');
      }
      betting = false;
      await bettor;
      const lastW = windowAt(room, Date.now());
      await sleep(lastW.endsAt + GRACE + 1500 - Date.now());

      expect(kills).toBeGreaterThanOrEqual(5);
      // the lease lapses at most TTL after the kill (renewed every TTL/3); the standby polls every
      // TTL/10 = 100 ms; the rest is slack for a loaded host
      for (const t of takeovers) expect(t).toBeLessThanOrEqual(TTL + 750);

      const ids: string[] = [];
      for (let id = firstId; id < lastW.periodId; id = String(BigInt(id) + 1n).padStart(17, '0')) ids.push(id);
      expect(ids.length).toBeGreaterThanOrEqual(20);
      const all = procs.filter((p) => p.name.startsWith('k-'));
      let byScheduler = 0;
      let expectedBalance = credit;
      for (const id of ids) {
        const w = windowOf(room, id);
        const r = await store.getResult(w);
        expect(r, `result of ${id}`).not.toBeNull();
        assertResultVerifies(r!, (await store.getCommitment(w))!);
        if (r!.tracking.source === 'scheduler') byScheduler++;
        // at most one process logged storing it (NX), and it is the one the stored tracking names
        const storers = all.filter((p) => p.lines.some((l) => isStored(l) && l.periodId === id));
        expect(storers.length, `storers of ${id}`).toBeLessThanOrEqual(1);
        if (storers.length === 1) expect(r!.tracking.instance).toBe(storers[0]!.name);
        expect(await store.isSettled(w), `settled ${id}`).toBe(true);
        const notices = sim.settled.get(id) ?? [];
        expect(notices.length, `settled notices of ${id}`).toBeLessThanOrEqual(1);
        for (const t of notices) expect(t).toBeGreaterThanOrEqual(w.endsAt);
        for (const a of acks.filter((x) => x.periodId === id)) expectedBalance += expectedPayout(a, r!.digits, cfg.paytable) - a.amount;
      }
      // bets outside the checked window (first/last) are settled too: include them by their results
      for (const a of acks.filter((x) => !ids.includes(x.periodId))) {
        const r = await store.getResult(windowOf(room, a.periodId));
        expect(r).not.toBeNull();
        expect(await store.isSettled(windowOf(room, a.periodId))).toBe(true);
        expectedBalance += expectedPayout(a, r!.digits, cfg.paytable) - a.amount;
      }
      // every acknowledged bet settled exactly once: the balance adds up
      expect(acks.length).toBeGreaterThanOrEqual(15);
      expect(await store.balance(user)).toBe(expectedBalance);
      expect(byScheduler).toBeGreaterThanOrEqual(Math.floor(ids.length / 2));
      expect(sim.errors).toEqual([]);
      console.log(`kill test: ${ids.length} periods, ${kills} kills, takeovers ${takeovers.join(', ')} ms, ${byScheduler} results by a scheduler, ${sim.fallbackDerived.size} derived and ${sim.fallbackSettled.size} settled by the simulated gateways`);
    } finally {
      sim.stop();
    }
  }, 150_000); // 22 periods of 2 s, up to 40 s more to reach 5 kills, then the checks

  it('a scheduler paused past its lease and resumed writes nothing with its stale epoch', async () => {
    const { room, store, start } = setup('stop');
    await store.init();
    const a = start('p-a');
    const acqA = await a.waitFor(isAcquired, 15_000, 'lease acquisition');
    const b = start('p-b');
    await b.waitFor(isStarted, 15_000, 'start');
    const staleEpoch = acqA.epoch as number;
    expect(typeof staleEpoch).toBe('number');
    // pause A just before a freeze: it wakes with the freeze timer due and in-flight lease work
    const w = windowAt(room, Date.now());
    const target = w.freezeAt + (Date.now() > w.freezeAt - 300 ? 2000 : 0) - 100;
    await sleep(target - Date.now());
    const pausedAt = Date.now();
    a.signal('SIGSTOP');
    const acqB = await b.waitFor(isAcquired, TTL * 5, 'takeover');
    await sleep(Math.max(0, pausedAt + 2.5 * TTL - Date.now()));
    const linesBefore = a.lines.length;
    a.signal('SIGCONT');
    await a.waitFor((l) => isLost(l) && a.lines.indexOf(l) >= linesBefore, 5000, 'lease lost after resume');
    await sleep(4500); // two more periods with A resumed
    const after = a.lines.slice(linesBefore);
    expect(after.filter(isStored)).toHaveLength(0);
    expect(after.filter(isAcquired)).toHaveLength(0);
    expect(a.alive()).toBe(true);
    // every period frozen after the pause carries B's epoch (or none: a gateway's), never A's
    let checked = 0;
    for (let id = windowAt(room, pausedAt).periodId; ; id = String(BigInt(id) + 1n).padStart(17, '0')) {
      const pw = windowOf(room, id);
      if (pw.endsAt > Date.now()) break;
      const r = await store.getResult(pw);
      if (pw.freezeAt >= pausedAt && r) {
        expect(r.tracking.epoch, `epoch of ${id}`).not.toBe(staleEpoch);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(2);
    expect(acqB.epoch).toBeGreaterThan(staleEpoch);
    // the store itself refuses the stale fence
    const next = windowAt(room, Date.now());
    await expect(store.applySettlement(windowOf(room, String(BigInt(next.periodId) - 2n).padStart(17, '0')), Date.now(), { holder: 'p-a', epoch: staleEpoch })).rejects.toMatchObject({ code: 'E_STALE_EPOCH' });
    await Promise.all([a.stop(), b.stop()]);
  });
});
