// Ports of the tests, benchmarks and chaos tools: free ones on loopback (never a fixed port, so
// runs side by side do not collide) and waiting for one to open.
import net from 'node:net';

/** A free TCP port on loopback, found by binding port 0 and releasing it. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') return reject(new Error('no port'));
      srv.close(() => resolve(addr.port));
    });
  });
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
