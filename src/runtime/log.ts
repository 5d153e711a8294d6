// Structured logs (pino, JSON on stdout). The seed guide's tags (`[5D_PRECALC_EXEC]`, …) live in a
// `tag` field and at the head of the message, with the room and period id as fields, so the guide's
// `pm2 logs … | grep 5D_PRECALC_EXEC` habit works unchanged on `journalctl -u fived-… | grep …`.

import { pino, type DestinationStream, type Logger, type LoggerOptions as PinoOptions } from 'pino';
import type { Config } from '../config.js';

export type { Logger } from 'pino';

/** Log tags of the seed guide, plus the few fived adds. Values are what operators grep. */
export const TAGS = {
  PRECALC_EXEC: '5D_PRECALC_EXEC', // scheduler: pre-calculation at the freeze
  PRECALC_COMPLETED: '5D_PRECALC_COMPLETED', // gateway: a completion notification received
  PRECALC_SUB: '5D_PRECALC_SUB', // gateway: subscription to the bus
  PERIOD_END: '5D_PERIOD_END', // gateway/scheduler: the period's end (result delivery, settlement)
  COMMIT: '5D_COMMIT', // commitments created ahead
  SETTLE: '5D_SETTLE', // settlement applied
  FALLBACK: '5D_FALLBACK', // gateway derived the result itself
  LEASE: '5D_LEASE', // scheduler lease acquired / lost / released
  VOID: '5D_VOID', // a period voided
  TICK: '5D_TICK', // late ticks
  BALANCE_HELD: '5D_BALANCE_HELD', // payouts/refunds held: they would pass FIVED_MAX_BALANCE
  RESULT_MISMATCH: '5D_RESULT_MISMATCH', // a stored result that does not verify against its commitment (error: voided, or settled already: alert)
  ARCHIVE: '5D_ARCHIVE', // the PostgreSQL archiver (issue 14): lock, progress, lag alerts
} as const;
export type Tag = (typeof TAGS)[keyof typeof TAGS];

export interface LoggerOptions {
  /** write somewhere else than stdout (tests) */
  destination?: DestinationStream;
}

/** One logger per component; children carry per-room fields. */
export function createLogger(cfg: Pick<Config, 'logLevel' | 'instance'>, component: string, opts: LoggerOptions = {}): Logger {
  const options: PinoOptions = {
    level: cfg.logLevel,
    base: { component, instance: cfg.instance, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** Fields of a tagged line: the tag, and usually the room and period id. */
export interface TagFields {
  room?: string;
  periodId?: string;
  [k: string]: unknown;
}

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** logTag(log, 'info', TAGS.PRECALC_EXEC, {room, periodId}, 'Starting …') → msg "[5D_PRECALC_EXEC] Starting …". */
export function logTag(log: Logger, level: Level, tag: Tag, fields: TagFields, msg: string): void {
  if (!log.isLevelEnabled(level)) return;
  log[level]({ tag, ...fields }, `[${tag}] ${msg}`);
}

/** A logger that writes nothing (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
