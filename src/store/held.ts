// Held credits (payouts or refunds that would have passed FIVED_MAX_BALANCE) must be seen: both
// stores report them the same way, through their `held` event (the gateway and scheduler turn it
// into a 5D_BALANCE_HELD log line and metrics, src/runtime/wallet.ts), or, with nobody listening,
// as one error line of their own.

import type { EventEmitter } from 'node:events';
import type { PeriodRef } from '../core/types.js';
import { ErrorCode } from '../errors.js';
import type { HeldInfo } from './types.js';

/** Reports what one apply or refund pass held; nothing when it held nothing. */
export function reportHeld(events: EventEmitter, instance: string | undefined, kind: HeldInfo['kind'], period: PeriodRef, amount: number, count: number): void {
  if (count === 0) return;
  const info: HeldInfo = { kind, period: { duration: period.duration, timeline: period.timeline, periodId: period.periodId }, amount, count };
  if (events.listenerCount('held') > 0) events.emit('held', info);
  else console.error(JSON.stringify({ level: 'error', tag: '5D_BALANCE_HELD', code: ErrorCode.BALANCE_LIMIT, msg: `[5D_BALANCE_HELD] ${kind}s held: they would pass the maximum balance`, ...info, instance }));
}
