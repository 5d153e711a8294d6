// Pure parts of the client SDK: backoff, codec, recovery cursor, server clock, result verification.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from '../packages/client/src/backoff.js';
import { decodeMessage, encodeMessage } from '../packages/client/src/codec.js';
import { gatewayUrl, newClientBetId } from '../packages/client/src/client.js';
import { PeriodBook } from '../packages/client/src/periods.js';
import { previousPeriodId, RecoveryCursor } from '../packages/client/src/recovery-cursor.js';
import { ServerClock } from '../packages/client/src/server-clock.js';
import { verifyResult } from '../packages/client/src/verify.js';
import { periodAt, periodById } from '../src/core/clock.js';
import { commitmentOf, drawDigits, drawMessage } from '../src/core/draw.js';
import { ErrorCode, isFivedError } from '../src/errors.js';
import type { ResultPayload } from '../src/protocol.js';
import { Packr } from 'msgpackr';

function makeResult(over: Partial<ResultPayload> = {}): ResultPayload {
  const seed = randomBytes(32).toString('hex');
  const ref = { duration: 60, timeline: 'default', periodId: '20250731000000007' };
  const d = drawDigits(seed, drawMessage(ref));
  return { room: 'fiveD_60', ...ref, digits: d.digits, sum: d.sum, seed, commitment: commitmentOf(seed), endsAt: 1_753_920_420_000, ...over };
}

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, jitter only shortens', () => {
    const opts = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, opts, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(2, opts, () => 0.999999)).toBe(200);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(3, opts);
      expect(d).toBeGreaterThanOrEqual(400);
      expect(d).toBeLessThanOrEqual(800);
    }
  });
  it('stays finite for huge attempt counts', () => {
    expect(backoffDelay(5000, DEFAULT_BACKOFF, () => 0)).toBe(DEFAULT_BACKOFF.maxMs);
  });
});

describe('codec', () => {
  it('round-trips msgpack and JSON, period ids stay strings', () => {
    const msg = { type: 'tick', room: 'fiveD_60', periodId: '20250731000000001', now: 1_753_920_001_000, remainingMs: 59_000, phase: 'betting' };
    const packed = new Packr({ useRecords: false }).pack(msg);
    expect(decodeMessage(packed)).toEqual(msg);
    expect(decodeMessage(packed.buffer.slice(packed.byteOffset, packed.byteOffset + packed.byteLength))).toEqual(msg);
    expect(decodeMessage(JSON.stringify(msg))).toEqual(msg);
    const enc = encodeMessage({ type: 'ping', id: 3 }, 'msgpack');
    expect(enc).toBeInstanceOf(Uint8Array);
    expect(decodeMessage(enc)).toEqual({ type: 'ping', id: 3 });
    expect(encodeMessage({ type: 'ping', id: 3 }, 'json')).toBe('{"type":"ping","id":3}');
  });
  it('rejects garbage with E_MALFORMED', () => {
    for (const bad of ['{', '[1,2]', '"x"', 'null', new Uint8Array([0xc1]), new Uint8Array([0x92, 1, 2]), 42, { type: 'x' }]) {
      let err: unknown;
      try {
        decodeMessage(bad);
      } catch (e) {
        err = e;
      }
      expect(isFivedError(err, ErrorCode.MALFORMED), String(bad)).toBe(true);
    }
  });
});

