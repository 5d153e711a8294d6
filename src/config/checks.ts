// The settings whose form is more than a number or a flag, checked where they are read: the game
// day's start, the seed keys, the trusted proxies. Each problem is pushed with its setting's name.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseSeedKey } from '../core/seed-key.js';
import type { DayStart } from '../core/types.js';
import { list, type Reader } from './read.js';

/** An IP address or a CIDR range (10.0.0.0/8, ::1/128). */
export function validProxy(p: string): boolean {
  const [addr, bits, extra] = p.split('/');
  const family = isIP(addr ?? '');
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d{1,3}$/.test(bits) && n <= (family === 4 ? 32 : 128);
}

/** FIVED_SEED_KEY, or FIVED_SEED_KEY_FILE (e.g. a systemd credential): the key as given. */
function currentSeedKey(r: Reader): string {
  let current = (r.raw('FIVED_SEED_KEY') ?? '').trim();
  const file = (r.raw('FIVED_SEED_KEY_FILE') ?? '').trim();
  if (file !== '') {
    if (current !== '') r.problems.push('FIVED_SEED_KEY and FIVED_SEED_KEY_FILE are both set: give the key one way');
    else {
      try {
        current = readFileSync(file, 'utf8').trim();
      } catch (err) {
        r.problems.push(`FIVED_SEED_KEY_FILE=${JSON.stringify(file)}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
    }
  }
  const from = file !== '' ? 'FIVED_SEED_KEY_FILE' : 'FIVED_SEED_KEY';
  if (current !== '' && !parseSeedKey(current)) {
    r.problems.push(`${from}: expected 32 bytes as 64 hex characters or base64 (generate one with \`openssl rand -hex 32\`)`);
  }
  return current;
}

/**
 * FIVED_SEED_KEY (or FIVED_SEED_KEY_FILE) and FIVED_SEED_KEYS_RETIRED.
 * With Redis the key is required: every gateway and scheduler must unseal what another sealed.
 * The embedded in-memory store gets a key made for this process (nothing else ever reads its seeds).
 */
export function seedKeys(r: Reader, redis: boolean): { current: string; retired: string[] } {
  let current = currentSeedKey(r);
  const retired = list(r.raw('FIVED_SEED_KEYS_RETIRED') ?? '');
  retired.forEach((k, i) => {
    if (!parseSeedKey(k)) r.problems.push(`FIVED_SEED_KEYS_RETIRED: entry ${i + 1} is not 32 bytes as 64 hex characters or base64`);
  });
  if (current === '') {
    if (redis) {
      r.problems.push('FIVED_SEED_KEY is required with FIVED_REDIS_URL or FIVED_REDIS_SENTINELS: seeds are stored in Redis only sealed under it, and every gateway and scheduler needs the same key (generate one with `openssl rand -hex 32`; see docs/operations.md, "The seed key")');
    } else {
      if (retired.length > 0) r.problems.push('FIVED_SEED_KEYS_RETIRED without FIVED_SEED_KEY: retired keys only make sense beside a current one');
      current = randomBytes(32).toString('hex'); // the in-memory store: a key for this process alone
    }
  }
  return { current, retired };
}

/** FIVED_DAY_START (HH:MM) in the zone FIVED_DAY_OFFSET (+HH:MM, -12:00..+14:00). */
export function parseDayStart(time: string, offset: string, problems: string[]): DayStart {
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
