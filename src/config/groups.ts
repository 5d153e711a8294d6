// The settings read group by group (the groups of src/settings.ts), each with its cross-setting
// rules beside the code that reads the values (e.g. the freeze shorter than every room).

import os from 'node:os';
import type { Config, LoadOptions } from '../config.js';
import type { BetLimits, Paytable } from '../core/types.js';
import { parseDayStart, seedKeys, validProxy } from './checks.js';
import { list, type Reader } from './read.js';

const DURATION_DIVIDES = 86_400;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** game: the rooms, the freeze, the timeline, the game day (every instance must agree). */
export function gameSettings(r: Reader): Pick<Config, 'durations' | 'freezeMs' | 'timeline' | 'dayStart'> {
  const { problems } = r;
  const durations = list(r.str('FIVED_DURATIONS')).map(Number);
  if (durations.length === 0) problems.push('FIVED_DURATIONS: at least one room duration is needed');
  for (const d of durations) {
    if (!Number.isSafeInteger(d) || d < 1 || DURATION_DIVIDES % d !== 0) {
      problems.push(`FIVED_DURATIONS: ${d} is not a whole number of seconds dividing 86400`);
    }
  }
  if (new Set(durations).size !== durations.length) problems.push('FIVED_DURATIONS: a duration is listed twice');
  const freezeMs = r.int('FIVED_FREEZE_MS');
  for (const d of durations) {
    if (Number.isSafeInteger(d) && freezeMs >= d * 1000) problems.push(`FIVED_FREEZE_MS=${freezeMs} must be shorter than every room (${d} s)`);
  }
  const timeline = r.str('FIVED_TIMELINE');
  if (!/^[a-z0-9_-]{1,32}$/i.test(timeline)) problems.push(`FIVED_TIMELINE=${JSON.stringify(timeline)}: letters, digits, _ and - only (1-32)`);
  const dayStart = parseDayStart(r.str('FIVED_DAY_START'), r.str('FIVED_DAY_OFFSET'), problems);
  return { durations, freezeMs, timeline, dayStart };
}

/** paytable and bets: the returns, the limits of a bet, the largest balance (integer minor units). */
export function betSettings(r: Reader): Pick<Config, 'paytable' | 'limits' | 'maxBalance'> {
  const paytable: Paytable = {
    feeBps: r.int('FIVED_FEE_BPS'),
    number: r.int('FIVED_PAY_NUMBER'),
    bigSmall: r.int('FIVED_PAY_BIG_SMALL'),
    oddEven: r.int('FIVED_PAY_ODD_EVEN'),
    sumBigSmall: r.int('FIVED_PAY_SUM_BIG_SMALL'),
    sumOddEven: r.int('FIVED_PAY_SUM_ODD_EVEN'),
  };
  // the smallest stake whose net is >= 1 after the fee
  const minNetStake = Math.ceil(10_000 / (10_000 - paytable.feeBps));
  const limits: BetLimits = {
    minStake: r.int('FIVED_MIN_STAKE', Math.max(minNetStake, 1)),
    maxStake: r.int('FIVED_MAX_STAKE'),
    maxUserStakePerPeriod: r.int('FIVED_MAX_USER_STAKE'),
    maxLiability: r.int('FIVED_MAX_LIABILITY'),
    // as the replaced system: at most 100 bets of one user in one period (0 = no cap)
    maxBetsPerUserPerPeriod: r.int('FIVED_MAX_BETS_PER_PERIOD'),
  };
  if (Math.floor((limits.minStake * (10_000 - paytable.feeBps)) / 10_000) < 1) {
    r.problems.push(`FIVED_MIN_STAKE=${limits.minStake}: the net stake after a ${paytable.feeBps} bps fee would be 0 (need >= ${minNetStake})`);
  }
  if (limits.maxStake < limits.minStake) r.problems.push('FIVED_MAX_STAKE must be >= FIVED_MIN_STAKE');
  // at most 2^53-1: every balance stays an exact integer in Lua, JavaScript and JSON
  return { paytable, limits, maxBalance: r.int('FIVED_MAX_BALANCE') };
}

type StoreSettings = 'redisUrl' | 'redisSentinels' | 'redisSentinelName' | 'redisSentinelPassword' | 'redisMinReplicas' | 'redisWaitTimeoutMs' | 'keyPrefix' | 'seedKey' | 'seedKeysRetired';

/**
 * What is wrong with a FIVED_REDIS_URL, or null: redis:// or rediss://, parseable as a URL (ioredis
 * parses it so, and a start failed with `TypeError: Invalid URL`), a host, a port 1-65535 when one
 * is given, a database number when one is given. The message never repeats the URL (it may hold a
 * password).
 */
