// Shared by the gateway tests: gateway processes (`fived gateway`, fived.ts) stopped by pid,
// WebSocket clients (the `ws` package) that record every message with the time it arrived, HTTP
// helpers and player tokens.
import { SignJWT } from 'jose';
import { Packr, Unpackr } from 'msgpackr';
import WebSocket from 'ws';
import { startFived, waitHttpOk } from './fived.js';
import { freePort } from './ports.js';
import { TEST_SEED_KEY } from './redis.js';

export { REPO } from './fived.js';
export const JWT_SECRET = 'gateway-test-secret-0123456789';
export const OPERATOR_TOKEN = 'operator-test-token-0123456789abcdef'; // >= 32 characters (config)

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

export interface GatewayProc {
  port: number;
  pid: number;
  url: string;
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after a bound; resolves with the exit code */
  stop(timeoutMs?: number): Promise<number | null>;
}

export async function startGatewayProc(env: Record<string, string>, opts: { waitHealthy?: boolean } = {}): Promise<GatewayProc> {
  const port = await freePort();
  const p = startFived(`gw-${port}`, ['gateway'], {
    env: {
      PATH: process.env.PATH ?? '',
      FIVED_PORT: String(port),
      FIVED_HOST: '127.0.0.1',
      FIVED_JWT_SECRET: JWT_SECRET,
      FIVED_OPERATOR_TOKEN: OPERATOR_TOKEN,
      FIVED_SEED_KEY: TEST_SEED_KEY,
      FIVED_LOG_LEVEL: 'info',
      FIVED_INSTANCE: `gw-${port}`,
      // every test client comes from 127.0.0.1 and many tests bet fast: per-address limits and the
      // per-user bet rate off here (0); the limit tests (gateway-limits.test.ts) set their own
      FIVED_MAX_CONNS_PER_IP: '0',
      FIVED_HTTP_RATE_PER_IP: '0',
      FIVED_USER_BET_RATE: '0',
      ...env,
    },
    graceMs: 15_000,
  });
  const exited = p.exited.then((e) => e.code);
  const proc: GatewayProc = {
    port,
    pid: p.pid,
    url: `http://127.0.0.1:${port}`,
    output: () => p.output(),
    exited,
    stop: async (timeoutMs = 15_000) => (await p.stop(timeoutMs)).code,
  };
  if (opts.waitHealthy !== false) {
    try {
      await waitHttpOk(p, port, '/health', 20_000);
    } catch (err) {
      await proc.stop();
      throw err;
    }
  }
  return proc;
}

export async function token(userId: string, ttlS = 3600, secret = JWT_SECRET): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setIssuedAt(now).setExpirationTime(now + ttlS).sign(new TextEncoder().encode(secret));
}

export type Msg = Record<string, unknown> & { type: string };

export interface Received {
  msg: Msg;
  at: number; // Date.now() on receipt
}

export interface ConnectOptions { token?: string; via?: 'protocol' | 'query'; format?: 'binary' | 'text'; origin?: string; protocols?: string[]; hello?: boolean }

export class Client {
  readonly received: Received[] = [];
  closeCode: number | null = null;
  closeReason = '';
  readonly closed: Promise<number>;
  private waiters: Array<{ pred: (m: Msg) => boolean; resolve: (m: Msg) => void; from: number }> = [];

