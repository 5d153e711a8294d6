// The Lua scripts: read from src/store/lua at load time (they are not compiled; the folder is found
// from src/store and from dist/store alike), registered once per connection with defineCommand,
// and called through one typed function. Negative script returns become coded errors here, in
// one place (LUA_ERRORS).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { ErrorCode, FivedError } from '../errors.js';

/** The Lua folder beside this module: src/store/lua, or dist/store/lua (copied by scripts/build-assets.mjs). */
export const LUA_DIR = fileURLToPath(new URL('./lua/', import.meta.url));

/** keys: the script's fixed key count, or null when it varies per call (runScript then passes numkeys). */
export const SCRIPTS = {
  fivedCommit: { file: 'commit.lua', keys: 1 },
  fivedBetBatch: { file: 'bet_batch.lua', keys: null }, // 14 + 3 per distinct user of the batch
  fivedFreeze: { file: 'freeze.lua', keys: 3 },
  fivedResult: { file: 'result.lua', keys: 3 },
  fivedSettleSave: { file: 'settle_save.lua', keys: 7 },
  fivedSettleApply: { file: 'settle_apply.lua', keys: 13 },
  fivedVoidStart: { file: 'void_start.lua', keys: 3 },
  fivedVoidRejected: { file: 'void_rejected.lua', keys: 4 },
  fivedVoidRefund: { file: 'void_refund.lua', keys: 11 },
  fivedLeaseAcquire: { file: 'lease_acquire.lua', keys: 2 },
  fivedLeaseRenew: { file: 'lease_renew.lua', keys: 2 },
  fivedLeaseRelease: { file: 'lease_release.lua', keys: 1 },
  fivedCredit: { file: 'credit.lua', keys: 7 },
  fivedDebit: { file: 'debit.lua', keys: 7 },
  fivedLedgerPage: { file: 'ledger_page.lua', keys: 2 },
  fivedLedgerFloor: { file: 'ledger_floor.lua', keys: 2 },
  fivedLiability: { file: 'liability.lua', keys: 0 },
  fivedClaim: { file: 'claim.lua', keys: 1 },
} as const satisfies Record<string, { file: string; keys: number | null }>;

export type ScriptName = keyof typeof SCRIPTS;
export type ScriptArg = string | number | Buffer;

/** Script return codes < 0 → error codes. */
export const LUA_ERRORS: Record<number, ErrorCode> = {
  [-1]: ErrorCode.PERIOD_VOID,
  [-2]: ErrorCode.NOT_COMMITTED,
  [-3]: ErrorCode.PERIOD_FROZEN,
  [-4]: ErrorCode.PERIOD_NOT_OPEN,
  [-5]: ErrorCode.PERIOD_CLOSED,
  [-6]: ErrorCode.USER_LIMIT,
  [-7]: ErrorCode.LIABILITY_LIMIT,
  [-8]: ErrorCode.INSUFFICIENT_FUNDS,
  [-9]: ErrorCode.DUPLICATE_CONFLICT,
  [-10]: ErrorCode.COMMIT_TOO_LATE,
  [-11]: ErrorCode.STALE_EPOCH,
  [-12]: ErrorCode.TOO_EARLY,
  [-13]: ErrorCode.RESULT_MISMATCH,
  [-14]: ErrorCode.ALREADY_SETTLED,
  [-15]: ErrorCode.NOT_SETTLED,
  [-16]: ErrorCode.INVALID_BETS,
  [-17]: ErrorCode.INVALID_BETS,
  [-18]: ErrorCode.ALREADY_RESULTED,
  [-24]: ErrorCode.TOO_MANY_BETS,
  [-30]: ErrorCode.BALANCE_LIMIT,
  [-31]: ErrorCode.BALANCE_OUT_OF_RANGE,
};

