// One options object for every runtime (gateway, scheduler, all, CLI tools): read from the
// environment once at start, validated with clear messages, then frozen. `fived check-config`
// prints it (secrets masked) or the list of problems. The settings themselves (names, defaults,
// ranges, docs) are declared in src/settings.ts: adding one starts there (its header says how).

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import { ErrorCode, FivedError } from './errors.js';
import type { BetLimits, DayStart, Paytable } from './core/types.js';
import { parseSeedKey, seedKeyId } from './core/seed-key.js';
import { acceptsOf, schemaOf, SETTING_SPECS, SETTINGS, type SettingName } from './settings.js';
import { closest } from './suggest.js';

export interface Config {
  instance: string; // name in logs, results' tracking and metrics
  host: string; // os.hostname()
  // game
  durations: number[]; // seconds
  freezeMs: number;
  timeline: string;
  dayStart: DayStart;
  paytable: Paytable;
  limits: BetLimits;
  maxBalance: number; // no credit, payout or refund takes a balance above this (minor units, <= 2^53-1)
  // store
  redisUrl: string; // '' = in-memory store (single process only)
  redisSentinels: Array<{ host: string; port: number }>;
  redisSentinelName: string;
  // issue 13: Sentinel with a password and acknowledged bets on a replica (docs/operations.md)
  redisSentinelPassword: string; // AUTH for the Sentinels ('' = none); the data nodes use FIVED_REDIS_URL's user:pass
  redisMinReplicas: number; // a bet is acknowledged only after WAIT confirms this many replicas
  redisWaitTimeoutMs: number; // how long that WAIT may take before the bet is answered E_STORE_UNCONFIRMED
  keyPrefix: string;
  /** the seed key as given (64 hex or base64; kept as text: a frozen Config cannot hold a Buffer).
   *  Seeds are stored only sealed under it. Required with Redis; generated in memory otherwise. */
  seedKey: string;
  /** older seed keys (same forms), used only to unseal seeds sealed before a rotation */
  seedKeysRetired: string[];
  // gateway
  port: number;
  bindHost: string;
  jwtSecret: string; // HS256 secret for player tokens
  maxTokenAgeS: number; // a player token's exp may lie at most this far ahead (and exp - iat at most this)
  operatorToken: string; // server-to-server token for operator endpoints (>= 32 characters); '' disables them
  origins: string[]; // allowlist; empty allows all
  maxPayloadBytes: number;
  maxBackpressureBytes: number;
  idleTimeoutS: number;
  rateLimitPerS: number; // messages per second per connection
  // limits per user and per client address (0 = off); per gateway, in memory (docs/operations.md)
  maxSocketsPerUser: number;
  userBetRatePerS: number; // bets per second of one user across all its sockets on this gateway
  maxConnsPerIp: number;
  httpRatePerIp: number; // HTTP requests per second per client address (burst: twice that)
  demoSessionsPerIpPerHour: number;
  operatorFailuresPerMin: number; // wrong operator tokens per client address per minute before 429
  trustedProxies: string[]; // peers whose X-Forwarded-For names the client (addresses or CIDR)
  maxClockSkewMs: number; // /ready fails beyond this difference to Redis TIME
  clockOffsetMs: number; // test/chaos only: shift this process's clock
  drainMs: number; // SIGTERM: time given to in-flight work
  settleGraceMs: number; // gateways complete pending settlements after end + grace
  poolThreads: number;
  poolNice: number; // worker threads' nice increment (Linux): the event loop wins the CPU over compute
  demo: boolean; // demo tokens and demo credit on the page; never on in production
  allowUwsFallback: boolean; // run on the slow pure-JS server if the native uWS binary fails to load
  socketIo: boolean; // issue 15: serve the replaced system's Socket.IO protocol at /socket.io/ (docs/socketio.md)
  // scheduler
  schedulerPort: number; // metrics/health port of `fived scheduler`; 0 = none
  // issue 13 (releases, TLS): the scheduler's metrics/health address is its own setting, so a
  // gateway bound to 127.0.0.1 behind HAProxy does not hide the scheduler from a remote Prometheus
  schedulerHost: string; // FIVED_SCHEDULER_HOST; default FIVED_HOST
  leaseTtlMs: number;
  logLevel: string;
  // archive in PostgreSQL (issue 14): '' = none, nothing changes
  archiveUrl: string;
  archiveBatchRows: number; // rows per insert
  archivePollMs: number; // pause of the archiver between passes when caught up
  archiveAlertLagS: number; // the archiver logs an alert line beyond this lag
  archiverPort: number; // metrics/health port of `fived archiver`; 0 = none
}

