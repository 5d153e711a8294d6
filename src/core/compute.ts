// Everything computed for one period from its inputs: the draw from the committed seed, the
// settlement of every bet, and the exposure summary — one pass over the bet buffer. The worker
// (src/worker/task.ts) runs this off the main thread; tests run it in-process to compare.

import { ErrorCode, FivedError } from '../errors.js';
import { recordViews } from './betbuf.js';
import { drawDigits, drawMessage } from './draw.js';
import { emptyTotals, exposureSummary } from './exposure.js';
import { validatePaytable } from './rules.js';
import { settleViews, winMultipliers } from './settlement.js';
import type { BetSnapshot, DrawResult, ExposureSummary, Paytable, PeriodRef, SettlementSummary } from './types.js';

export interface PeriodComputation {
  draw: DrawResult;
  settlement: SettlementSummary;
  exposure: ExposureSummary;
}

/** Draw + settlement + exposure of a period. Validates every input before computing anything. */
export function computePeriod(seedHex: string, ref: PeriodRef, snapshot: BetSnapshot, paytable: Paytable): PeriodComputation {
  const message = drawMessage(ref);
  validatePaytable(paytable);
  if (typeof snapshot !== 'object' || snapshot === null || !Array.isArray(snapshot.users)) {
    throw new FivedError(ErrorCode.INVALID_BETS, 'bets must be { records: Uint8Array, users: string[] }');
  }
  const v = recordViews(snapshot.records); // settleViews validates every record in its one pass
  const draw = drawDigits(seedHex, message);
  const totals = emptyTotals();
  const settlement = settleViews(v, snapshot.users.length, winMultipliers(draw, paytable), paytable.feeBps, totals);
  return { draw, settlement, exposure: exposureSummary(totals, paytable) };
}
