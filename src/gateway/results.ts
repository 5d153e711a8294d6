// Results: held in memory when the scheduler announces them (5d_precalc:completed), published at
// the period's end — never before — once per room, encoded once per format. With nothing held the
// gateway falls back: the stored result if any, else one HMAC over the committed seed stored with
// NX, and it publishes whichever result the store kept (two gateways deliver the same one).

import { roomName } from '../core/ids.js';
import { ErrorCode, FivedError } from '../errors.js';
import { CloseCode, ServerType, type ResultPayload } from '../protocol.js';
import { parseCompleted } from '../runtime/bus.js';
import { logTag, TAGS } from '../runtime/log.js';
import { assertResultVerifies, deriveResultAtEnd, unsealVoidReason } from '../runtime/compute.js';
import { at, sleep } from '../runtime/clock.js';
import type { StoredResult } from '../store/types.js';
import { MISMATCH_REASON, rejectResult } from '../runtime/reconcile.js';
import type { PeriodWindow } from '../core/types.js';
import { background, revealAt, revealed, type GatewayContext } from './context.js';
import type { PeriodState, Periods } from './periods.js';

export function resultPayload(s: PeriodState, r: StoredResult): ResultPayload {
  return {
    room: s.room.name, duration: r.duration, timeline: r.timeline, periodId: r.periodId,
    digits: [...r.digits] as ResultPayload['digits'], sum: r.sum, seed: r.seed, commitment: r.commitment, endsAt: s.w.endsAt,
  };
}

export class Results {
  constructor(
    private readonly ctx: GatewayContext,
    private readonly periods: Periods,
    /** called once a period's result is out (or it turned void): settlement follows */
    private readonly onEnded: (s: PeriodState) => void,
    /** a period found void at its end */
    private readonly onVoid: (s: PeriodState, reason: string) => void,
  ) {}

  /** A completion notice: read the result key, verify it against what we announced, hold it. */
  onCompleted(message: unknown): void {
    const m = parseCompleted(message);
    if (!m || m.timeline !== this.ctx.cfg.timeline) return;
    const s = this.periods.get(m.duration, m.periodId);
    if (!s || s.delivered || s.status === 'void') return;
    logTag(this.ctx.logger, 'debug', TAGS.PRECALC_COMPLETED, { room: s.room.name, periodId: m.periodId }, 'completion received; holding the result until the end');
    background(this.ctx, 'hold-result', async () => {
      const r = await this.ctx.store.getResult(s.w);
      if (!r || s.delivered) return;
      try {
        s.held = assertResultVerifies(r, s.commitment ?? undefined);
      } catch (err) {
        // not held: the fallback at the end re-reads and verifies, and refuses a bad result again
        this.ctx.logger.error({ err, room: s.room.name, periodId: s.w.periodId }, 'announced result does not verify; not holding it');
      }
    });
  }

  /** The end timer fired (now >= endsAt). */
  atEnd(s: PeriodState): void {
    if (s.ending || s.delivered) return;
    if (s.status === 'void') return;
    if (!revealed(this.ctx, s.w.endsAt)) {
      // this clock runs ahead of the store's: wait out the lead so no client sees the result early
      s.cancels.push(at(this.ctx.clock, revealAt(this.ctx, s.w.endsAt), () => this.atEnd(s)));
      return;
    }
    s.ending = true;
    if (s.held) {
      this.deliver(s, s.held);
      return;
    }
    this.ctx.metrics.fallbacks.inc();
    background(this.ctx, 'fallback', async () => {
      try {
        await this.fallback(s);
      } finally {
        s.ending = false;
      }
    });
  }

  private async fallback(s: PeriodState): Promise<void> {
    const { store, clock, cfg } = this.ctx;
    for (let attempt = 0; ; attempt++) {
      try {
        if (s.delivered || s.status === 'void') return;
        if (s.held) {
          this.deliver(s, s.held);
          return;
        }
        const rec = await store.getPeriod(s.w);
        if (rec.status === 'void') {
          this.onVoid(s, rec.voidReason ?? 'voided');
          return;
        }
        const kept = await deriveResultAtEnd(store, s.w, { instance: cfg.instance, host: cfg.host, pid: process.pid, source: 'gateway' }, clock.now());
        if (!kept) {
          this.onVoid(s, 'no commitment before the period opened');
          return;
        }
        logTag(this.ctx.logger, kept.stored ? 'warn' : 'info', TAGS.FALLBACK, { room: s.room.name, periodId: s.w.periodId, stored: kept.stored },
          kept.stored ? 'no result at the end: derived it from the committed seed' : 'no result held at the end: read the stored one');
        const r = assertResultVerifies(kept.result, s.commitment ?? undefined);
        if (!s.delivered) this.deliver(s, r);
        return;
      } catch (err) {
        if (err instanceof FivedError && err.code === ErrorCode.RESULT_MISMATCH) {
          // never publish a result that does not verify, and never leave the period stuck: void it
          if (await rejectStoredResult(this.ctx, s.w, err)) this.onVoid(s, MISMATCH_REASON);
          return;
        }
        const unsealable = unsealVoidReason(err);
        if (unsealable !== null) {
          // the seed's key is not configured here (or the sealed seed was tampered with): no fair
          // result can ever come from it, so the period is void at its end rather than stuck
          this.ctx.logger.error({ err, room: s.room.name, periodId: s.w.periodId }, 'sealed seed cannot be opened: voiding the period');
          this.onVoid(s, unsealable);
          return;
        }
        if (attempt >= 20 || this.ctx.draining) throw err;
        this.ctx.logger.warn({ err, room: s.room.name, periodId: s.w.periodId, attempt }, 'result fallback failed; retrying');
        await sleep(250);
      }
    }
  }

