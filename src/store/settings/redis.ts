// The game settings schedule in Redis: one key, replaced by compare-and-set.
import type { RedisBase } from '../base/redis.js';
import type { SettingsStore } from '../types.js';

/** compare-and-set of the settings schedule (ARGV[1] '0': only if absent) */
const SWAP_SETTINGS = `local cur = redis.call('GET', KEYS[1])
if (ARGV[1] == '0' and cur == false) or (ARGV[1] == '1' and cur == ARGV[2]) then redis.call('SET', KEYS[1], ARGV[3]) return 1 end
return 0`;

export class RedisSettings implements SettingsStore {
  constructor(private readonly b: RedisBase) {}

  async getSettings(): Promise<string | null> {
    return this.b.op(() => this.b.redis.get(this.b.keys.settings));
  }

  async swapSettings(expected: string | null, next: string): Promise<boolean> {
    return this.b.op(async () => {
      const r = await this.b.redis.eval(SWAP_SETTINGS, 1, this.b.keys.settings, expected === null ? '0' : '1', expected ?? '', next);
      return r === 1;
    });
  }
}
