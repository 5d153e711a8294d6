// Views of periods (GET /api/rooms/:room/periods/:periodId, and each item of the history) that
// can no longer change: ended and settled, or ended and void (a settled period cannot be voided).
// Kept in memory so lookups and history pages of them cost no Redis round trip; bounded, oldest
// evicted first (Map keeps insertion order). Anything not final is always read from the store.

import type { Reply } from './http.js';

export class FinalPeriods<T = Reply> {
  private readonly replies = new Map<string, T>();

  constructor(private readonly max = 4096) {}

  get(room: string, periodId: string): T | undefined {
    return this.replies.get(`${room}/${periodId}`);
  }

  remember(room: string, periodId: string, reply: T): void {
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
