// Strict command lines for every subcommand: node:util parseArgs with strict: true, so an unknown
// or misspelled flag (`--ID` for `--id`), a missing value or a stray argument is an error that
// names it, and the command does nothing (exit 2). A typo must never fall back to a default: a
// `fived credit` whose --id was ignored would make a fresh deposit id and pay a retry twice.
import { parseArgs } from 'node:util';
import { ErrorCode, FivedError } from '../errors.js';

/** What every `fived` subcommand module exports (as `command`), loaded lazily by src/cli.ts; here
 *  rather than in cli.ts so the commands never import the CLI back. */
export interface Command {
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
}

export interface FlagSpec {
  type: 'string' | 'boolean';
}

export interface ParsedArgs {
  flags: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export interface CommandLine {
  /** the command's name, for messages (`fived credit`) */
  name: string;
  usage: string;
  flags?: Record<string, FlagSpec>;
  /** how many positionals the command takes (exactly, or a range); default none */
  positionals?: number | { min: number; max: number };
}

/** A usage error: printed with the usage line, exit 2 (see runTool / usageError callers). */
export class UsageError extends FivedError {
  constructor(message: string, readonly usage: string) {
    super(ErrorCode.BAD_REQUEST, message, { usage });
    this.name = 'UsageError';
  }
}

/** Node's parseArgs messages, reworded to name the flag plainly. */
function reword(err: unknown, args: readonly string[]): string {
  const code = (err as { code?: string }).code;
  const msg = err instanceof Error ? err.message : String(err);
  const quoted = /'(-{1,2}[^' ]*)/.exec(msg)?.[1] ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted || msg} (options are case-sensitive; nothing was done)`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/argument missing|ambiguous/.test(msg)) return `${quoted.replace(/=.*$/, '')} needs a value`;
      return `${quoted || msg}: takes no value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
      const extra = /'([^']*)'/.exec(msg)?.[1];
      return `unexpected argument ${JSON.stringify(extra ?? args.join(' '))}`;
    }
    default:
      return msg;
  }
}

/** Parses `args` strictly against the command's flags and positional count; throws UsageError. */
export function parseCommandLine(args: readonly string[], cl: CommandLine): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [name, spec] of Object.entries(cl.flags ?? {})) options[name] = { type: spec.type };
  const range = cl.positionals ?? 0;
  const { min, max } = typeof range === 'number' ? { min: range, max: range } : range;
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: max > 0 }) as typeof parsed;
  } catch (err) {
    throw new UsageError(reword(err, args), cl.usage);
  }
  const n = parsed.positionals.length;
  if (n > max) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[max])}`, cl.usage);
  if (n < min) throw new UsageError(`missing argument${min - n > 1 ? 's' : ''}`, cl.usage);
  // a flag given twice is ambiguous for an operator tool: refuse rather than pick one
  const end = args.indexOf('--');
  const flagArgs = end < 0 ? args : args.slice(0, end);
  for (const name of Object.keys(options)) {
    const given = flagArgs.filter((a) => a === `--${name}` || a.startsWith(`--${name}=`)).length;
    if (given > 1) throw new UsageError(`--${name} given ${given} times`, cl.usage);
  }
  return { flags: parsed.values, positionals: parsed.positionals };
}

/**
 * Whether `v` is a day of the calendar written YYYY-MM-DD (0001-01-01 … 9999-12-31): 2027-02-31
 * is not, where Date.parse would move it to March. THE check of a written day for the operator
 * tools (`--from`/`--to` here, `fived config apply --at`).
 */
export function isCalendarDay(v: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || v.startsWith('0000')) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}

/** An AMOUNT argument: a positive integer of minor units that is exact as a number (≤ 2^53-1), as typed. */
export function amountArg(raw: string, usage: string): number {
  const n = /^[1-9]\d{0,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`AMOUNT ${JSON.stringify(raw)} must be a positive integer of minor units, at most ${Number.MAX_SAFE_INTEGER}`, usage);
  return n;
}

export function requireFlag(p: ParsedArgs, name: string, usage: string): string {
  const v = p.flags[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`, usage);
  return v;
}

/** For commands configured only by the environment (all, gateway, scheduler, check-config). */
export function noArguments(args: readonly string[], name: string, usage: string): void {
  parseCommandLine(args, { name, usage });
}

/** Prints a usage error as `fived NAME: message` + the usage line; returns the exit code 2. */
export function reportUsage(err: UsageError, name: string): number {
  console.error(`fived ${name}: ${err.message}\nusage: ${err.usage}`);
  return 2;
}
