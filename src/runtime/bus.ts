// Messages the scheduler and the gateways exchange on the bus (server to server, at-most-once).
// A completion notice carries the period identity and the instance tracking only: never the seed
// or the digits (docs/design.md rule 4) — a gateway reads the result key and holds it until the end.

import { isPeriodId } from '../core/ids.js';
import type { ResultTracking } from '../store/types.js';

// channel names are built with the other key names in the store (one place)
export { CHANNELS } from '../store/keys.js';

export interface CompletedMessage {
  room: string;
  duration: number;
  timeline: string;
  periodId: string;
  endsAt: number;
  tracking: ResultTracking;
}

export interface SettledMessage {
  room: string;
  duration: number;
  timeline: string;
  periodId: string;
  credited: number;
  by: string; // instance that applied it
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Narrow an untrusted bus payload (null when it is not a completion notice). */
export function parseCompleted(m: unknown): CompletedMessage | null {
  if (!isObj(m) || !isPeriodId(m.periodId)) return null;
  if (typeof m.duration !== 'number' || typeof m.timeline !== 'string' || typeof m.room !== 'string' || !isObj(m.tracking)) return null;
  return m as unknown as CompletedMessage;
}

export function parseSettled(m: unknown): SettledMessage | null {
  if (!isObj(m) || !isPeriodId(m.periodId)) return null;
  if (typeof m.duration !== 'number' || typeof m.timeline !== 'string' || typeof m.room !== 'string') return null;
  return m as unknown as SettledMessage;
}