type Env = Record<string, string | undefined>;

// SETTINGS (every setting loadConfig reads, and the only names it can read: its readers take a
// SettingName) and their defaults, ranges and docs are declared in src/settings.ts. `fived
// check-config` refuses any other FIVED_* name (a typo must not silently fall back to a default)
// except the tools' own variables below; a test checks SETTINGS is exactly what loadConfig reads.
export { SETTINGS, type SettingName } from './settings.js';

/**
 * FIVED_* variables that are not settings of fived but of the repo's tools, which pass their whole
 * FIVED_* environment on to fived processes (scripts/cluster.sh) or are run with it: not "unknown".
 * A test checks every FIVED_* name in scripts/ and bench/ is a setting or one of these.
 */
export const TOOL_VARIABLES: Readonly<Record<string, string>> = {
  FIVED_CLUSTER_DIR: 'scripts/cluster.sh',
  FIVED_GATEWAYS: 'scripts/cluster.sh',
  FIVED_SCHEDULERS: 'scripts/cluster.sh',
  FIVED_BASE_PORT: 'scripts/cluster.sh',
  FIVED_LB_PORT: 'scripts/cluster.sh',
  FIVED_LB_STATS_PORT: 'scripts/cluster.sh',
  FIVED_LB_OPERATOR_PORT: 'scripts/cluster.sh',
  FIVED_REDIS_PORT: 'scripts/cluster.sh',
  FIVED_READY_TIMEOUT_S: 'scripts/cluster.sh',
  FIVED_APP_DIR: 'scripts/cluster.sh', // issue 13: the app (a release's current/) the cluster runs
  // issue 13: the password of the cluster's own Redis (made per cluster folder, kept in cluster.env)
  FIVED_CLUSTER_REDIS_PASSWORD: 'scripts/cluster.sh',
};
/** prefixes of the tools' families of variables */
export const TOOL_PREFIXES: Readonly<Record<string, string>> = {
  FIVED_CHAOS_: 'scripts/chaos.ts',
  FIVED_SOAK_: 'scripts/soak.ts',
  FIVED_BENCH_: 'bench/',
};

export interface UnknownSetting {
  name: string;
  /** the nearest setting (or tool variable), when the name looks like its typo */
  suggestion?: string;
  /** e.g. "unknown setting FIVED_DURATION; did you mean FIVED_DURATIONS?" */
  message: string;
}

/** The FIVED_* names in `env` that are neither settings nor the tools' variables, sorted. */
export function unknownSettings(env: Env = process.env): UnknownSetting[] {
  const known = new Set<string>(SETTINGS);
  const out: UnknownSetting[] = [];
  for (const name of Object.keys(env).filter((n) => n.toUpperCase().startsWith('FIVED_')).sort()) {
    if (known.has(name) || name in TOOL_VARIABLES || Object.keys(TOOL_PREFIXES).some((p) => name.startsWith(p))) continue;
    const suggestion = closest(name, [...SETTINGS, ...Object.keys(TOOL_VARIABLES)]);
    const tool = suggestion ? TOOL_VARIABLES[suggestion] : undefined;
    const hint = suggestion ? `did you mean ${suggestion}${tool ? ` (read by ${tool})` : ''}?` : 'not a fived setting (all of them: SETTINGS in src/config.ts)';
    out.push({ name, ...(suggestion ? { suggestion } : {}), message: `unknown setting ${name}; ${hint}` });
  }
  return out;
}

export interface LoadOptions {
  /**
   * An operator tool (credit, inspect, wallet, load-bets): it never commits or unseals a seed, so
   * FIVED_SEED_KEY is not required with Redis (least privilege: an operator crediting a deposit
   * needs no key that opens seeds). Serving processes always need it.
   */
  tool?: boolean;
}

const DURATION_DIVIDES = 86_400;

/** the settings of one kind */
type NameOf<K extends 'int' | 'bool' | 'text'> = { [N in SettingName]: (typeof SETTING_SPECS)[N]['kind'] extends K ? N : never }[SettingName];

