// The settings of fived, declared once: name, kind, default, accepted range and what it does.
// loadConfig (src/config.ts) reads every value through this schema (zod validates the scalar
// ones), SETTINGS and `fived check-config`'s known names derive from it, and the settings table of
// docs/operations.md is generated from it (`npm run docs:settings`; test/docs-settings.test.ts
// fails when the table is stale).
//
// ADDING A SETTING is one entry in SETTING_SPECS below, e.g.
//   FIVED_MY_LIMIT: int(100, 0, 10_000, 'limits', 'what it limits, in which unit (0 = off)'),
// then read it in its group's function in src/config/groups.ts with `r.int('FIVED_MY_LIMIT')` (or
// bool/str, as declared), and run `npm run docs:settings`. Cross-setting rules (e.g. the freeze
// shorter than every room) stay there, beside the code that reads the values.

import { z } from 'zod';
import { DEFAULT_PAYTABLE } from './core/types.js';

export type SettingGroup = 'game' | 'paytable' | 'bets' | 'store' | 'gateway' | 'limits' | 'process' | 'scheduler' | 'archive';

interface Base {
  group: SettingGroup;
  /** one line for the docs table */
  doc: string;
  /** the default as the docs show it, when it is not a plain value (computed at start) */
  defaultText?: string;
}
export interface IntSpec extends Base {
  kind: 'int';
  default: number;
  min: number;
  max: number;
}
export interface BoolSpec extends Base {
  kind: 'bool';
  default: boolean;
}
/** free text, read trimmed; set but empty means '' (not the default). Lists are comma separated. */
export interface TextSpec extends Base {
  kind: 'text';
  default: string;
  /** what a valid value looks like, for the docs (loadConfig checks it) */
  accepts: string;
  secret?: boolean;
}
export type SettingSpec = IntSpec | BoolSpec | TextSpec;

const int = (def: number, min: number, max: number, group: SettingGroup, doc: string, defaultText?: string): IntSpec =>
  ({ kind: 'int', default: def, min, max, group, doc, ...(defaultText ? { defaultText } : {}) });
const bool = (def: boolean, group: SettingGroup, doc: string): BoolSpec => ({ kind: 'bool', default: def, group, doc });
const text = (def: string, accepts: string, group: SettingGroup, doc: string, extra: Partial<TextSpec> = {}): TextSpec =>
  ({ kind: 'text', default: def, accepts, group, doc, ...extra });

const MAX = Number.MAX_SAFE_INTEGER;
/** the socket.io package's own connectTimeout default, kept for both Socket.IO paths (docs/socketio.md) */
const SOCKETIO_CONNECT_TIMEOUT_MS = 45_000;

