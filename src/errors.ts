// Every coded error of fived lives here: the core, the store, the gateway, the scheduler and the
// client SDK all throw or report these codes, so a code means the same thing everywhere.
// Codes are stable strings (operators grep them, clients switch on them); never reuse one.

export const ErrorCode = {
  // input validation (edges)
  BAD_REQUEST: 'E_BAD_REQUEST',
  MALFORMED: 'E_MALFORMED',
  UNKNOWN_TYPE: 'E_UNKNOWN_TYPE',
  PAYLOAD_TOO_LARGE: 'E_PAYLOAD_TOO_LARGE',
  INVALID_KIND: 'E_INVALID_KIND',
  INVALID_PICK: 'E_INVALID_PICK',
  INVALID_AMOUNT: 'E_INVALID_AMOUNT',
  INVALID_DURATION: 'E_INVALID_DURATION',
  INVALID_FREEZE: 'E_INVALID_FREEZE',
  INVALID_TIME: 'E_INVALID_TIME',
  INVALID_PERIOD: 'E_INVALID_PERIOD',
  INVALID_ROOM: 'E_INVALID_ROOM',
  INVALID_TIMELINE: 'E_INVALID_TIMELINE',
  INVALID_SEED: 'E_INVALID_SEED',
  INVALID_ID: 'E_INVALID_ID',
  INVALID_PAYTABLE: 'E_INVALID_PAYTABLE',
  INVALID_BETS: 'E_INVALID_BETS',
  INVALID_RESULT: 'E_INVALID_RESULT', // a result that is not five digits 0-9 with their sum
  CONFIG_INVALID: 'E_CONFIG_INVALID',

  // period state
  PERIOD_NOT_OPEN: 'E_PERIOD_NOT_OPEN', // a future period: betting has not started
  PERIOD_CLOSED: 'E_PERIOD_CLOSED', // a past period
  PERIOD_FROZEN: 'E_PERIOD_FROZEN', // after the freeze (store flag or caller clock)
  PERIOD_VOID: 'E_PERIOD_VOID',
  NOT_COMMITTED: 'E_NOT_COMMITTED',
  COMMIT_TOO_LATE: 'E_COMMIT_TOO_LATE', // a commitment for a period that already opened
  RESULT_MISMATCH: 'E_RESULT_MISMATCH', // a result that does not verify against its commitment
  SEED_KEY_UNKNOWN: 'E_SEED_KEY_UNKNOWN', // a sealed seed's key id is neither FIVED_SEED_KEY nor a retired key
  SEED_UNSEAL_FAILED: 'E_SEED_UNSEAL_FAILED', // a sealed seed does not open: malformed, tampered, or another period's
  NOT_SETTLED: 'E_NOT_SETTLED',
  ALREADY_RESULTED: 'E_ALREADY_RESULTED', // a period with a stored result can never become void
  TOO_EARLY: 'E_TOO_EARLY', // e.g. applying a settlement before the period's end
  ALREADY_SETTLED: 'E_ALREADY_SETTLED', // voiding a period whose settlement was (being) applied

  // bets and wallet
  INSUFFICIENT_FUNDS: 'E_INSUFFICIENT_FUNDS',
  STAKE_TOO_LOW: 'E_STAKE_TOO_LOW',
  STAKE_TOO_HIGH: 'E_STAKE_TOO_HIGH',
  USER_LIMIT: 'E_USER_LIMIT',
  TOO_MANY_BETS: 'E_TOO_MANY_BETS', // the user already has FIVED_MAX_BETS_PER_PERIOD bets in the period
  LIABILITY_LIMIT: 'E_LIABILITY_LIMIT',
  DUPLICATE_CONFLICT: 'E_DUPLICATE_CONFLICT', // same client bet id / deposit id, different content
  BALANCE_LIMIT: 'E_BALANCE_LIMIT', // a credit would take a balance above FIVED_MAX_BALANCE (refused, nothing changed)
  BALANCE_OUT_OF_RANGE: 'E_BALANCE_OUT_OF_RANGE', // a stored balance that is not an exact integer 0..2^53-1 (written outside fived)

  // coordination
  STALE_EPOCH: 'E_STALE_EPOCH',
  LEASE_NOT_HELD: 'E_LEASE_NOT_HELD',
  CLAIMED: 'E_CLAIMED',

  // infrastructure
  STORE_UNAVAILABLE: 'E_STORE_UNAVAILABLE',
  STORE_INCONSISTENT: 'E_STORE_INCONSISTENT', // Redis came back empty or older: generation mismatch
  STORE_AUTH: 'E_STORE_AUTH', // Redis or a Sentinel refused the credentials (FIVED_REDIS_URL user:password, FIVED_REDIS_SENTINEL_PASSWORD)
  STORE_UNCONFIRMED: 'E_STORE_UNCONFIRMED', // written on the primary, not confirmed by FIVED_REDIS_MIN_REPLICAS replicas in time: resend with the same id
  NATIVE_UWS_MISSING: 'E_NATIVE_UWS_MISSING',
  LISTEN_FAILED: 'E_LISTEN_FAILED', // a serving port that cannot be bound (in use, not an address of this host)
  POOL_BUSY: 'E_POOL_BUSY',
  ABORTED: 'E_ABORTED',
  TIMEOUT: 'E_TIMEOUT',

  // auth and limits at the gateway
  UNAUTHORIZED: 'E_UNAUTHORIZED',
  FORBIDDEN: 'E_FORBIDDEN',
  RATE_LIMITED: 'E_RATE_LIMITED',
  NOT_FOUND: 'E_NOT_FOUND',
  METHOD_NOT_ALLOWED: 'E_METHOD_NOT_ALLOWED',
  NOT_READY: 'E_NOT_READY',
  INTERNAL: 'E_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** HTTP status for each code, used by the HTTP API; anything unlisted is 400. */
export const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  E_UNAUTHORIZED: 401,
  E_FORBIDDEN: 403,
  E_NOT_FOUND: 404,
  E_METHOD_NOT_ALLOWED: 405,
  E_PAYLOAD_TOO_LARGE: 413,
  E_RATE_LIMITED: 429,
  E_DUPLICATE_CONFLICT: 409,
  E_BALANCE_LIMIT: 409,
  E_BALANCE_OUT_OF_RANGE: 500,
  E_CLAIMED: 409,
  E_STALE_EPOCH: 409,
  E_INTERNAL: 500,
  E_STORE_UNAVAILABLE: 503,
  E_STORE_INCONSISTENT: 503,
  E_STORE_AUTH: 503,
  E_STORE_UNCONFIRMED: 503,
  E_NOT_READY: 503,
  E_POOL_BUSY: 503,
  E_TIMEOUT: 504,
};

export class FivedError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'FivedError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

export function fail(code: ErrorCode, message: string, details?: Record<string, unknown>): never {
  throw new FivedError(code, message, details);
}

export function isFivedError(err: unknown, code?: ErrorCode): err is FivedError {
  return err instanceof FivedError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a FivedError (unknown errors become E_INTERNAL, message kept). */
export function toFivedError(err: unknown): FivedError {
  if (err instanceof FivedError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new FivedError(ErrorCode.INTERNAL, message);
}