export function redisUrlProblem(raw: string): string | null {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
  if (scheme !== 'redis' && scheme !== 'rediss') return scheme ? `the scheme ${JSON.stringify(`${scheme}://`)} is not redis:// or rediss://` : 'it does not begin with redis:// or rediss://';
  // the authority without its user:password; the port after the host ([v6] in brackets)
  const hostPort = (/^[^/?#]*/.exec(raw.slice(scheme.length + 3))?.[0] ?? '').replace(/^.*@/, '');
  const afterHost = hostPort.startsWith('[') ? hostPort.slice(hostPort.indexOf(']') + 1) : hostPort.replace(/^[^:]*/, '');
  const port = afterHost.startsWith(':') ? afterHost.slice(1) : undefined;
  if (port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)) return `the port ${JSON.stringify(port)} is not a number from 1 to 65535`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'it is not a valid URL (a character that needs percent-encoding in the password?)';
  }
  if (url.hostname === '') return 'it names no host';
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db)) return `the database ${JSON.stringify(db)} is not a number`;
  return null;
}

/** store: Redis (or Sentinels), its replicas, the key prefix and the seed keys. */
export function storeSettings(r: Reader, opts: LoadOptions): Pick<Config, StoreSettings> {
  const redisUrl = r.str('FIVED_REDIS_URL');
  const urlProblem = redisUrl === '' ? null : redisUrlProblem(redisUrl);
  if (urlProblem !== null) r.problems.push(`FIVED_REDIS_URL: ${urlProblem}; expected redis://[user:password@]host:port[/db] (rediss:// for TLS)`);
  const redisSentinels: Array<{ host: string; port: number }> = [];
  for (const part of list(r.str('FIVED_REDIS_SENTINELS'))) {
    const m = /^([^:]+):(\d+)$/.exec(part);
    if (!m) r.problems.push(`FIVED_REDIS_SENTINELS: ${JSON.stringify(part)} is not host:port`);
    else redisSentinels.push({ host: m[1]!, port: Number(m[2]) });
  }
  const seed = seedKeys(r, (redisUrl !== '' || redisSentinels.length > 0) && !opts.tool);
  return {
    redisUrl,
    redisSentinels,
    redisSentinelName: r.str('FIVED_REDIS_SENTINEL_NAME'),
    redisSentinelPassword: r.str('FIVED_REDIS_SENTINEL_PASSWORD'),
    // Sentinel mode: a failover promotes a replica, so a bet waits for one by default (docs/reliability.md)
    redisMinReplicas: r.int('FIVED_REDIS_MIN_REPLICAS', redisSentinels.length > 0 ? 1 : 0),
    redisWaitTimeoutMs: r.int('FIVED_REDIS_WAIT_TIMEOUT_MS'),
    keyPrefix: r.str('FIVED_KEY_PREFIX'),
    seedKey: seed.current,
    seedKeysRetired: seed.retired,
  };
}

type GatewaySettings = 'port' | 'bindHost' | 'jwtSecret' | 'maxTokenAgeS' | 'operatorToken' | 'origins' | 'maxPayloadBytes' | 'maxBackpressureBytes' | 'idleTimeoutS' | 'demo' | 'allowUwsFallback' | 'socketIo' | 'socketIoConnectTimeoutMs';

/** gateway: where it listens, its secrets, its messages, demo mode and the Socket.IO layer. */
export function gatewaySettings(r: Reader): Pick<Config, GatewaySettings> {
  const demo = r.bool('FIVED_DEMO');
  // No built-in secret, not even for the demo: anyone who knows it can sign a token for any user
  // id, and a demo gateway on a real store would hand out real users' balances (issue 12, row 6).
  // Without a secret nobody can bet: anonymous watching only.
  const jwtSecret = r.str('FIVED_JWT_SECRET');
  if (jwtSecret === '') {
    if (demo) r.problems.push('FIVED_DEMO=true needs an explicit FIVED_JWT_SECRET (at least 16 random characters, e.g. `openssl rand -hex 32`): demo mode no longer signs with a built-in secret');
  } else if (jwtSecret.length < 16) r.problems.push('FIVED_JWT_SECRET: use at least 16 characters');
  const operatorToken = r.str('FIVED_OPERATOR_TOKEN');
  if (operatorToken !== '' && operatorToken.length < 32) {
    r.problems.push(`FIVED_OPERATOR_TOKEN: use at least 32 characters (got ${operatorToken.length}), e.g. \`openssl rand -hex 32\``);
  }
  return {
    port: r.int('FIVED_PORT'),
    bindHost: r.str('FIVED_HOST'),
    jwtSecret,
    maxTokenAgeS: r.int('FIVED_MAX_TOKEN_AGE_S'),
    operatorToken,
    origins: list(r.str('FIVED_ORIGINS')),
    maxPayloadBytes: r.int('FIVED_MAX_PAYLOAD'),
    maxBackpressureBytes: r.int('FIVED_MAX_BACKPRESSURE'),
    idleTimeoutS: r.int('FIVED_IDLE_TIMEOUT_S'),
    demo,
    allowUwsFallback: r.bool('FIVED_ALLOW_UWS_FALLBACK'),
    // the Socket.IO compatibility layer (docs/socketio.md), on unless FIVED_SOCKETIO=false
    socketIo: r.bool('FIVED_SOCKETIO'),
    socketIoConnectTimeoutMs: r.int('FIVED_SOCKETIO_CONNECT_TIMEOUT_MS'),
  };
}

