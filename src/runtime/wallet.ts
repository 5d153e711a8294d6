// Held credits (docs/operations.md, "Maximum balance and held credits"): a payout or refund that
// would take a balance above FIVED_MAX_BALANCE is held by the store instead of credited. Here each
// one becomes an error log with a tag and a metric, once per store even when a gateway and the
// scheduler share it (`fived all`).

import type { Logger } from 'pino';
import { ErrorCode } from '../errors.js';
import type { Store } from '../store/types.js';
import { roomName } from '../config.js';
import { logTag, TAGS } from './log.js';
import { counter, type Registry } from './metrics.js';

const watched = new WeakSet<Store>();

export function watchHeldCredits(store: Store, registry: Registry, log: Logger): void {
  if (watched.has(store)) return;
  watched.add(store);
  const count = counter<'kind'>(registry, 'fived_wallet_held_total', 'payouts and refunds held instead of credited: they would pass FIVED_MAX_BALANCE (see fived wallet)', ['kind']);
  const amount = counter<'kind'>(registry, 'fived_wallet_held_minor_units_total', 'minor units held instead of credited (FIVED_MAX_BALANCE)', ['kind']);
  count.inc({ kind: 'payout' }, 0);
  count.inc({ kind: 'refund' }, 0);
  store.on('held', (info) => {
    count.inc({ kind: info.kind }, info.count);
    amount.inc({ kind: info.kind }, info.amount);
    logTag(log, 'error', TAGS.BALANCE_HELD, { room: roomName(info.period.duration), periodId: info.period.periodId, code: ErrorCode.BALANCE_LIMIT, kind: info.kind, amount: info.amount, users: info.count },
      `${info.count} ${info.kind}(s) of ${info.amount} held: they would pass the maximum balance (FIVED_MAX_BALANCE); see \`fived wallet\``);
  });
}
