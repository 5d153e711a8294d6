// Commitments in memory: the sealed seed and its commitment, created once per period.
import { commitmentOf } from '../../core/draw.js';
import type { PeriodRef, PeriodWindow } from '../../core/types.js';
import { ErrorCode } from '../../errors.js';
import type { MemState } from '../base/memory.js';
import { storeError } from '../scripts.js';
import type { CommitStore } from '../types.js';
import { validateNow, validateRef, validateSeed, validateWindow } from '../validate.js';

export class MemCommits implements CommitStore {
  constructor(private readonly s: MemState) {}

  async commit(period: PeriodWindow, seedHex: string, now: number): Promise<{ commitment: string; created: boolean }> {
    validateWindow(period);
    const seed = validateSeed(seedHex);
    const t = validateNow(now);
    this.s.open();
    const p = this.s.getOrCreate(period);
    if (p.void) throw storeError(ErrorCode.PERIOD_VOID, { periodId: period.periodId });
    if (p.commitment) return { commitment: p.commitment, created: false };
    p.window = { startsAt: period.startsAt, freezeAt: period.freezeAt, endsAt: period.endsAt };
    // opened late (issue 13): allowed until the freeze, since no bet can predate the commitment
    if (t >= period.startsAt && Math.max(t, this.s.storeNow()) >= period.freezeAt) {
      p.void = true;
      p.reason = 'no commitment before the freeze';
      p.refunded = true;
      throw storeError(ErrorCode.COMMIT_TOO_LATE, { periodId: period.periodId });
    }
    p.seed = this.s.sealer.seal(period, seed);
    p.commitment = commitmentOf(seed);
    return { commitment: p.commitment, created: true };
  }

  async getCommitment(period: PeriodRef): Promise<string | null> {
    validateRef(period);
    return this.s.get(period)?.commitment ?? null;
  }

  async getSeed(period: PeriodRef): Promise<string | null> {
    validateRef(period);
    const sealed = this.s.get(period)?.seed;
    return sealed ? this.s.sealer.unseal(period, sealed) : null;
  }
}
