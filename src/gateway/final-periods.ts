// Responses of GET /api/rooms/:room/periods/:periodId for periods that can no longer change:
// ended and settled, or ended and void (a settled period cannot be voided). Kept in memory so
// history lookups cost no Redis round trip; bounded, oldest evicted first (Map keeps insertion
// order). Anything not final is always read from the store.

import type { Reply } from './http.js';

export class FinalPeriods {
  private readonly replies = new Map<string, Reply>();

  constructor(private readonly max = 4096) {}

  get(room: string, periodId: string): Reply | undefined {
    return this.replies.get(`${room}/${periodId}`);
  }

  remember(room: string, periodId: string, reply: Reply): void {
    const key = `${room}/${periodId}`;
    if (this.replies.has(key)) return;
    if (this.replies.size >= this.max) {
      const oldest = this.replies.keys().next().value;
      if (oldest !== undefined) this.replies.delete(oldest);
    }
    this.replies.set(key, reply);
  }

  get size(): number {
    return this.replies.size;
  }
}
