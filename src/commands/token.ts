// `fived token USER [--ttl SECONDS] [--json]`: a player token for tests and the SDK's examples,
// signed like a platform would sign one: HS256 with FIVED_JWT_SECRET, `sub` = USER, `iat` now and
// `exp` = iat + ttl, the ttl at most FIVED_MAX_TOKEN_AGE_S (a gateway refuses a longer one).
// Prints only the token (TOKEN=$(fived token alice)), or with --json also its user and expiry.
// Loads no uWS and no Redis client.
import type { Command } from '../cli.js';
import { loadConfig } from '../config.js';
import { isFivedError } from '../errors.js';
import { TokenVerifier } from '../gateway/auth.js';
import { USER_ID } from '../core/ids.js';
import { parseCommandLine, reportUsage, UsageError } from './args.js';

const DEFAULT_TTL_S = 3600;
const usage = 'fived token USER [--ttl SECONDS] [--json]   (signs with FIVED_JWT_SECRET; --ttl default 3600, at most FIVED_MAX_TOKEN_AGE_S)';

export const command: Command = {
  summary: 'print a player token (HS256 JWT, sub = USER, exp = now + --ttl) signed with FIVED_JWT_SECRET, for tests and SDK examples',
  usage,
  async run(args: string[]): Promise<number> {
    try {
      const p = parseCommandLine(args, { name: 'token', usage, flags: { ttl: { type: 'string' }, json: { type: 'boolean' } }, positionals: 1 });
      const user = p.positionals[0]!;
      if (!USER_ID.test(user)) throw new UsageError(`USER ${JSON.stringify(user)} must be 1-128 of A-Z a-z 0-9 _ . : @ -`, usage);
      const cfg = loadConfig(process.env, {}, { tool: true });
      const ttlRaw = p.flags.ttl;
      let ttlS = Math.min(DEFAULT_TTL_S, cfg.maxTokenAgeS);
      if (ttlRaw !== undefined) {
        if (typeof ttlRaw !== 'string' || !/^[1-9]\d{0,9}$/.test(ttlRaw)) throw new UsageError(`--ttl ${JSON.stringify(ttlRaw)} must be a positive whole number of seconds`, usage);
        ttlS = Number(ttlRaw);
        if (ttlS > cfg.maxTokenAgeS) throw new UsageError(`--ttl ${ttlS} exceeds FIVED_MAX_TOKEN_AGE_S (${cfg.maxTokenAgeS}): a gateway would refuse the token`, usage);
      }
      if (cfg.jwtSecret === '') {
        console.error('fived token: FIVED_JWT_SECRET is not set: player tokens are off, there is nothing to sign with (e.g. FIVED_JWT_SECRET=$(openssl rand -hex 32), the same on every gateway)');
        return 1;
      }
      const now = Date.now();
      const token = await new TokenVerifier(cfg.jwtSecret, cfg.maxTokenAgeS).sign(user, ttlS, now);
      const expiresAt = (Math.floor(now / 1000) + ttlS) * 1000;
      console.log(p.flags.json ? JSON.stringify({ token, userId: user, expiresAt }) : token);
      return 0;
    } catch (err) {
      if (err instanceof UsageError) return reportUsage(err, 'token');
      console.error(isFivedError(err) ? `fived token: ${err.code}: ${err.message}` : String(err));
      return 1;
    }
  },
};
