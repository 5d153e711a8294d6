// Plumbing every subcommand shares: reading the configuration once with a clear message, and
// opening the Redis store for the operator tools (credit, inspect, wallet; bench/load-bets.ts too).
import { loadConfig, unknownSettings, type Config } from '../config.js';
import { ErrorCode, FivedError, isFivedError } from '../errors.js';
import { storeOptionsOf } from '../runtime/pool.js';
import { RedisStore } from '../store/redis.js';
import { reportUsage, UsageError } from './args.js';
import type { StoreOptions } from '../store/types.js';

export function usesRedis(cfg: Pick<Config, 'redisUrl' | 'redisSentinels'>): boolean {
  return cfg.redisUrl !== '' || cfg.redisSentinels.length > 0;
}

/** The configuration, or null after printing its problems (the caller exits 2). */
export function loadConfigOrReport(): Readonly<Config> | null {
  try {
    return loadConfig();
  } catch (err) {
    console.error(isFivedError(err) ? err.message : String(err));
    return null;
  }
}

/** A serving process (all, gateway, scheduler) starts despite unknown FIVED_* names (check-config,
 *  which systemd runs before each start, refuses them) but names each in a warning. */
export function warnUnknownSettings(log: { warn(obj: object, msg: string): void }, env: NodeJS.ProcessEnv = process.env): string[] {
  const unknown = unknownSettings(env);
  if (unknown.length > 0) {
    log.warn({ unknown: unknown.map((u) => u.name) }, `ignored: ${unknown.map((u) => u.message).join('; ')} (fived check-config refuses them)`);
  }
  return unknown.map((u) => u.message);
}

/** Runs a tool's body; a usage error is printed with the usage line (exit 2), any other thrown
 *  error as `CODE: message` (exit 1): one that is no FivedError as `E_INTERNAL: message`. */
export async function runTool(name: string, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof UsageError) return reportUsage(err, name);
    console.error(isFivedError(err) ? `${err.code}: ${err.message}` : `${ErrorCode.INTERNAL}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

/**
 * Opens a light RedisStore for an operator tool (no generation writes, no subscriber), runs `fn`
 * and closes it. Refuses with a clear message when no Redis is configured.
 */
export async function withRedisStore<T>(what: string, extra: Partial<StoreOptions>, fn: (store: RedisStore, cfg: Readonly<Config>) => Promise<T>): Promise<T> {
  const cfg = loadConfig(process.env, {}, { tool: true });
  if (!usesRedis(cfg)) {
    throw new FivedError(ErrorCode.CONFIG_INVALID, `${what} works on Redis: set FIVED_REDIS_URL (the in-memory store lives inside \`fived all\`)`);
  }
  const store = new RedisStore({ ...storeOptionsOf(cfg), light: true, ...extra });
  try {
    await store.init();
    return await fn(store, cfg);
  } finally {
    await store.close();
  }
}

/** A serving command that failed to start: whatever it opened and could not close (a pending
 *  reconnect, a worker thread) must not keep the process alive: exit with `code` within a bound. */
export function exitSoon(code: number, ms = 1000): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), ms).unref();
}
