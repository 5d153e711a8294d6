// Commitments in Redis (commit.lua): only the sealed seed goes to Redis, so nothing at rest
// predicts a period's result.
import { commitmentOf } from '../../core/draw.js';
import type { PeriodRef, PeriodWindow } from '../../core/types.js';
import type { RedisBase } from '../base/redis.js';
import { PERIOD_TTL_S } from '../keys.js';
import { checkReply } from '../scripts.js';
import type { CommitStore } from '../types.js';
import { validateNow, validateRef, validateSeed, validateWindow } from '../validate.js';

export class RedisCommits implements CommitStore {
  constructor(private readonly b: RedisBase) {}

  async commit(period: PeriodWindow, seedHex: string, now: number): Promise<{ commitment: string; created: boolean }> {
    validateWindow(period);
    const seed = validateSeed(seedHex);
    const t = validateNow(now);
    const commitment = commitmentOf(seed);
    const { sealed, keyId, iv } = this.b.seeds().seal(period, seed);
    const k = this.b.keys.period(period);
    const reply = await this.b.op(() => this.b.script('fivedCommit', [k.meta], [sealed, commitment, period.startsAt, period.freezeAt, period.endsAt, t, PERIOD_TTL_S, keyId, iv]));
    const [status, winner] = checkReply<[number, string]>(reply, { periodId: period.periodId });
    this.b.track(period);
    return { commitment: winner, created: status === 1 };
  }

  async getCommitment(period: PeriodRef): Promise<string | null> {
    validateRef(period);
    return this.b.op(() => this.b.redis.hget(this.b.keys.period(period).meta, 'commitment'));
  }

  async getSeed(period: PeriodRef): Promise<string | null> {
    validateRef(period);
    const sealer = this.b.seeds();
    const [sealed, keyId, iv, legacy] = await this.b.op(() => this.b.redis.hmget(this.b.keys.period(period).meta, 'sealedSeed', 'seedKeyId', 'seedIv', 'seed'));
    if (sealed != null && keyId != null) return sealer.unseal(period, { keyId, iv: iv ?? '', sealed });
    // written in clear by a version before sealing (gone with the hash's TTL): readable as before
    return legacy ?? null;
  }
}