/** Reads, validates and freezes the configuration. Throws E_CONFIG_INVALID listing every problem. */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}, opts: LoadOptions = {}): Readonly<Config> {
  const problems: string[] = [];
  // each reader takes the setting's default and range from its schema (src/settings.ts); a second
  // argument replaces a default computed at start
  const int = (name: NameOf<'int'>, def: number = SETTING_SPECS[name].default): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return def;
    const r = schemaOf(SETTING_SPECS[name]).safeParse(raw);
    if (!r.success) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected ${acceptsOf(SETTING_SPECS[name])}`);
      return def;
    }
    return r.data;
  };
  const str = (name: NameOf<'text'>, def: string = SETTING_SPECS[name].default): string => {
    const raw = env[name];
    return raw === undefined ? def : raw.trim();
  };
  const bool = (name: NameOf<'bool'>): boolean => {
    const raw = env[name];
    const def = SETTING_SPECS[name].default;
    if (raw === undefined || raw.trim() === '') return def;
    const r = schemaOf(SETTING_SPECS[name]).safeParse(raw);
    if (!r.success) problems.push(`${name}=${JSON.stringify(raw)}: expected ${acceptsOf(SETTING_SPECS[name])}`);
    return r.success ? r.data : def;
  };

  const durationsRaw = str('FIVED_DURATIONS');
  const durations = durationsRaw.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (durations.length === 0) problems.push('FIVED_DURATIONS: at least one room duration is needed');
  for (const d of durations) {
    if (!Number.isSafeInteger(d) || d < 1 || DURATION_DIVIDES % d !== 0) {
      problems.push(`FIVED_DURATIONS: ${d} is not a whole number of seconds dividing 86400`);
    }
  }
  if (new Set(durations).size !== durations.length) problems.push('FIVED_DURATIONS: a duration is listed twice');

  const freezeMs = int('FIVED_FREEZE_MS');
  for (const d of durations) {
    if (Number.isSafeInteger(d) && freezeMs >= d * 1000) {
      problems.push(`FIVED_FREEZE_MS=${freezeMs} must be shorter than every room (${d} s)`);
    }
  }

  const timeline = str('FIVED_TIMELINE');
  if (!/^[a-z0-9_-]{1,32}$/i.test(timeline)) problems.push(`FIVED_TIMELINE=${JSON.stringify(timeline)}: letters, digits, _ and - only (1-32)`);

  const dayStart = parseDayStart(str('FIVED_DAY_START'), str('FIVED_DAY_OFFSET'), problems);

  const paytable: Paytable = {
    feeBps: int('FIVED_FEE_BPS'),
    number: int('FIVED_PAY_NUMBER'),
    bigSmall: int('FIVED_PAY_BIG_SMALL'),
    oddEven: int('FIVED_PAY_ODD_EVEN'),
    sumBigSmall: int('FIVED_PAY_SUM_BIG_SMALL'),
    sumOddEven: int('FIVED_PAY_SUM_ODD_EVEN'),
  };

  // the smallest stake whose net is >= 1 after the fee
  const minNetStake = Math.ceil(10_000 / (10_000 - paytable.feeBps));
  const limits: BetLimits = {
    minStake: int('FIVED_MIN_STAKE', Math.max(minNetStake, 1)),
    maxStake: int('FIVED_MAX_STAKE'),
    maxUserStakePerPeriod: int('FIVED_MAX_USER_STAKE'),
    maxLiability: int('FIVED_MAX_LIABILITY'),
    // as the replaced system: at most 100 bets of one user in one period (0 = no cap)
    maxBetsPerUserPerPeriod: int('FIVED_MAX_BETS_PER_PERIOD'),
  };
  if (Math.floor((limits.minStake * (10_000 - paytable.feeBps)) / 10_000) < 1) {
    problems.push(`FIVED_MIN_STAKE=${limits.minStake}: the net stake after a ${paytable.feeBps} bps fee would be 0 (need >= ${minNetStake})`);
  }
  if (limits.maxStake < limits.minStake) problems.push('FIVED_MAX_STAKE must be >= FIVED_MIN_STAKE');
  // at most 2^53-1: every balance stays an exact integer in Lua, JavaScript and JSON
  const maxBalance = int('FIVED_MAX_BALANCE');

  const redisUrl = str('FIVED_REDIS_URL');
  if (redisUrl !== '' && !/^rediss?:\/\//.test(redisUrl)) problems.push(`FIVED_REDIS_URL=${JSON.stringify(redisUrl)}: expected redis://[user:password@]host:port[/db] (rediss:// for TLS)`);
  const redisSentinels: Array<{ host: string; port: number }> = [];
  for (const part of str('FIVED_REDIS_SENTINELS').split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^:]+):(\d+)$/.exec(part);
    if (!m) problems.push(`FIVED_REDIS_SENTINELS: ${JSON.stringify(part)} is not host:port`);
    else redisSentinels.push({ host: m[1]!, port: Number(m[2]) });
  }

  const archiveUrl = str('FIVED_ARCHIVE_URL');
  if (archiveUrl !== '' && !/^postgres(ql)?:\/\//.test(archiveUrl)) problems.push(`FIVED_ARCHIVE_URL: expected postgres://user[:password]@host[:port]/database`);

  const seed = seedKeys(env, (redisUrl !== '' || redisSentinels.length > 0) && !opts.tool, problems);

  const origins = str('FIVED_ORIGINS').split(',').map((s) => s.trim()).filter(Boolean);
  const demo = bool('FIVED_DEMO');
  // No built-in secret, not even for the demo: anyone who knows it can sign a token for any user
  // id, and a demo gateway on a real store would hand out real users' balances (issue 12, row 6).
  // Without a secret nobody can bet: anonymous watching only.
  const jwtSecret = str('FIVED_JWT_SECRET');
  if (jwtSecret === '') {
    if (demo) problems.push('FIVED_DEMO=true needs an explicit FIVED_JWT_SECRET (at least 16 random characters, e.g. `openssl rand -hex 32`): demo mode no longer signs with a built-in secret');
  } else if (jwtSecret.length < 16) problems.push('FIVED_JWT_SECRET: use at least 16 characters');
  const operatorToken = str('FIVED_OPERATOR_TOKEN');
  if (operatorToken !== '' && operatorToken.length < 32) {
    problems.push(`FIVED_OPERATOR_TOKEN: use at least 32 characters (got ${operatorToken.length}), e.g. \`openssl rand -hex 32\``);
  }
  const trustedProxies = str('FIVED_TRUSTED_PROXIES').split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of trustedProxies) {
    if (!validProxy(p)) problems.push(`FIVED_TRUSTED_PROXIES: ${JSON.stringify(p)} is not an IP address or CIDR range (e.g. 10.0.0.0/8)`);
  }

  const cfg: Config = {
    instance: str('FIVED_INSTANCE', `${os.hostname()}:${process.pid}`),
    host: os.hostname(),
    durations,
    freezeMs,
    timeline,
    dayStart,
    paytable,
    limits,
    maxBalance,
    redisUrl,
    redisSentinels,
    redisSentinelName: str('FIVED_REDIS_SENTINEL_NAME'),
    redisSentinelPassword: str('FIVED_REDIS_SENTINEL_PASSWORD'),
    // Sentinel mode: a failover promotes a replica, so a bet waits for one by default (docs/reliability.md)
    redisMinReplicas: int('FIVED_REDIS_MIN_REPLICAS', redisSentinels.length > 0 ? 1 : 0),
    redisWaitTimeoutMs: int('FIVED_REDIS_WAIT_TIMEOUT_MS'),
    keyPrefix: str('FIVED_KEY_PREFIX'),
    seedKey: seed.current,
    seedKeysRetired: seed.retired,
    port: int('FIVED_PORT'),
    bindHost: str('FIVED_HOST'),
    jwtSecret,
    maxTokenAgeS: int('FIVED_MAX_TOKEN_AGE_S'),
    operatorToken,
    origins,
    maxPayloadBytes: int('FIVED_MAX_PAYLOAD'),
    maxBackpressureBytes: int('FIVED_MAX_BACKPRESSURE'),
    idleTimeoutS: int('FIVED_IDLE_TIMEOUT_S'),
    rateLimitPerS: int('FIVED_RATE_LIMIT'),
    maxSocketsPerUser: int('FIVED_MAX_SOCKETS_PER_USER'),
    userBetRatePerS: int('FIVED_USER_BET_RATE'),
    // carrier NAT puts thousands of players behind one address: generous per-IP defaults
    maxConnsPerIp: int('FIVED_MAX_CONNS_PER_IP'),
    httpRatePerIp: int('FIVED_HTTP_RATE_PER_IP'),
    demoSessionsPerIpPerHour: int('FIVED_DEMO_SESSIONS_PER_IP'),
    operatorFailuresPerMin: int('FIVED_OPERATOR_FAILURES_PER_MIN'),
    trustedProxies,
    maxClockSkewMs: int('FIVED_MAX_CLOCK_SKEW_MS'),
    clockOffsetMs: int('FIVED_CLOCK_OFFSET_MS'),
    drainMs: int('FIVED_DRAIN_MS'),
    settleGraceMs: int('FIVED_SETTLE_GRACE_MS'),
    poolThreads: int('FIVED_POOL_THREADS'),
    poolNice: int('FIVED_POOL_NICE'),
    demo,
    allowUwsFallback: bool('FIVED_ALLOW_UWS_FALLBACK'),
    // the Socket.IO compatibility layer (docs/socketio.md), on unless FIVED_SOCKETIO=false
    socketIo: bool('FIVED_SOCKETIO'),
    schedulerPort: int('FIVED_SCHEDULER_PORT'),
    schedulerHost: str('FIVED_SCHEDULER_HOST') || str('FIVED_HOST'),
    leaseTtlMs: int('FIVED_LEASE_TTL_MS'),
    logLevel: str('FIVED_LOG_LEVEL'),
    // the archive (docs/operations.md, section 16)
    archiveUrl,
    archiveBatchRows: int('FIVED_ARCHIVE_BATCH'),
    archivePollMs: int('FIVED_ARCHIVE_POLL_MS'),
    archiveAlertLagS: int('FIVED_ARCHIVE_ALERT_LAG_S'),
    archiverPort: int('FIVED_ARCHIVER_PORT'),
    ...overrides,
  };
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(cfg.logLevel)) {
    problems.push(`FIVED_LOG_LEVEL=${JSON.stringify(cfg.logLevel)}: one of fatal, error, warn, info, debug, trace, silent`);
  }

  if (problems.length > 0) {
    throw new FivedError(ErrorCode.CONFIG_INVALID, `invalid configuration:\n  - ${problems.join('\n  - ')}`, { problems });
  }
  return deepFreeze(cfg);
}