export const SETTING_SPECS = {
  // game: every instance must agree (registered in the store at start)
  FIVED_DURATIONS: text('60,180,300,600', 'seconds, comma separated, each dividing 86400', 'game', 'the rooms: one per period length'),
  FIVED_FREEZE_MS: int(5000, 0, 86_400_000, 'game', 'betting closes this long before a period ends (shorter than every room)'),
  FIVED_TIMELINE: text('default', 'letters, digits, _ and - (1-32)', 'game', 'names the sequence of periods; part of every draw message'),
  FIVED_DAY_START: text('00:00', 'HH:MM', 'game', 'local time at which period numbering restarts'),
  FIVED_DAY_OFFSET: text('+00:00', '+HH:MM or -HH:MM, -12:00..+14:00', 'game', 'UTC offset of FIVED_DAY_START'),
  // paytable
  FIVED_FEE_BPS: int(DEFAULT_PAYTABLE.feeBps, 0, 9999, 'paytable', 'fee taken from every stake, in basis points'),
  FIVED_PAY_NUMBER: int(DEFAULT_PAYTABLE.number, 1, 1000, 'paytable', 'payout multiplier of a number bet'),
  FIVED_PAY_BIG_SMALL: int(DEFAULT_PAYTABLE.bigSmall, 1, 1000, 'paytable', 'payout multiplier of a big/small bet on a position'),
  FIVED_PAY_ODD_EVEN: int(DEFAULT_PAYTABLE.oddEven, 1, 1000, 'paytable', 'payout multiplier of an odd/even bet on a position'),
  FIVED_PAY_SUM_BIG_SMALL: int(DEFAULT_PAYTABLE.sumBigSmall, 1, 1000, 'paytable', 'payout multiplier of a big/small bet on the sum'),
  FIVED_PAY_SUM_ODD_EVEN: int(DEFAULT_PAYTABLE.sumOddEven, 1, 1000, 'paytable', 'payout multiplier of an odd/even bet on the sum'),
  // bets (minor units)
  FIVED_MIN_STAKE: int(1, 1, MAX, 'bets', 'smallest stake; its net after the fee must be at least 1', 'the smallest stake whose net after the fee is >= 1 (2 at 200 bps)'),
  FIVED_MAX_STAKE: int(10_000_000, 1, MAX, 'bets', 'largest stake of one bet (>= FIVED_MIN_STAKE)'),
  FIVED_MAX_USER_STAKE: int(100_000_000, 1, MAX, 'bets', "one user's total stake in one period"),
  FIVED_MAX_LIABILITY: int(0, 0, MAX, 'bets', "the house's largest payout for one period; a bet beyond it is refused (0 = no cap)"),
  FIVED_MAX_BETS_PER_PERIOD: int(100, 0, 1_000_000, 'bets', 'bets of one user in one period, across all gateways (0 = no cap)'),
  FIVED_MAX_BALANCE: int(1e15, 1, MAX, 'bets', 'no credit, payout or refund takes a balance above this'),
  // store
  FIVED_REDIS_URL: text('', "redis://[user:password@]host:port[/db] or rediss:// (TLS); '' = in-memory store", 'store', 'the Redis holding everything (the in-memory store serves one process only)', { secret: true }),
  FIVED_REDIS_SENTINELS: text('', 'host:port, comma separated', 'store', 'Redis Sentinels to ask for the master instead of FIVED_REDIS_URL'),
  FIVED_REDIS_SENTINEL_NAME: text('mymaster', 'a name', 'store', "the Sentinels' name of the master"),
  FIVED_REDIS_SENTINEL_PASSWORD: text('', "a password; '' = Sentinels without one", 'store', "the Sentinels' own password (requirepass of sentinel.conf); the data nodes take FIVED_REDIS_URL's user:password", { secret: true }),
  FIVED_REDIS_MIN_REPLICAS: int(0, 0, 16, 'store', 'a bet, deposit or withdrawal is acknowledged only once WAIT confirms this many replicas (docs/reliability.md)', '1 with FIVED_REDIS_SENTINELS, else 0'),
  FIVED_REDIS_WAIT_TIMEOUT_MS: int(1000, 10, 60_000, 'store', 'how long an acknowledgement waits for its replicas before E_STORE_UNCONFIRMED'),
  FIVED_KEY_PREFIX: text('', 'text', 'store', 'prefix of every Redis key (several environments on one Redis)'),
  FIVED_SEED_KEY: text('', '32 bytes as 64 hex characters or base64', 'store', 'seeds are stored sealed under it; required with Redis, the same on every host', { secret: true }),
  FIVED_SEED_KEY_FILE: text('', 'a file path', 'store', 'a file holding FIVED_SEED_KEY (e.g. a systemd credential); not with FIVED_SEED_KEY'),
  FIVED_SEED_KEYS_RETIRED: text('', 'keys as FIVED_SEED_KEY, comma separated', 'store', 'older seed keys, only to unseal seeds sealed before a rotation', { secret: true }),
  // gateway
  FIVED_PORT: int(3000, 0, 65535, 'gateway', 'HTTP and WebSocket port'),
  FIVED_HOST: text('0.0.0.0', 'an address', 'gateway', 'address the gateway listens on'),
  FIVED_ORIGINS: text('', 'origins, comma separated', 'gateway', "browser origins allowed to connect ('' = all)"),
  FIVED_DEMO: bool(false, 'gateway', 'demo tokens and demo credit on the page; never in production (needs FIVED_JWT_SECRET)'),
  FIVED_JWT_SECRET: text('', "at least 16 characters; '' = nobody can bet", 'gateway', 'HS256 secret of player tokens, the same on every gateway', { secret: true }),
  FIVED_MAX_TOKEN_AGE_S: int(86_400, 60, 30 * 86_400, 'gateway', "a player token's exp may lie at most this far ahead"),
  FIVED_OPERATOR_TOKEN: text('', "at least 32 characters; '' = operator endpoints off", 'gateway', 'bearer token of the operator endpoints', { secret: true }),
  FIVED_MAX_PAYLOAD: int(16 * 1024, 256, 16 * 1024 * 1024, 'gateway', 'largest WebSocket message, bytes'),
  FIVED_MAX_BACKPRESSURE: int(256 * 1024, 1024, 64 * 1024 * 1024, 'gateway', "bytes buffered for a slow socket before it misses messages"),
  FIVED_IDLE_TIMEOUT_S: int(120, 8, 960, 'gateway', 'a silent socket is closed after this'),
  FIVED_ALLOW_UWS_FALLBACK: bool(false, 'gateway', "run on the slow pure-JS server if uWebSockets.js's binary fails to load"),
  FIVED_SOCKETIO: bool(true, 'gateway', "the replaced system's Socket.IO protocol at /socket.io/ and its REST routes (docs/socketio.md)"),
  FIVED_SOCKETIO_CONNECT_TIMEOUT_MS: int(SOCKETIO_CONNECT_TIMEOUT_MS, 1000, 600_000, 'gateway', "a Socket.IO connection not admitted by a CONNECT (a valid token) within this is closed (socket.io's connectTimeout)"),
  // limits (0 = off), per gateway unless said otherwise (docs/operations.md, "Limits")
  FIVED_RATE_LIMIT: int(50, 1, 100_000, 'limits', 'messages per second per socket (burst twice that)'),
  FIVED_MAX_SOCKETS_PER_USER: int(5, 0, 100_000, 'limits', 'sockets of one user'),
  FIVED_USER_BET_RATE: int(10, 0, 100_000, 'limits', 'bets per second of one user across its sockets'),
  FIVED_MAX_CONNS_PER_IP: int(500, 0, 10_000_000, 'limits', 'sockets per client address (carrier NAT: generous)'),
  FIVED_HTTP_RATE_PER_IP: int(100, 0, 10_000_000, 'limits', 'HTTP requests per second per client address (burst twice that)'),
  FIVED_DEMO_SESSIONS_PER_IP: int(20, 0, 1_000_000, 'limits', 'demo sessions per client address per hour'),
  FIVED_OPERATOR_FAILURES_PER_MIN: int(10, 0, 1_000_000, 'limits', 'wrong operator tokens per client address per minute before 429'),
  FIVED_TRUSTED_PROXIES: text('127.0.0.1,::1', "addresses or CIDR ranges, comma separated; '' = none", 'limits', 'peers whose X-Forwarded-For names the client'),
  // process
  FIVED_INSTANCE: text('', 'a name', 'process', 'name of this process in logs, metrics and results', { defaultText: 'hostname:pid' }),
  FIVED_MAX_CLOCK_SKEW_MS: int(250, 1, 60_000, 'process', '/ready fails beyond this difference to Redis TIME'),
  FIVED_CLOCK_OFFSET_MS: int(0, -60_000, 60_000, 'process', "tests and chaos only: shifts this process's clock"),
  FIVED_DRAIN_MS: int(5000, 0, 120_000, 'process', 'on SIGTERM, time given to in-flight work'),
  FIVED_SETTLE_GRACE_MS: int(3000, 0, 600_000, 'process', "gateways complete a period's pending settlement after its end + this"),
  FIVED_POOL_THREADS: int(1, 1, 64, 'process', 'worker threads computing periods'),
  FIVED_POOL_NICE: int(10, 0, 19, 'process', "worker threads' nice increment (Linux): the event loop wins the CPU"),
  FIVED_LOG_LEVEL: text('info', 'fatal, error, warn, info, debug, trace or silent', 'process', 'log level'),
  // scheduler
  FIVED_SCHEDULER_PORT: int(9300, 0, 65535, 'scheduler', "metrics and health port of `fived scheduler` (0 = none)"),
  FIVED_SCHEDULER_HOST: text('', 'an address', 'scheduler', "address of the scheduler's /metrics, /health, /ready", { defaultText: 'FIVED_HOST' }),
  FIVED_LEASE_TTL_MS: int(3000, 500, 600_000, 'scheduler', 'a standby scheduler takes over within this when the active one stops'),
  // archive (docs/operations.md, section 16)
  FIVED_ARCHIVE_URL: text('', "postgres://user[:password]@host[:port]/database; '' = no archive", 'archive', 'the permanent record in PostgreSQL: the archiver writes it, gateways read older history from it', { secret: true }),
  FIVED_ARCHIVE_BATCH: int(5000, 100, 100_000, 'archive', 'rows per insert of the archiver'),
  FIVED_ARCHIVE_POLL_MS: int(1000, 50, 60_000, 'archive', 'how often the archiver looks for work besides the bus notices'),
  FIVED_ARCHIVE_ALERT_LAG_S: int(60, 1, 86_400, 'archive', 'the archiver logs an alert line when it is this far behind'),
  FIVED_ARCHIVER_PORT: int(9310, 0, 65535, 'archive', 'metrics and health port of `fived archiver` (0 = none)'),
} as const satisfies Record<`FIVED_${string}`, SettingSpec>;

