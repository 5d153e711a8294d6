// One options object for every runtime (gateway, scheduler, all, CLI tools): read from the
// environment once at start, validated with clear messages, then frozen. `fived check-config`
// prints it (secrets masked) or the list of problems. The settings themselves (names, defaults,
// ranges, docs) are declared in src/settings.ts: adding one starts there (its header says how).

import { archiveSettings, betSettings, gameSettings, gatewaySettings, identity, limitSettings, LOG_LEVELS, processSettings, storeSettings } from './config/groups.js';
import { reader, type Env } from './config/read.js';
import { parseSeedKey, seedKeyId } from './core/seed-key.js';
import type { BetLimits, DayStart, Paytable } from './core/types.js';
import { ErrorCode, FivedError } from './errors.js';
import { SETTINGS } from './settings.js';
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
  socketIoConnectTimeoutMs: number; // a Socket.IO connection without an admitted CONNECT is closed after this
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
   * An operator tool (credit, inspect, wallet): it never commits or unseals a seed, so
   * FIVED_SEED_KEY is not required with Redis (least privilege: an operator crediting a deposit
   * needs no key that opens seeds). Serving processes always need it.
   */
  tool?: boolean;
}

/** Reads, validates and freezes the configuration. Throws E_CONFIG_INVALID listing every problem. */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}, opts: LoadOptions = {}): Readonly<Config> {
  const problems: string[] = [];
  // each reader takes the setting's default and range from its schema (src/settings.ts)
  const r = reader(env, problems);
  const [who, game, bets, store] = [identity(r), gameSettings(r), betSettings(r), storeSettings(r, opts)];
  const cfg: Config = { ...who, ...game, ...bets, ...store, ...gatewaySettings(r), ...limitSettings(r), ...processSettings(r), ...archiveSettings(r), ...overrides };
  if (!LOG_LEVELS.includes(cfg.logLevel)) problems.push(`FIVED_LOG_LEVEL=${JSON.stringify(cfg.logLevel)}: one of ${LOG_LEVELS.join(', ')}`);
  if (problems.length > 0) {
    throw new FivedError(ErrorCode.CONFIG_INVALID, `invalid configuration:\n  - ${problems.join('\n  - ')}`, { problems });
  }
  return deepFreeze(cfg);
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
