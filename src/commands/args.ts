// Minimal flag parsing shared by the subcommands: --name value, --flag, and positionals.
import { ErrorCode, FivedError } from '../errors.js';

export interface ParsedArgs {
  flags: Record<string, string | true>;
  positionals: string[];
}

export function parseArgs(args: string[], booleanFlags: readonly string[] = []): ParsedArgs {
  const flags: Record<string, string | true> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
      else if (booleanFlags.includes(a.slice(2))) flags[a.slice(2)] = true;
      else {
        const v = args[i + 1];
        if (v === undefined || v.startsWith('--')) throw new FivedError(ErrorCode.BAD_REQUEST, `option ${a} needs a value`);
        flags[a.slice(2)] = v;
        i++;
      }
    } else positionals.push(a);
  }
  return { flags, positionals };
}

export function requireFlag(p: ParsedArgs, name: string): string {
  const v = p.flags[name];
  if (typeof v !== 'string' || v === '') throw new FivedError(ErrorCode.BAD_REQUEST, `--${name} is required`);
  return v;
}
