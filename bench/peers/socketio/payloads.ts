// The peer's event payloads: the same objects the gateway sends (src/protocol.ts), emitted as
// Socket.IO events named by their `type` ('period', 'tick', 'result', 'subscribed').
// test/bench-lib-peer.test.ts checks them against the protocol's types and the gateway's fields.

import type { PeriodMsg, ResultMsg, RoomInfo, TickMsg } from '../../../src/protocol.js';
import type { PeriodWindow } from '../../../src/core/types.js';
import type { StoredResult } from '../../../src/store/types.js';

export function roomInfo(room: string, w: PeriodWindow, commitment: string | null): RoomInfo {
  return { room, duration: w.duration, timeline: w.timeline, periodId: w.periodId, startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt, commitment };
}

export function periodPayload(room: string, w: PeriodWindow, commitment: string | null): PeriodMsg {
  return { type: 'period', ...roomInfo(room, w, commitment) };
}

/** A tick standing for the second boundary `boundary` of period w. */
export function tickPayload(room: string, w: PeriodWindow, boundary: number): TickMsg {
  return { type: 'tick', room, periodId: w.periodId, now: boundary, remainingMs: w.endsAt - boundary, phase: boundary < w.freezeAt ? 'betting' : 'frozen' };
}

export function resultPayload(room: string, w: PeriodWindow, r: StoredResult): ResultMsg {
  return {
    type: 'result', room, duration: w.duration, timeline: w.timeline, periodId: w.periodId,
    digits: r.digits, sum: r.sum, seed: r.seed, commitment: r.commitment, endsAt: w.endsAt,
  };
}
