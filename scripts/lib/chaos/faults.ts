// The fault injector: one fault at a time, at random moments, each undone (restart / SIGCONT)
// before the next, so the cluster is whole again by the end. Every fault is logged with its time,
// target and pid for the report.

import type { ChaosCluster } from '../../../test/support/cluster.js';
import type { Fleet } from './fleet.js';
import { sleep, waitFor } from '../../../test/support/procs.js';

export const FAULT_KINDS = ['kill_active_scheduler', 'kill_gateway', 'stop_scheduler', 'kill_redis', 'drop_client'] as const;
/** with Sentinels (issue 13) "primary killed, replica promoted" takes kill_redis's place */
export const SENTINEL_FAULT_KINDS = ['kill_active_scheduler', 'kill_gateway', 'stop_scheduler', 'failover_redis', 'drop_client'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number] | (typeof SENTINEL_FAULT_KINDS)[number];

export interface FaultEvent {
  kind: FaultKind;
  at: number;
  target: string;
  detail: string;
  /** how long the target was down / stopped (ms) */
  downMs: number;
}

function rand(lo: number, hi: number): number {
  return lo + Math.floor(Math.random() * (hi - lo + 1));
}

/** A shuffled round of every fault kind, so a short run still sees each of them. */
function* schedule(kinds: readonly FaultKind[]): Generator<FaultKind> {
  for (;;) {
    const round = [...kinds];
    for (let i = round.length - 1; i > 0; i--) {
      const j = rand(0, i);
      [round[i], round[j]] = [round[j]!, round[i]!];
    }
    yield* round;
  }
}

export async function inject(kind: FaultKind, cluster: ChaosCluster, fleet: Fleet): Promise<FaultEvent> {
  const at = Date.now();
  switch (kind) {
    case 'kill_active_scheduler': {
      const active = (await cluster.activeScheduler()) ?? cluster.schedulers().find((s) => s.proc?.alive());
      if (!active) return { kind, at, target: '-', detail: 'no scheduler running', downMs: 0 };
      const pid = await cluster.signal(active.name, 'SIGKILL');
      const down = rand(2000, 4000);
      await sleep(down);
      await cluster.launch(active.name);
      return { kind, at, target: active.name, detail: `kill -9 ${pid} (active), restarted as ${active.proc!.pid}`, downMs: Date.now() - at };
    }
    case 'kill_gateway': {
      const gws = cluster.gateways().filter((g) => g.proc?.alive());
      const g = gws[rand(0, gws.length - 1)]!;
      const pid = await cluster.signal(g.name, 'SIGKILL');
      await sleep(rand(500, 2500));
      await cluster.launch(g.name);
      return { kind, at, target: g.name, detail: `kill -9 ${pid}, restarted as ${g.proc!.pid}`, downMs: Date.now() - at };
    }
    case 'stop_scheduler': {
      const active = (await cluster.activeScheduler()) ?? cluster.schedulers().find((s) => s.proc?.alive());
      if (!active) return { kind, at, target: '-', detail: 'no scheduler running', downMs: 0 };
      const pid = await cluster.signal(active.name, 'SIGSTOP');
      // longer than the lease TTL: the standby takes over while this one is frozen mid-work
      const down = rand(2000, 6000);
      await sleep(down);
      await cluster.signal(active.name, 'SIGCONT');
      return { kind, at, target: active.name, detail: `SIGSTOP ${pid} for ${down} ms, then SIGCONT`, downMs: down };
    }
    case 'kill_redis': {
      const pid = await cluster.signal('redis', 'SIGKILL');
      await sleep(rand(300, 1500));
      await cluster.launch('redis');
      return { kind, at, target: 'redis', detail: `kill -9 ${pid}, restarted from its AOF as ${cluster.member('redis').proc!.pid}`, downMs: Date.now() - at };
    }
    case 'failover_redis':
      return failover(cluster, at);
    case 'drop_client': {
      const who = fleet.dropMidBet();
      return { kind, at, target: who ?? '-', detail: who ? 'socket terminated without a close frame' : 'no connected client', downMs: 0 };
    }
  }
}

/** kill -9 of the primary; the Sentinels promote the replica; the killed node comes back (as systemd
 *  restarts it) and the Sentinels make it the new primary's replica, so writes are accepted again. */
async function failover(cluster: ChaosCluster, at: number): Promise<FaultEvent> {
  const kind = 'failover_redis';
  const ports = cluster.sentinelPorts();
  const primaryPort = await cluster.nodes.primaryPort(ports);
  const primary = cluster.redisNodes().find((m) => m.port === primaryPort && m.proc?.alive());
  if (!primary) return { kind, at, target: '-', detail: 'no primary found through the Sentinels', downMs: 0 };
  const pid = await cluster.signal(primary.name, 'SIGKILL');
  const promoted = await waitFor(async () => {
    const now = await cluster.nodes.primaryPort(ports);
    return now !== null && now !== primary.port;
  }, 30_000, 200);
  const promotedMs = Date.now() - at;
  await cluster.launch(primary.name);
  const synced = await waitFor(() => cluster.nodes.replicaInSync(primary.port), 30_000, 200);
  const detail = `kill -9 ${pid} (primary); ${promoted ? `replica promoted after ${promotedMs} ms` : 'NO promotion within 30 s'}; restarted as ${primary.proc!.pid}, ${synced ? 'now a replica in sync' : 'NOT in sync within 30 s'}`;
  return { kind, at, target: primary.name, detail, downMs: Date.now() - at };
}

/**
 * Injects faults every ~everyMs (±50 %) until `until`; returns the log. While fewer than
 * `minFaults` have happened, a gap is at most the time left shared among those still due: the
 * minimum is what the run promises, and random gaps (with slow recoveries on a loaded machine) left
 * a CI-sized run at 4 of its 5.
 */
export async function faultLoop(cluster: ChaosCluster, fleet: Fleet, everyMs: number, until: number, onFault: (e: FaultEvent) => void, minFaults = 0): Promise<FaultEvent[]> {
  const log: FaultEvent[] = [];
  const next = schedule(cluster.o.sentinel ? SENTINEL_FAULT_KINDS : FAULT_KINDS);
  await sleep(rand(everyMs * 0.3, everyMs * 0.8));
  while (Date.now() < until) {
    const kind = next.next().value as FaultKind;
    const e = await inject(kind, cluster, fleet);
    log.push(e);
    onFault(e);
    const due = minFaults - log.length;
    const wait = due > 0 ? Math.min(rand(everyMs * 0.5, everyMs * 1.5), (until - Date.now()) / (due + 1)) : rand(everyMs * 0.5, everyMs * 1.5);
    if (Date.now() + wait >= until) break;
    await sleep(wait);
  }
  return log;
}
