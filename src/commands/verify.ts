// `fived verify --seed HEX --commitment HEX --message MSG [--json]`: checks a published result by
// the algorithm of docs/fairness.md. Exit 0 when SHA-256(seed) equals the commitment, 1 when it
// does not, 2 on bad flags.
import type { Command } from '../cli.js';
import { verifyDraw } from '../core/draw.js';
import { isFivedError } from '../errors.js';
import { parseCommandLine, requireFlag } from './args.js';

const usage = 'fived verify --seed HEX --commitment HEX --message fiveD:{duration}:{timeline}:{periodId} [--json]';
const FLAGS = { seed: { type: 'string' }, commitment: { type: 'string' }, message: { type: 'string' }, json: { type: 'boolean' } } as const;

export const command: Command = {
  summary: 'verify a result: digits from the revealed seed, and whether it matches the commitment',
  usage,
  async run(args: string[]): Promise<number> {
    let seed: string;
    let commitment: string;
    let message: string;
    let json: boolean;
    let v: ReturnType<typeof verifyDraw>;
    try {
      const p = parseCommandLine(args, { name: 'verify', usage, flags: FLAGS });
      seed = requireFlag(p, 'seed', usage);
      commitment = requireFlag(p, 'commitment', usage);
      message = requireFlag(p, 'message', usage);
      json = p.flags.json === true;
      v = verifyDraw(seed, commitment, message);
    } catch (err) {
      const msg = isFivedError(err) ? `${err.message} (${err.code})` : err instanceof Error ? err.message : String(err);
      console.error(`fived verify: ${msg}\nusage: ${usage}`);
      return 2;
    }
    if (json) {
      console.log(JSON.stringify({ digits: v.digits, sum: v.sum, commitmentOk: v.commitmentOk }));
    } else {
      console.log(`message     ${message}`);
      console.log(`digits      A=${v.digits[0]} B=${v.digits[1]} C=${v.digits[2]} D=${v.digits[3]} E=${v.digits[4]}  (${v.digits.join('')})`);
      console.log(`sum         ${v.sum}`);
      console.log(`commitment  ${v.commitmentOk ? 'OK: SHA-256(seed) matches' : 'MISMATCH: SHA-256(seed) is not the published commitment'}`);
    }
    return v.commitmentOk ? 0 : 1;
  },
};