/** Messages for the codes, shared with MemoryStore so both say the same thing. */
export const ERROR_MESSAGES: Partial<Record<ErrorCode, string>> = {
  E_PERIOD_VOID: 'the period is void',
  E_NOT_COMMITTED: 'the period has no commitment',
  E_PERIOD_FROZEN: 'betting on the period is frozen',
  E_PERIOD_NOT_OPEN: 'betting on the period has not started',
  E_PERIOD_CLOSED: 'the period has ended',
  E_USER_LIMIT: 'the per-user stake limit of the period would be exceeded',
  E_TOO_MANY_BETS: 'the per-user bet count limit of the period is reached',
  E_LIABILITY_LIMIT: 'the period liability cap would be exceeded',
  E_INSUFFICIENT_FUNDS: 'insufficient funds',
  E_DUPLICATE_CONFLICT: 'the id was already used with different content',
  E_COMMIT_TOO_LATE: 'the period reached its freeze without a commitment; it is void',
  E_STALE_EPOCH: 'the fencing epoch is not the current lease epoch',
  E_TOO_EARLY: 'the period has not ended yet',
  E_RESULT_MISMATCH: "the result's commitment is not the period's commitment",
  E_ALREADY_SETTLED: 'the settlement of the period was already (being) applied',
  E_NOT_SETTLED: 'no settlement plan saved for the period',
  E_ALREADY_RESULTED: 'the period has a stored result: it cannot become void',
  E_INVALID_BETS: 'the settlement plan does not match the stored bets (bet count, or not frozen)',
  E_BALANCE_LIMIT: 'the balance would exceed the maximum balance (FIVED_MAX_BALANCE)',
  E_BALANCE_OUT_OF_RANGE: 'the stored balance is not an exact integer within 0..2^53-1; an operator must correct it',
};

export function storeError(code: ErrorCode, details?: Record<string, unknown>): FivedError {
  return new FivedError(code, ERROR_MESSAGES[code] ?? code, details);
}

/** The coded error of a negative script status (the one mapping, also per bet of a batch). */
export function statusError(status: number, details?: Record<string, unknown>): FivedError {
  return storeError(LUA_ERRORS[status] ?? ErrorCode.INTERNAL, { ...details, luaStatus: status });
}

/** Throws the coded error of a negative script status; returns the reply otherwise. */
export function checkReply<T extends unknown[]>(reply: unknown, details?: Record<string, unknown>): T {
  const arr = reply as T;
  const status = Array.isArray(reply) ? reply[0] : reply;
  if (typeof status === 'number' && status < 0) {
    throw statusError(status, { ...details, ...(Array.isArray(reply) && reply.length > 1 ? { info: reply[1] } : {}) });
  }
  return arr;
}

let sources: Map<ScriptName, string> | null = null;

/** Script sources with `--!include name` lines replaced by lua/lib/name.lua. */
export function scriptSources(): Map<ScriptName, string> {
  if (sources) return sources;
  const m = new Map<ScriptName, string>();
  for (const [name, def] of Object.entries(SCRIPTS) as Array<[ScriptName, (typeof SCRIPTS)[ScriptName]]>) {
    const src = readFileSync(LUA_DIR + def.file, 'utf8').replace(/^--!include (\w+)$/gm, (_l, lib: string) => readFileSync(`${LUA_DIR}lib/${lib}.lua`, 'utf8'));
    m.set(name, src);
  }
  sources = m;
  return m;
}

export function defineScripts(redis: Redis): void {
  for (const [name, lua] of scriptSources()) {
    const keys = SCRIPTS[name].keys;
    redis.defineCommand(name, keys === null ? { lua } : { numberOfKeys: keys, lua });
  }
}

type ScriptFn = (args: ScriptArg[]) => Promise<unknown>;

/** Runs a registered script (EVALSHA, EVAL on NOSCRIPT — ioredis does that). `buffers` returns bulk strings as Buffers. */
export function runScript(redis: Redis, name: ScriptName, keys: readonly string[], args: readonly ScriptArg[], buffers = false): Promise<unknown> {
  const fn = (redis as unknown as Record<string, ScriptFn>)[buffers ? `${name}Buffer` : name];
  if (!fn) throw new FivedError(ErrorCode.INTERNAL, `script ${name} is not defined on this connection`);
  // one array argument (ioredis flattens it): spreading 100,000 winner ids into a call overflows the stack
  return fn.call(redis, SCRIPTS[name].keys === null ? [keys.length, ...keys, ...args] : [...keys, ...args]);
}