export type SettingName = keyof typeof SETTING_SPECS;

/** Every setting loadConfig reads, and the only names it can read, in the schema's order. */
export const SETTINGS: readonly SettingName[] = Object.freeze(Object.keys(SETTING_SPECS) as SettingName[]);

const TRUE = /^(1|true|yes|on)$/i;
const FALSE = /^(0|false|no|off)$/i;

/** The zod schema of one scalar setting's raw text (blank text never reaches it: that is the default). */
export function schemaOf(spec: IntSpec): z.ZodType<number, string>;
export function schemaOf(spec: BoolSpec): z.ZodType<boolean, string>;
export function schemaOf(spec: IntSpec | BoolSpec): z.ZodType<number | boolean, string> {
  if (spec.kind === 'int') {
    return z.string().transform(Number).pipe(z.number().int().min(spec.min).max(spec.max)) as z.ZodType<number, string>;
  }
  return z.string().refine((s) => TRUE.test(s) || FALSE.test(s)).transform((s) => TRUE.test(s)) as z.ZodType<boolean, string>;
}

/** What a setting accepts, in words (problems and the docs table). */
export function acceptsOf(spec: SettingSpec): string {
  if (spec.kind === 'int') return `an integer from ${spec.min} to ${spec.max}`;
  if (spec.kind === 'bool') return 'true/false';
  return spec.accepts;
}

/** A setting's default as the docs show it. */
export function defaultOf(spec: SettingSpec): string {
  if (spec.defaultText) return spec.defaultText;
  if (spec.kind === 'text') return spec.default === '' ? "''" : spec.default;
  return String(spec.default);
}
