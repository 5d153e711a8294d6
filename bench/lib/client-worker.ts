// One client process of the fan-out harness (forked by client-pool.ts): opens its share of light
// clients with a bounded number of handshakes in flight, spreads them over several loopback source
// addresses (ephemeral ports run short past ~28,000 per address), records the receipt time of
// every tick and result, and sends the samples to the parent when asked.

import { LightClient, nowMs, type Dialect, type WireFormat } from './light-client.js';

export interface WorkerConfig {
  index: number;
  host: string;
  port: number;
  count: number;
  dialect: Dialect;
  format: WireFormat;
  rooms: string[];
  /** compat: the players' token */
  token?: string;
  sourceAddresses: string[];
  inFlight: number;
  /** decode result frames only (bench:scale: the clients stay cheap) */
  resultsOnly?: boolean;
}

/** Parent → worker */
export type ToWorker = { cmd: 'report' } | { cmd: 'close' };
/** Worker → parent */
export type FromWorker =
  | { ev: 'progress'; index: number; ready: number; failed: number }
  | { ev: 'ready'; index: number; ready: number; failed: number; firstAt: number; lastAt: number; failures: string[] }
  | { ev: 'report'; index: number; samples: WorkerSamples };

export interface WorkerSamples {
  /** periodId → result latencies (receipt − endsAt), ms */
  results: Record<string, number[]>;
  /** second boundary (epoch ms, as a string) → tick lateness (receipt − boundary), ms */
  ticks: Record<string, number[]>;
  /** sockets that closed during the run, by reason */
  closes: Record<string, number>;
  /** CPU time this process used, ms */
  cpuMs: number;
  wallMs: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function main(): void {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
  const send = (m: FromWorker) => process.send?.(m);
  const startedAt = nowMs();
  const results = new Map<string, number[]>();
  const ticks = new Map<number, number[]>();
  const closes: Record<string, number> = {};
  const failures: string[] = [];
  const clients: LightClient[] = [];
  let ready = 0;
  let failed = 0;
  let opened = 0;
  let pending = 0;
  let firstAt = 0;
  let lastAt = 0;
  let allReady = false;

  const onMessage = (msg: Record<string, unknown>, t: number) => {
    const type = msg.type;
    if (type === 'tick') {
      const b = msg.now as number;
      let a = ticks.get(b);
      if (!a) ticks.set(b, (a = []));
      a.push(round2(t - b));
    } else if (type === 'result') {
      const id = msg.periodId as string;
      let a = results.get(id);
      if (!a) results.set(id, (a = []));
      a.push(round2(t - (msg.endsAt as number)));
    }
  };

  const openMore = () => {
    while (pending < cfg.inFlight && opened < cfg.count) {
      const src = cfg.sourceAddresses.length > 0 ? cfg.sourceAddresses[(cfg.index + opened) % cfg.sourceAddresses.length] : undefined;
      opened++;
      pending++;
      if (firstAt === 0) firstAt = nowMs();
      let settled = false;
      const c = new LightClient({
        host: cfg.host,
        port: cfg.port,
        ...(src ? { localAddress: src } : {}),
        dialect: cfg.dialect,
        format: cfg.format,
        rooms: cfg.rooms,
        ...(cfg.token ? { token: cfg.token } : {}),
        resultsOnly: cfg.resultsOnly === true,
        onMessage,
        onReady: () => {
          if (settled) return;
          settled = true;
          pending--;
          ready++;
          lastAt = nowMs();
          done();
        },
        onClose: (reason) => {
          if (!settled) {
            settled = true;
            pending--;
            failed++;
            if (failures.length < 5) failures.push(reason);
            done();
            return;
          }
          closes[reason] = (closes[reason] ?? 0) + 1;
        },
      });
      clients.push(c);
    }
  };
  const done = () => {
    openMore();
    if (!allReady && ready + failed === cfg.count) {
      allReady = true;
      send({ ev: 'ready', index: cfg.index, ready, failed, firstAt, lastAt, failures });
    }
  };
  const progress = setInterval(() => {
    if (!allReady) send({ ev: 'progress', index: cfg.index, ready, failed });
  }, 500);

  process.on('message', (m: ToWorker) => {
    if (m.cmd === 'report') {
      const cpu = process.cpuUsage();
      const samples: WorkerSamples = {
        results: Object.fromEntries(results),
        ticks: Object.fromEntries([...ticks].map(([k, v]) => [String(k), v])),
        closes,
        cpuMs: (cpu.user + cpu.system) / 1000,
        wallMs: nowMs() - startedAt,
      };
      send({ ev: 'report', index: cfg.index, samples });
    } else if (m.cmd === 'close') {
      clearInterval(progress);
      for (const c of clients) c.close();
      setImmediate(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0)); // the parent died: never linger
  openMore();
  if (cfg.count === 0) done();
}

main();