describe('helpers', () => {
  it('gatewayUrl maps http to ws and defaults the path to /ws', () => {
    expect(gatewayUrl('http://localhost:3000')).toBe('ws://localhost:3000/ws');
    expect(gatewayUrl('https://x.example')).toBe('wss://x.example/ws');
    expect(gatewayUrl('ws://h:1/custom?a=1')).toBe('ws://h:1/custom?a=1');
  });
  it('newClientBetId is 32 hex chars and unique', () => {
    const ids = new Set(Array.from({ length: 100 }, newClientBetId));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('recovery cursor', () => {
  it('previousPeriodId steps back within a day and across days, months and leap years', () => {
    expect(previousPeriodId('20250731000000007', 60)).toBe('20250731000000006');
    expect(previousPeriodId('20250801000000001', 60)).toBe('20250731000001440');
    expect(previousPeriodId('20240301000000001', 5)).toBe('20240229000017280');
    expect(previousPeriodId('20250101000000001', 600)).toBe('20241231000000144');
    expect(() => previousPeriodId('2025', 60)).toThrow();
  });
  it('starts before the first period seen and only moves forward on outcomes', () => {
    const c = new RecoveryCursor();
    expect(c.since(['fiveD_60'])).toBeUndefined();
    c.sawPeriod('fiveD_60', '20250731000000010', 60);
    expect(c.get('fiveD_60')).toBe('20250731000000009');
    c.sawPeriod('fiveD_60', '20250731000000011', 60); // a period start does not move an existing cursor
    expect(c.get('fiveD_60')).toBe('20250731000000009');
    c.sawOutcome('fiveD_60', '20250731000000010');
    c.sawOutcome('fiveD_60', '20250731000000008');
    expect(c.since(['fiveD_60', 'fiveD_180'])).toEqual({ fiveD_60: '20250731000000010' });
  });
});

describe('server clock', () => {
  it('keeps the largest lower bound of server − local over a window', () => {
    let local = 1000;
    const clock = new ServerClock(() => local);
    expect(clock.synced).toBe(false);
    expect(clock.now()).toBe(1000);
    clock.observe(5000, 1010); // 3990
    clock.observe(5000, 1050); // 3950 (more latency)
    expect(clock.offset).toBe(3990);
    local = 2000;
    expect(clock.now()).toBe(5990);
    for (let i = 0; i < 40; i++) clock.observe(i, 0); // the old samples leave the window
    expect(clock.offset).toBe(39);
    clock.reset();
    expect(clock.offset).toBe(0);
  });
});

describe('verifyResult (WebCrypto path, same digits as the core)', () => {
  it('accepts a genuine result', async () => {
    const r = makeResult();
    const v = await verifyResult(r, r.commitment);
    expect(v).toMatchObject({ verified: true, commitmentOk: true, digitsOk: true, announcedOk: true });
    expect(v.expected?.digits).toEqual(r.digits);
  });
  it('flags changed digits, a changed sum, a foreign seed, a swapped commitment', async () => {
    const r = makeResult();
    const flipped = r.digits.map((d, i) => (i === 2 ? (d + 1) % 10 : d)) as ResultPayload['digits'];
    const cases: Array<[ResultPayload, string | null, Partial<Awaited<ReturnType<typeof verifyResult>>>]> = [
      [{ ...r, digits: flipped, sum: flipped.reduce((a, b) => a + b, 0) }, null, { digitsOk: false, commitmentOk: true }],
      [{ ...r, sum: r.sum + 1 }, null, { digitsOk: false }],
      [{ ...r, seed: randomBytes(32).toString('hex') }, null, { commitmentOk: false }],
      [r, commitmentOf(randomBytes(32).toString('hex')), { announcedOk: false, commitmentOk: true, digitsOk: true }],
      [{ ...r, periodId: '20250731000000008' }, null, { digitsOk: false }],
    ];
    for (const [res, announced, expected] of cases) {
      const v = await verifyResult(res, announced);
      expect(v.verified).toBe(false);
      expect(v.reason).toBeTruthy();
      expect(v).toMatchObject(expected);
    }
  });
  it('never throws on malformed input', async () => {
    const r = makeResult();
    for (const res of [{ ...r, seed: 'zz' }, { ...r, commitment: 'x' }, { ...r, periodId: '1' }, { ...r, duration: 7 }]) {
      const v = await verifyResult(res as ResultPayload);
      expect(v.verified).toBe(false);
      expect(v.reason).toMatch(/E_/);
    }
  });
});

describe('recovery cursor: unsubscribe', () => {
  it('forget drops the room so a later subscription asks for no recovery', () => {
    const c = new RecoveryCursor();
    c.sawOutcome('fiveD_60', '20250731000000010');
    c.forget('fiveD_60');
    expect(c.since(['fiveD_60'])).toBeUndefined();
  });
});

describe('period book: what the announcements said', () => {
  it('derives any period\'s window from its id and one announcement, whatever the day start', () => {
    const spec = { duration: 180, freezeMs: 5000, dayStart: { minutes: 90, offsetMinutes: 480 } };
    const cur = periodAt(1_753_920_000_000, spec, 'tl-2');
    const book = new PeriodBook();
    expect(book.windowOf('fiveD_180', cur.periodId)).toBeNull(); // nothing announced yet
    expect(book.learn({ room: 'fiveD_180', ...cur, commitment: 'AB'.repeat(32) })).toBeNull();
    expect(book.room('fiveD_180')).toMatchObject({ duration: 180, timeline: 'tl-2' });
    for (const id of [cur.periodId, '20250731000000001', '20250801000000480', '20240229000000007']) {
      const w = periodById(id, spec, 'tl-2');
      expect(book.windowOf('fiveD_180', id)).toEqual({ startsAt: w.startsAt, endsAt: w.endsAt });
    }
    expect(book.windowOf('fiveD_180', '20250731000000481')).toBeNull(); // seq beyond the day
    expect(book.windowOf('fiveD_180', 5)).toBeNull();
  });
  it('keeps the first commitment; a different one later is reported and marks the period', () => {
    const book = new PeriodBook();
    const base = { room: 'fiveD_60', duration: 60, timeline: 'default', periodId: '20250731000000010', startsAt: 0, freezeAt: 55_000, endsAt: 60_000 };
    book.learn({ ...base, commitment: null }); // opened late: no commitment yet
    expect(book.learn({ ...base, commitment: 'AA'.repeat(32) })).toBeNull();
    expect(book.learn({ ...base, commitment: 'aa'.repeat(32) })).toBeNull(); // the same, in other case
    expect(book.learn({ ...base, commitment: 'bb'.repeat(32) })).toMatch(/commitment changed after it was announced/);
    expect(book.announced('fiveD_60', base.periodId)).toMatchObject({ commitment: 'aa'.repeat(32), changed: true });
    expect(book.learn({ ...base, periodId: '20250731000000011', commitment: 'cc'.repeat(32) })).toBeNull();
    expect(book.learn({ ...base, periodId: '20250731000000011', timeline: 'other', commitment: 'cc'.repeat(32) })).toMatch(/timeline changed/);
  });
});