function validProxy(p: string): boolean {
  const [addr, bits, extra] = p.split('/');
  const family = isIP(addr ?? '');
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d{1,3}$/.test(bits) && n <= (family === 4 ? 32 : 128);
}

/**
 * FIVED_SEED_KEY (or FIVED_SEED_KEY_FILE, e.g. a systemd credential) and FIVED_SEED_KEYS_RETIRED.
 * With Redis the key is required: every gateway and scheduler must unseal what another sealed.
 * The embedded in-memory store gets a key made for this process (nothing else ever reads its seeds).
 */
function seedKeys(env: Env, redis: boolean, problems: string[]): { current: string; retired: string[] } {
  const get = (name: SettingName): string | undefined => env[name];
  let current = (get('FIVED_SEED_KEY') ?? '').trim();
  const file = (get('FIVED_SEED_KEY_FILE') ?? '').trim();
  if (file !== '') {
    if (current !== '') problems.push('FIVED_SEED_KEY and FIVED_SEED_KEY_FILE are both set: give the key one way');
    else {
      try {
        current = readFileSync(file, 'utf8').trim();
      } catch (err) {
        problems.push(`FIVED_SEED_KEY_FILE=${JSON.stringify(file)}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
    }
  }
  const from = file !== '' ? 'FIVED_SEED_KEY_FILE' : 'FIVED_SEED_KEY';
  if (current !== '' && !parseSeedKey(current)) {
    problems.push(`${from}: expected 32 bytes as 64 hex characters or base64 (generate one with \`openssl rand -hex 32\`)`);
  }
  const retired = (get('FIVED_SEED_KEYS_RETIRED') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  retired.forEach((k, i) => {
    if (!parseSeedKey(k)) problems.push(`FIVED_SEED_KEYS_RETIRED: entry ${i + 1} is not 32 bytes as 64 hex characters or base64`);
  });
  if (current === '') {
    if (redis) {
      problems.push('FIVED_SEED_KEY is required with FIVED_REDIS_URL or FIVED_REDIS_SENTINELS: seeds are stored in Redis only sealed under it, and every gateway and scheduler needs the same key (generate one with `openssl rand -hex 32`; see docs/operations.md, "The seed key")');
    } else {
      if (retired.length > 0) problems.push('FIVED_SEED_KEYS_RETIRED without FIVED_SEED_KEY: retired keys only make sense beside a current one');
      current = randomBytes(32).toString('hex'); // the in-memory store: a key for this process alone
    }
  }
  return { current, retired };
}

function parseDayStart(time: string, offset: string, problems: string[]): DayStart {
  const t = /^(\d{1,2}):(\d{2})$/.exec(time);
  const o = /^([+-])(\d{1,2}):(\d{2})$/.exec(offset);
  let minutes = 0;
  let offsetMinutes = 0;
  if (!t || Number(t[1]) > 23 || Number(t[2]) > 59) problems.push(`FIVED_DAY_START=${JSON.stringify(time)}: expected HH:MM`);
  else minutes = Number(t[1]) * 60 + Number(t[2]);
  if (!o || Number(o[3]) > 59) problems.push(`FIVED_DAY_OFFSET=${JSON.stringify(offset)}: expected +HH:MM or -HH:MM (e.g. +05:30)`);
  else {
    offsetMinutes = (o[1] === '-' ? -1 : 1) * (Number(o[2]) * 60 + Number(o[3]));
    if (offsetMinutes < -720 || offsetMinutes > 840) problems.push(`FIVED_DAY_OFFSET=${offset}: must be within -12:00..+14:00`);
  }
  return { minutes, offsetMinutes };
}

/** The configuration with secrets masked, for `fived check-config` and start-up logs. */
export function describeConfig(cfg: Readonly<Config>): Record<string, unknown> {
  const mask = (s: string) => (s === '' ? '' : '***');
  // a seed key shows only its public id (compare it across hosts: all must seal under the same key)
  const keyMask = (s: string) => {
    const k = parseSeedKey(s);
    return k ? `*** (id ${seedKeyId(k)})` : mask(s);
  };
  return {
    ...cfg, jwtSecret: mask(cfg.jwtSecret), operatorToken: mask(cfg.operatorToken), redisUrl: maskRedisUrl(cfg.redisUrl), archiveUrl: maskRedisUrl(cfg.archiveUrl),
    redisSentinelPassword: mask(cfg.redisSentinelPassword),
    seedKey: keyMask(cfg.seedKey), seedKeysRetired: cfg.seedKeysRetired.map(keyMask),
  };
}

/** redis://fived:secret@host → redis://fived:***@host (the user name stays: it tells which ACL user). */
export function maskRedisUrl(url: string): string {
  return url.replace(/\/\/([^@/:]*)(:[^@/]*)?@/, (_m, user: string, pass?: string) => `//${user}${pass ? ':***' : ''}@`);
}

/**
 * Advice `fived check-config` prints about a valid configuration that is unsafe beyond one host
 * (issue 13): a Redis URL without credentials, Sentinels without a password, a failover that can
 * lose acknowledged bets. (Plain redis:// on a private network is the operator's call: rediss://
 * is supported, docs/operations.md.)
 */
export function configWarnings(cfg: Readonly<Config>): string[] {
  const out: string[] = [];
  if (cfg.redisUrl === '' && cfg.redisSentinels.length === 0) return out;
  let url: URL | null = null;
  try { url = cfg.redisUrl === '' ? null : new URL(cfg.redisUrl); } catch { url = null; }
  if (!url || url.password === '') {
    out.push('FIVED_REDIS_URL has no credentials: give the ACL user and password, redis://fived:PASSWORD@host:6379 (docs/operations.md, "Redis with a password and Sentinel"); in Sentinel mode they go to the primary and the replicas');
  }
  if (cfg.redisSentinels.length > 0 && cfg.redisSentinelPassword === '') {
    out.push('FIVED_REDIS_SENTINELS without FIVED_REDIS_SENTINEL_PASSWORD: Sentinels that answer anyone let anyone trigger a failover or learn the primary');
  }
  if (cfg.redisSentinels.length > 0 && cfg.redisMinReplicas === 0) {
    out.push('FIVED_REDIS_MIN_REPLICAS=0 in Sentinel mode: a failover can lose bets that were already acknowledged (docs/reliability.md)');
  }
  return out;
}

// the room names live in core/ids.ts; re-exported here for the modules that read them with the config
export { parseRoomName, roomName } from './core/ids.js';

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o as object)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
