// `fived verify ROOM PERIOD_ID --url`: against a real gateway (its own Redis, 3 s and 600 s rooms)
// a published result verifies (exit 0) and gives the digits its WebSocket `result` carried; wrong
// --digits or a wrong kept --commitment fail (exit 1, E_RESULT_MISMATCH); an unknown period, one
// not revealed yet and a void one fail (exit 1); a gateway that serves tampered digits or a seed
// that is not the committed one fails. Bad command lines exit 2.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPeriod } from '../src/core/clock.js';
import { DEFAULT_DAY_START } from '../src/core/types.js';
import { Client, gatewayEnv, getJson, operator, startGatewayProc, type GatewayProc, type Msg } from './support/gateway.js';
import { startRedis, testPrefix, type TestRedis } from './support/redis.js';
import { runFived } from './support/deploy.js';

const FAST = 'fiveD_3';
const SLOW = 'fiveD_600';

const fived = (args: string[]) => runFived(args, {}, 30_000);
let redis: TestRedis;
let gw: GatewayProc;
let client: Client;
let result: Msg; // a `result` the gateway sent on the WebSocket
let tamper: Server | null = null;


beforeAll(async () => {
  redis = await startRedis();
  gw = await startGatewayProc(gatewayEnv(redis.url, testPrefix('verify'), { FIVED_DURATIONS: '3,600' }));
  client = await Client.connect(gw.port, { format: 'text' });
  await client.next((m) => m.type === 'hello');
  client.send({ type: 'subscribe', rooms: [FAST, SLOW] });
  await client.next((m) => m.type === 'subscribed');
  result = await client.next((m) => m.type === 'result' && m.room === FAST, 15_000);
});

afterAll(async () => {
  client?.terminate();
  await new Promise<void>((resolve) => (tamper ? tamper.close(() => resolve()) : resolve()));
  await gw?.stop();
  await redis?.stop();
});

