// publish_5k_ms measured directly: a uWebSockets.js app in this process using the gateway's own
// publishing code (src/gateway/hub.ts: the laggard scan and Hub.broadcast, encoded once per
// format), N light clients in forked processes subscribed to one room, and a timer that fires
// `rounds` times: timer fired → publish returned, the way Results.publish does it. The gateway's
// own metric (fived_gateway_result_delivery_lag_seconds) also counts the timer's lateness and any
// skew delay, so it is an upper bound of the same figure.

import { createRequire } from 'node:module';
import { createHash, randomBytes } from 'node:crypto';
import { Hub, type Socket, type SocketData } from '../../src/gateway/hub.js';
import { gatewayMetrics } from '../../src/gateway/metrics.js';
import { RateBucket } from '../../src/gateway/ratelimit.js';
import { createRegistry } from '../../src/runtime/metrics.js';
import type { ResultMsg } from '../../src/protocol.js';
import type { Digits } from '../../src/core/types.js';
import { freePort } from '../../test/support/ports.js';
import { ClientPool } from './client-pool.js';
import { pct, r2 } from './stats.js';

type Uws = typeof import('uWebSockets.js');

export interface ProbeResult { subscribers: number; rounds: number; p50: number; max: number; all: number[]; scanP50: number; broadcastP50: number }

export async function probePublish(opts: { clients: number; rounds: number; workers: number; log: (s: string) => void }): Promise<ProbeResult> {
  const uws = createRequire(import.meta.url)('uWebSockets.js') as Uws;
  const room = 'fiveD_60';
  const hub = new Hub(gatewayMetrics(createRegistry({ defaultMetrics: false })), [room]);
  const app = uws.App();
  let nextId = 0;
  app.ws<SocketData>('/*', {
    compression: uws.DISABLED,
    maxPayloadLength: 16 * 1024,
    maxBackpressure: 256 * 1024,
    idleTimeout: 120,
    upgrade: (res, req, context) => {
      const data: SocketData = {
        id: ++nextId, userId: null, expiresAt: null, format: 'binary', rooms: new Set(), bucket: new RateBucket(50, Date.now()),
        malformed: 0, malformedWindow: 0, open: true, remote: '', messages: 0,
      };
      res.upgrade(data, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
    },
    open: (ws) => { hub.add(ws as Socket); hub.join(ws as Socket, room); },
    message: () => undefined,
    close: (ws) => hub.remove(ws as Socket),
  });
  hub.attach(app);
  const port = await freePort();
  const listen = await new Promise<import('uWebSockets.js').us_listen_socket | false>((resolve) => app.listen('127.0.0.1', port, resolve));
  if (!listen) throw new Error(`publish probe: cannot listen on ${port}`);
  const pool = new ClientPool({ host: '127.0.0.1', port, clients: opts.clients, workers: opts.workers, dialect: 'fived', format: 'binary', rooms: [room], sourceAddresses: [], inFlight: 64 });
  try {
    const conn = await pool.connect();
    opts.log(`publish probe: ${conn.ready} subscribers on one uWS app with the gateway's Hub`);
    await new Promise((r) => setTimeout(r, 1000));
    const all: number[] = [];
    const scan: number[] = [];
    const cast: number[] = [];
    for (let i = 0; i < opts.rounds; i++) {
      await new Promise((r) => setTimeout(r, 1000)); // let the previous frame drain, as between periods
      const seed = randomBytes(32);
      const digits = Array.from(randomBytes(5), (b) => b % 10) as Digits;
      const msg: ResultMsg = {
        type: 'result', room, duration: 60, timeline: 'default', periodId: '20250731000000001', digits, sum: digits.reduce((a, b) => a + b, 0),
        seed: seed.toString('hex'), commitment: createHash('sha256').update(seed).digest('hex'), endsAt: Date.now(),
      };
      // what Results.publish does once the end timer fired
      const t0 = performance.now();
      const frameBytes = Math.max(JSON.stringify(msg).length, 256);
      const lagging = hub.laggards(room, 256 * 1024, frameBytes);
      const t1 = performance.now();
      hub.broadcast(room, msg);
      const t2 = performance.now();
      all.push(t2 - t0);
      scan.push(t1 - t0);
      cast.push(t2 - t1);
      if (lagging.length > 0) opts.log(`publish probe: ${lagging.length} laggards`);
    }
    const sorted = [...all].sort((a, b) => a - b);
    const med = (xs: number[]) => r2(pct([...xs].sort((a, b) => a - b), 50));
    return {
      subscribers: conn.ready, rounds: opts.rounds, p50: r2(pct(sorted, 50)), max: r2(sorted[sorted.length - 1]!), all: all.map(r2),
      scanP50: med(scan), broadcastP50: med(cast),
    };
  } finally {
    await pool.close();
    uws.us_listen_socket_close(listen);
    for (const ws of [...hub.all]) ws.close();
  }
}