  /** Publishes, then settlement follows; a result refused as too early is held and retried. */
  private deliver(s: PeriodState, r: StoredResult): void {
    if (this.publish(s, r)) {
      this.onEnded(s);
      return;
    }
    s.held = r;
    s.ending = false;
    s.cancels.push(at(this.ctx.clock, revealAt(this.ctx, s.w.endsAt), () => this.atEnd(s)));
  }

  /** Publishes RESULT to the room at (never before) the end; closes clients too slow to get it. */
  publish(s: PeriodState, r: StoredResult): boolean {
    const { clock, hub, cfg, metrics } = this.ctx;
    const now = clock.now();
    if (!revealed(this.ctx, s.w.endsAt, now)) {
      // unreachable by construction (the end timer re-checks the clock): refuse rather than leak
      this.ctx.logger.warn({ room: s.room.name, periodId: s.w.periodId, now, endsAt: s.w.endsAt, skewMs: this.ctx.skewMs }, 'not publishing a result before the end (clock ahead of the store)');
      return false;
    }
    const payload = resultPayload(s, r);
    s.delivered = payload;
    s.held = null;
    this.periods.wake(s);
    const msg = { type: ServerType.RESULT, ...payload } as const;
    // uWS publish skips sockets over the backpressure limit without telling: find them first, and
    // close them after publishing so they reconnect and recover the result with `since`.
    const frameBytes = Math.max(JSON.stringify(msg).length, 256);
    const lagging = hub.laggards(s.room.name, cfg.maxBackpressureBytes, frameBytes);
    hub.broadcast(s.room.name, msg);
    for (const ws of lagging) hub.close(ws, CloseCode.BACKPRESSURE, 'too slow to receive the result: reconnect and recover');
    metrics.resultLag.observe(Math.max(0, clock.now() - s.w.endsAt) / 1000);
    // issue 18: when the frame has left for the kernel on every socket (performance clock → epoch)
    const perfToEpoch = clock.now() - performance.now();
    hub.whenFlushed(s.room.name, (flushedAt) => metrics.resultSent.observe(Math.max(0, flushedAt + perfToEpoch - s.w.endsAt) / 1000));
    this.periods.remember(s.room.name, payload);
    logTag(this.ctx.logger, 'info', TAGS.PERIOD_END, { room: roomName(s.w.duration), periodId: s.w.periodId, lagMs: now - s.w.endsAt, lagging: lagging.length }, 'result published');
    return true;
  }
}

/**
 * A stored result that does not verify against its commitment (rule 1, issue 12 row 10): never
 * served; the period is voided with refunds (the store re-verifies before it voids) and every
 * gateway told. Logged with 5D_RESULT_MISMATCH and counted. Returns false when it could not be
 * voided because its settlement was already applied: an alert for the operators.
 */
export async function rejectStoredResult(ctx: GatewayContext, w: PeriodWindow, cause: unknown): Promise<boolean> {
  ctx.metrics.resultMismatch.inc();
  const f = { room: roomName(w.duration), periodId: w.periodId, err: cause };
  try {
    const { refunded } = await rejectResult(ctx.store, w);
    logTag(ctx.logger, 'error', TAGS.RESULT_MISMATCH, { ...f, refunded }, 'stored result does not verify against the commitment: not served; period voided, bets refunded');
    return true;
  } catch (err) {
    if (err instanceof FivedError && err.code === ErrorCode.ALREADY_RESULTED) return false; // it verifies after all (read twice): nothing to do
    logTag(ctx.logger, 'error', TAGS.RESULT_MISMATCH, { ...f, err, alert: true }, 'stored result does not verify against the commitment and the period could not be voided: not served; operator action needed');
    return false;
  }
}
