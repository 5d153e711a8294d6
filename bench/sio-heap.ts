// What one connection of the native Socket.IO path holds (docs/socketio.md "Two paths",
// docs/benchmarks.md "The native WebSocket path"): a `fived all` process (memory store), K bare
// WebSockets that open `/socket.io/?EIO=4&transport=websocket`, CONNECT with a token and
// `joinGame`; the live heap (sum of a heap snapshot's self sizes; V8 runs a full GC before writing
// one) and the RSS, before and after. Prints `RESULT {native_heap_kb_per_conn, native_rss_kb_per_conn}`
// and writes bench/results/sio-heap.json.
// env: FIVED_BENCH_CLIENTS (3000)
// run: npm run build && npx tsx bench/sio-heap.ts

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { startFived } from '../test/support/fived.js';
import { freePort } from '../test/support/ports.js';
import { stopAllOnExit } from '../test/support/procs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const K = Number(process.env.FIVED_BENCH_CLIENTS ?? 3000);
const SECRET = 'sio-heap-bench-secret-0123456789';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

/** The live heap of `child` in bytes: a snapshot on SIGUSR2 (--heapsnapshot-signal), summed. */
async function liveHeap(child: ChildProcess, dir: string): Promise<number> {
  const before = new Set(readdirSync(dir));
  child.kill('SIGUSR2');
  let file: string | undefined;
  while (!file) {
    await sleep(300);
    file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
  }
  for (let size = -1; ;) { // written when its size stops changing
    await sleep(500);
    const now = statSync(path.join(dir, file)).size;
    if (now === size && now > 0) break;
    size = now;
  }
  const snap = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { snapshot: { meta: { node_fields: string[] } }; nodes: number[] };
  rmSync(path.join(dir, file));
  const fields = snap.snapshot.meta.node_fields;
  let total = 0;
  for (let i = fields.indexOf('self_size'); i < snap.nodes.length; i += fields.length) total += snap.nodes[i]!;
  return total;
}

/** K native connections, each CONNECTed and in the room; at most 50 handshakes at once. */
async function openClients(port: number, token: string): Promise<WebSocket[]> {
  const socks: WebSocket[] = [];
  let started = 0;
  let joined = 0;
  await new Promise<void>((resolve, reject) => {
    const next = () => {
      if (started >= K) return;
      started += 1;
      const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
      socks.push(ws);
      ws.on('error', reject);
      ws.on('message', (d) => {
        const f = String(d);
        if (f[0] === '0') ws.send(`40${JSON.stringify({ token })}`);
        else if (f.startsWith('40')) ws.send('42["joinGame",{"gameType":"fiveD","duration":60}]');
        else if (f === '2') ws.send('3');
        else if (f.startsWith('42["joinedGame"')) {
          joined += 1;
          if (joined === K) resolve();
          next();
        }
      });
    };
    for (let i = 0; i < 50; i++) next();
  });
  return socks;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-sio-heap-'));
  const port = await freePort();
  stopAllOnExit('bench');
  const proc = startFived('sio-heap', ['all'], {
    nodeArgs: ['--heapsnapshot-signal=SIGUSR2'], cwd: dir, quiet: true,
    env: { PATH: process.env.PATH ?? '', HOME: dir, FIVED_PORT: String(port), FIVED_HOST: '127.0.0.1', FIVED_LOG_LEVEL: 'error', FIVED_JWT_SECRET: SECRET, FIVED_DURATIONS: '60', FIVED_MAX_CONNS_PER_IP: '0', FIVED_MAX_SOCKETS_PER_USER: '0' },
  });
  const child = proc.child;
  try {
    for (let i = 0; i < 150 && !(await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)); i++) await sleep(200);
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ userId: 4242 }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now).setExpirationTime(now + 3600).sign(new TextEncoder().encode(SECRET));
    await sleep(1000);
    const heap0 = await liveHeap(child, dir);
    const rss0 = rssKb(child.pid!);
    const socks = await openClients(port, token);
    await sleep(2000);
    const heap1 = await liveHeap(child, dir);
    const rss1 = rssKb(child.pid!);
    for (const s of socks) s.terminate();
    const result = { clients: K, native_heap_kb_per_conn: +((heap1 - heap0) / 1024 / K).toFixed(2), native_rss_kb_per_conn: +((rss1 - rss0) / K).toFixed(2) };
    writeFileSync(path.join(here, 'results', 'sio-heap.json'), JSON.stringify({ at: new Date().toISOString(), ...result }, null, 2) + '\n');
    console.log(`RESULT ${JSON.stringify(result)}`);
  } finally {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