describe('fived verify ROOM PERIOD_ID --url', () => {
  it('verifies a published result: exit 0, the digits the WebSocket result carried', async () => {
    const id = result.periodId as string;
    const r = await fived(['verify', FAST, id, '--url', gw.url, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: true, room: FAST, periodId: id, message: `fiveD:3:default:${id}`, commitmentOk: true, digitsOk: true, digits: result.digits, sum: result.sum, seed: result.seed, commitment: result.commitment });
    expect(out.published).toEqual({ digits: result.digits, sum: result.sum });

    const text = await fived(['verify', FAST, id, `--url=${gw.url}/`, '--digits', (result.digits as number[]).join(','), '--commitment', result.commitment as string]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('commitment  OK: SHA-256(seed) matches');
    expect(text.stdout).toContain('digits      OK');
    expect(text.stdout).toMatch(/verified {4}OK\n$/);
  });

  it('fails on wrong --digits and on a kept --commitment that is not the served one (exit 1, E_RESULT_MISMATCH)', async () => {
    const id = result.periodId as string;
    const digits = result.digits as number[];
    const wrong = digits.map((d, i) => (i === 4 ? (d + 1) % 10 : d));
    const r = await fived(['verify', FAST, id, '--url', gw.url, '--digits', wrong.join(',')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`E_RESULT_MISMATCH: digits do not match: the gateway published ${digits.join('')}, you expected (--digits) ${wrong.join('')}`);
    expect(r.stdout).toMatch(/verified {4}FAILED/);
    const c = await fived(['verify', FAST, id, '--url', gw.url, '--commitment', '0'.repeat(64), '--json']);
    expect(c.code).toBe(1);
    expect(JSON.parse(c.stdout)).toMatchObject({ ok: false, commitmentOk: true, keptCommitmentOk: false, errors: [{ code: 'E_RESULT_MISMATCH' }] });
  });

  it('fails for an unknown period, a period not revealed yet and a void period (exit 1)', async () => {
    const unknown = await fived(['verify', FAST, '20200101000000001', '--url', gw.url]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/E_NOT_FOUND: .*no record of period 20200101000000001/);

    // the 600 s room's next period: committed ahead, not revealed for minutes (the current one
    // opened before this gateway started, so it is void)
    const cur = (await getJson(`${gw.url}/api/rooms`)).body.find((x: { room: string }) => x.room === SLOW);
    const next = nextPeriod(cur.periodId, { duration: 600, freezeMs: 1000, dayStart: DEFAULT_DAY_START });
    const early = await fived(['verify', SLOW, next.periodId, '--url', gw.url, '--json']);
    expect(early.code).toBe(1);
    expect(JSON.parse(early.stdout)).toMatchObject({ ok: false, errors: [{ code: 'E_TOO_EARLY' }] });
    expect(early.stderr).toContain(`period ${next.periodId} has no revealed result yet: status open`);

    const v = await getJson(`${gw.url}/api/rooms/${SLOW}/periods/${next.periodId}/void`, operator({ reason: 'verify test' }));
    expect(v.status).toBe(200);
    const voided = await fived(['verify', SLOW, next.periodId, '--url', gw.url]);
    expect(voided.code).toBe(1);
    expect(voided.stderr).toMatch(/E_PERIOD_VOID: period \d{17} is void \(verify test\)/);

    const room = await fived(['verify', 'fiveD_60', '20250101000000001', '--url', gw.url]);
    expect(room.code).toBe(1);
    expect(room.stderr).toMatch(/E_INVALID_ROOM: the gateway has no room fiveD_60 \(rooms: fiveD_3, fiveD_600\)/);
  });

  it('fails when a gateway serves digits the seed does not draw, or a seed that is not the committed one', async () => {
    const id = result.periodId as string;
    const real = (await getJson(`${gw.url}/api/rooms/${FAST}/periods/${id}`)).body;
    const rooms = (await getJson(`${gw.url}/api/rooms`)).body;
    let served: unknown = real;
    tamper = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(req.url === '/api/rooms' ? rooms : served));
    });
    await new Promise<void>((resolve) => tamper!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(tamper.address() as AddressInfo).port}`;
    // the untampered copy verifies: the failures below come from the tampering
    expect((await fived(['verify', FAST, id, '--url', url])).code).toBe(0);

    const digits = [...real.result.digits];
    digits[0] = (digits[0] + 5) % 10;
    served = { ...real, result: { ...real.result, digits, sum: digits.reduce((a: number, b: number) => a + b, 0) } };
    const d = await fived(['verify', FAST, id, '--url', url]);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain('E_RESULT_MISMATCH: digits do not match');
    expect(d.stdout).toContain('digits      MISMATCH');

    served = { ...real, commitment: real.commitment.replace(/^./, (c: string) => (c === '0' ? '1' : '0')) };
    const c = await fived(['verify', FAST, id, '--url', url]);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain('E_RESULT_MISMATCH: commitment does not match');

    // an ended, settled period whose result the gateway withholds (its stored result does not verify:
    // the view a gateway gives then, periodView): not "too early" but withheld, exit 1
    served = { ...real, status: 'settled', settled: true, result: null };
    const w = await fived(['verify', FAST, id, '--url', url, '--json']);
    expect(w.code).toBe(1);
    expect(JSON.parse(w.stdout)).toMatchObject({ ok: false, status: 'settled', withheld: true, errors: [{ code: 'E_RESULT_MISMATCH' }] });
    expect(w.stderr).toContain(`E_RESULT_MISMATCH: period ${id} has ended (status settled) but the gateway serves no result: it withholds a stored result that does not verify`);
    expect(w.stderr).not.toContain('E_TOO_EARLY');
  });

  it('refuses bad command lines with exit 2 and the usage', async () => {
    const id = result.periodId as string;
    const cases: Array<[string[], RegExp]> = [
      [['verify', FAST, id], /--url is required/],
      [['verify', FAST, '--url', gw.url], /give both ROOM and PERIOD_ID/],
      [['verify', 'room3', id, '--url', gw.url], /"room3" is not a room name/],
      [['verify', FAST, '2025', '--url', gw.url], /period id "2025" must be 17 digits/],
      [['verify', FAST, id, '--url', 'ftp://x'], /--url must be http:\/\/ or https:\/\//],
      [['verify', FAST, id, '--url', 'not a url'], /is not a URL/],
      [['verify', FAST, id, '--url', gw.url, '--seed', 'a'.repeat(64)], /--seed is read from the gateway/],
      [['verify', FAST, id, '--url', gw.url, '--digits', '1,2,3'], /--digits "1,2,3": expected the five published digits/],
      [['verify', FAST, id, 'extra', '--url', gw.url], /unexpected argument "extra"/],
    ];
    const runs = await Promise.all(cases.map(([args]) => fived(args)));
    runs.forEach((r, i) => {
      const [args, re] = cases[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(re);
      expect(r.stderr).toContain('usage: fived verify');
      expect(r.stdout).toBe('');
    });
  });
});