type LimitSettings = 'rateLimitPerS' | 'maxSocketsPerUser' | 'userBetRatePerS' | 'maxConnsPerIp' | 'httpRatePerIp' | 'demoSessionsPerIpPerHour' | 'operatorFailuresPerMin' | 'trustedProxies';

/** limits: per socket, per user and per client address (0 = off; per gateway, in memory). */
export function limitSettings(r: Reader): Pick<Config, LimitSettings> {
  const trustedProxies = list(r.str('FIVED_TRUSTED_PROXIES'));
  for (const p of trustedProxies) {
    if (!validProxy(p)) r.problems.push(`FIVED_TRUSTED_PROXIES: ${JSON.stringify(p)} is not an IP address or CIDR range (e.g. 10.0.0.0/8)`);
  }
  return {
    rateLimitPerS: r.int('FIVED_RATE_LIMIT'),
    maxSocketsPerUser: r.int('FIVED_MAX_SOCKETS_PER_USER'),
    userBetRatePerS: r.int('FIVED_USER_BET_RATE'),
    // carrier NAT puts thousands of players behind one address: generous per-IP defaults
    maxConnsPerIp: r.int('FIVED_MAX_CONNS_PER_IP'),
    httpRatePerIp: r.int('FIVED_HTTP_RATE_PER_IP'),
    demoSessionsPerIpPerHour: r.int('FIVED_DEMO_SESSIONS_PER_IP'),
    operatorFailuresPerMin: r.int('FIVED_OPERATOR_FAILURES_PER_MIN'),
    trustedProxies,
  };
}

type ProcessSettings = 'maxClockSkewMs' | 'clockOffsetMs' | 'drainMs' | 'settleGraceMs' | 'poolThreads' | 'poolNice' | 'logLevel' | 'schedulerPort' | 'schedulerHost' | 'leaseTtlMs';

/** Who this process is: its name in logs, results' tracking and metrics, and its host. */
export function identity(r: Reader): Pick<Config, 'instance' | 'host'> {
  return { instance: r.str('FIVED_INSTANCE', `${os.hostname()}:${process.pid}`), host: os.hostname() };
}

/** process and scheduler: its clock, its pool, its log, the scheduler's port and lease. */
export function processSettings(r: Reader): Pick<Config, ProcessSettings> {
  return {
    maxClockSkewMs: r.int('FIVED_MAX_CLOCK_SKEW_MS'),
    clockOffsetMs: r.int('FIVED_CLOCK_OFFSET_MS'),
    drainMs: r.int('FIVED_DRAIN_MS'),
    settleGraceMs: r.int('FIVED_SETTLE_GRACE_MS'),
    poolThreads: r.int('FIVED_POOL_THREADS'),
    poolNice: r.int('FIVED_POOL_NICE'),
    // checked by loadConfig once the overrides are in (LOG_LEVELS)
    logLevel: r.str('FIVED_LOG_LEVEL'),
    schedulerPort: r.int('FIVED_SCHEDULER_PORT'),
    schedulerHost: r.str('FIVED_SCHEDULER_HOST') || r.str('FIVED_HOST'),
    leaseTtlMs: r.int('FIVED_LEASE_TTL_MS'),
  };
}

/** archive: the PostgreSQL archive (docs/operations.md, section 16); '' = none, nothing changes. */
export function archiveSettings(r: Reader): Pick<Config, 'archiveUrl' | 'archiveBatchRows' | 'archivePollMs' | 'archiveAlertLagS' | 'archiverPort'> {
  const archiveUrl = r.str('FIVED_ARCHIVE_URL');
  if (archiveUrl !== '' && !/^postgres(ql)?:\/\//.test(archiveUrl)) r.problems.push(`FIVED_ARCHIVE_URL: expected postgres://user[:password]@host[:port]/database`);
  return {
    archiveUrl,
    archiveBatchRows: r.int('FIVED_ARCHIVE_BATCH'),
    archivePollMs: r.int('FIVED_ARCHIVE_POLL_MS'),
    archiveAlertLagS: r.int('FIVED_ARCHIVE_ALERT_LAG_S'),
    archiverPort: r.int('FIVED_ARCHIVER_PORT'),
  };
}
