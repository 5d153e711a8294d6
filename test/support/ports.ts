// Ports of the tests, benchmarks and chaos tools: free ones on loopback (never a fixed port, so
// runs side by side do not collide) and waiting for one to open.
import { readFileSync } from 'node:fs';
import net from 'node:net';

/**
 * The kernel's range for the local ports of outgoing connections (ip_local_port_range). A port
 * found there by binding port 0 can be taken by any client socket of a test running beside this
 * one (the HTTP fuzzer opens thousands a second) before the server we start binds it: a clean-clone
 * run saw a gateway fail with E_LISTEN_FAILED that way. Servers' ports are picked below it.
 */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi)) return [lo!, hi!];
  } catch {
    // not Linux: the usual IANA range
  }
  return [49152, 65535];
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A free TCP port on loopback, outside the ephemeral range, picked at random (runs side by side rarely pick the same one). */
export async function freePort(): Promise<number> {
  const [lo] = ephemeralRange();
  const [from, to] = lo > 12_000 ? [10_000, lo - 1] : [61_000, 65_000];
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = from + Math.floor(Math.random() * (to - from + 1));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port between ${from} and ${to} after 200 tries`);
}

/** Whether a TCP connect to host:port succeeds now. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Resolves when a TCP connect to host:port succeeds, polling on connection errors. */
export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await portOpen(port, host)) return;
    if (Date.now() > deadline) throw new Error(`port ${host}:${port} did not open within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `n` consecutive free loopback ports (the cluster script numbers gateways from a base port). */
export async function freeConsecutivePorts(n: number, avoid: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000); // below the ephemeral range
    const range = Array.from({ length: n }, (_, i) => base + i);
    if (range.some((p) => avoid.has(p))) continue;
    const ok = await Promise.all(range.map((p) => canBind(p)));
    if (ok.every(Boolean)) return base;
  }
  throw new Error(`no ${n} consecutive free ports found`);
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
