// The gateway's Prometheus metrics, registered on the process registry (shared with the scheduler
// in `fived all`). Event-loop delay is sampled by a short timer's lateness: it is what ticks feel.

import type { Registry } from 'prom-client';
import { buildInfo, counter, gauge, histogram } from '../runtime/metrics.js';
import { fivedVersion } from '../version.js';

const LATENESS_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1] as const;
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

export function gatewayMetrics(registry: Registry) {
  buildInfo(registry, fivedVersion());
  return {
    connections: gauge(registry, 'fived_gateway_connections', 'open WebSocket connections'),
    // issue 15
    socketIoConnections: gauge(registry, 'fived_gateway_socketio_connections', 'open Socket.IO connections (the compatibility layer, docs/socketio.md)'),
    socketIoOpened: counter<'path'>(registry, 'fived_gateway_socketio_opened_total', 'Socket.IO connections admitted, by the path serving them: native (WebSocket opened directly, the gateway speaks the protocol) or package (polling and its upgrades, the socket.io package), docs/socketio.md', ['path']),
    subscriptions: gauge<'room'>(registry, 'fived_gateway_subscriptions', 'subscribed connections per room', ['room']),
    messagesIn: counter<'format'>(registry, 'fived_gateway_messages_in_total', 'WebSocket messages received', ['format']),
    messagesOut: counter<'kind'>(registry, 'fived_gateway_messages_out_total', 'WebSocket messages sent (a publish counts once per subscriber)', ['kind']),
    bets: counter<'outcome' | 'code'>(registry, 'fived_gateway_bets_total', 'bets by outcome and error code', ['outcome', 'code']),
    resultLag: histogram(registry, 'fived_gateway_result_delivery_lag_seconds', 'result publish time minus the period end', LAG_BUCKETS),
    // issue 18: end → the last result frame handed to the kernel on every socket (src/gateway/flush.ts)
    resultSent: histogram(registry, 'fived_gateway_result_sent_seconds', 'period end to the last result frame written to the kernel on every subscribed socket', LAG_BUCKETS),
    fallbacks: counter(registry, 'fived_gateway_fallback_total', 'periods whose result this gateway read or derived at the end (nothing held)'),
    tickLateness: histogram(registry, 'fived_gateway_tick_lateness_seconds', 'tick publish time minus its second boundary', LATENESS_BUCKETS),
    loopDelay: histogram(registry, 'fived_gateway_event_loop_delay_seconds', 'lateness of a 100 ms timer (event-loop delay)', LATENESS_BUCKETS),
    poolQueue: gauge(registry, 'fived_gateway_pool_queue_depth', 'compute tasks waiting for a pool thread'),
    settlements: counter<'how'>(registry, 'fived_gateway_settlements_total', 'settlements this gateway applied', ['how']),
    closes: counter<'code'>(registry, 'fived_gateway_closes_total', 'connections the gateway closed, by close code', ['code']),
    disconnects: counter<'code' | 'reason'>(registry, 'fived_gateway_disconnects_total', 'connections that ended without the gateway closing them, by the close code uWS reported and why (disconnectReason in ws.ts)', ['code', 'reason']),
    ready: gauge(registry, 'fived_gateway_ready', '1 when /ready answers 200'),
    refused: counter<'reason'>(registry, 'fived_gateway_refused_total', 'connections, requests and bets refused by a per-address or per-user limit, and operator token failures', ['reason']),
    resultMismatch: counter(registry, 'fived_gateway_result_mismatch_total', 'stored results that did not verify against their commitment (5D_RESULT_MISMATCH): never served; the period is voided with refunds'),
    errors: counter<'where'>(registry, 'fived_gateway_errors_total', 'unexpected errors caught', ['where']),
  };
}

export type GatewayMetrics = ReturnType<typeof gatewayMetrics>;

/** Samples event-loop delay every 100 ms; returns the stop function. */
export function sampleLoopDelay(m: GatewayMetrics): () => void {
  const every = 100;
  let expected = performance.now() + every;
  const t = setInterval(() => {
    const now = performance.now();
    m.loopDelay.observe(Math.max(0, now - expected) / 1000);
    expected = now + every;
  }, every);
  t.unref();
  return () => clearInterval(t);
}
