// The only place that draws seeds: 32 bytes from the OS CSPRNG. Kept out of the core, which has
// no randomness of its own (the core's draw is a pure function of the seed).
import { randomBytes } from 'node:crypto';

/** A fresh secret seed, 64 lowercase hex chars. */
export function randomSeed(): string {
  return randomBytes(32).toString('hex');
}
