// The pure 5D core: clock maths, rules, fair draw, exposure, settlement. No I/O, no clock reads,
// no randomness. Node runtimes import this; browsers import draw-stream.ts (no node:crypto) and
// the other modules directly rather than this index (draw.ts uses node:crypto).
export * from './types.js';
export * from './rules.js';
export * from './clock.js';
export * from './draw.js';
export * from './betbuf.js';
export * from './exposure.js';
export * from './settlement.js';
export * from './ledger.js';
export * from './compute.js';
export * from './ids.js';