  private constructor(readonly ws: WebSocket, readonly format: 'binary' | 'text') {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve(code);
      });
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const msg = (isBinary ? unpackr.unpack(data) : JSON.parse(data.toString())) as Msg;
      this.received.push({ msg, at: Date.now() });
      this.waiters = this.waiters.filter((w) => {
        if (w.pred(msg)) {
          w.resolve(msg);
          return false;
        }
        return true;
      });
    });
  }

  /**
   * Connects and waits for the gateway's HELLO. uWS 20.30 can close a socket it has just upgraded,
   * before its HELLO (docs/reliability.md 1g: counted as `upgrade_dropped`); a client then
   * reconnects, as the SDK does, and so does this one (at most 3 attempts). `hello: false` for a
   * server that sends none (a bare hub in gateway-uws).
   */
  static async connect(port: number, opts: ConnectOptions = {}): Promise<Client> {
    for (let attempt = 1; ; attempt++) {
      const c = await Client.open(port, opts);
      if (opts.hello === false) return c;
      const first = await Promise.race([
        c.next((m) => m.type === 'hello', 10_000).then(() => 'hello', () => 'no hello'),
        c.closed.then(() => 'closed'),
      ]);
      if (first === 'hello') return c;
      if (first === 'no hello' || attempt >= 3) throw new Error(`no HELLO from the gateway (attempt ${attempt}: ${first}, close ${c.closeCode} ${c.closeReason})`);
    }
  }

  private static async open(port: number, opts: ConnectOptions): Promise<Client> {
    const format = opts.format ?? 'binary';
    const q = new URLSearchParams();
    if (format === 'text') q.set('format', 'json');
    let protocols: string[] | undefined = opts.protocols;
    if (opts.token) {
      if (opts.via === 'query') q.set('token', opts.token);
      else protocols = ['fived', `fived.jwt.${opts.token}`];
    }
    const qs = q.toString();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${qs ? `?${qs}` : ''}`, protocols, opts.origin ? { origin: opts.origin } : {});
    const c = new Client(ws, format);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    return c;
  }

  send(msg: unknown): void {
    if (this.format === 'binary') this.ws.send(packr.pack(msg));
    else this.ws.send(JSON.stringify(msg));
  }

  raw(data: Buffer | string, binary: boolean): void {
    this.ws.send(data, { binary });
  }

  /** The first message (already received from index `from` on, or future) matching pred. */
  next(pred: (m: Msg) => boolean, timeoutMs = 10_000, from = 0): Promise<Msg> {
    const have = this.received.slice(from).find((r) => pred(r.msg));
    if (have) return Promise.resolve(have.msg);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (m: Msg) => { clearTimeout(t); resolve(m); }, from };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no matching message within ${timeoutMs} ms; last: ${JSON.stringify(this.received.slice(-3).map((r) => r.msg))}${this.closeCode !== null ? `; the socket closed (${this.closeCode} ${this.closeReason})` : ''}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Sends a request with an id and waits for the reply with that id. */
  async request(msg: Record<string, unknown>, timeoutMs = 10_000): Promise<Msg> {
    const id = `r${Math.random().toString(36).slice(2)}`;
    const from = this.received.length;
    this.send({ ...msg, id });
    return this.next((m) => m.id === id, timeoutMs, from);
  }

  of(type: string): Received[] {
    return this.received.filter((r) => r.msg.type === type);
  }

  close(): void {
    this.ws.close();
  }

  terminate(): void {
    this.ws.terminate();
  }
}

/**
 * A parsed JSON response body as the assertions read it: untyped on purpose (each test states the
 * shape it expects with `expect`), the one place the tests allow `any`.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above; a JSON body read by assertions
export type JsonBody = any;

export async function getJson(url: string, init: RequestInit = {}): Promise<{ status: number; body: JsonBody }> {
  const r = await fetch(url, init);
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: r.status, body };
}

export function operator(body?: unknown, method = 'POST'): RequestInit {
  return {
    method,
    headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
}

export async function credit(gw: GatewayProc, userId: string, amount: number): Promise<number> {
  const r = await getJson(`${gw.url}/api/wallet/credit`, operator({ userId, amount, depositId: `dep-${userId}-${amount}-${Math.random()}` }));
  if (r.status !== 200) throw new Error(`credit failed: ${JSON.stringify(r.body)}`);
  return r.body.balance as number;
}

export function gatewayEnv(redisUrl: string, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return { FIVED_REDIS_URL: redisUrl, FIVED_SEED_KEY: TEST_SEED_KEY, FIVED_KEY_PREFIX: prefix, FIVED_DURATIONS: '3', FIVED_FREEZE_MS: '1000', FIVED_SETTLE_GRACE_MS: '1000', ...extra };
}

/** Its own Redis, two gateways on it, and a store on the same prefix for the test's own reads. */
export interface TwoGateways {
  redis: import('./redis.js').TestRedis;
  prefix: string;
  gwA: GatewayProc;
  gwB: GatewayProc;
  store: import('../../src/store/types.js').Store;
}

export async function startTwoGateways(name: string): Promise<TwoGateways> {
  const { startRedis, testPrefix } = await import('./redis.js');
  const { createStore } = await import('../../src/store/index.js');
  const redis = await startRedis();
  const prefix = testPrefix(name);
  const [gwA, gwB] = await Promise.all([startGatewayProc(gatewayEnv(redis.url, prefix)), startGatewayProc(gatewayEnv(redis.url, prefix))]);
  const store = createStore({ redisUrl: redis.url, keyPrefix: prefix, seedKey: TEST_SEED_KEY });
  await store.init();
  return { redis, prefix, gwA, gwB, store };
}

/** Stops what startTwoGateways started (any part may be missing after a failed start), and the clients. */
export async function stopTwoGateways(t: Partial<TwoGateways> | undefined, clients: Client[]): Promise<void> {
  for (const c of clients) c.terminate();
  await Promise.all([t?.gwA?.stop(), t?.gwB?.stop()]);
  await t?.store?.close();
  await t?.redis?.stop();
}
