// What this gateway knows about each room's recent periods: the window, the commitment it
// announced, whether the period is void, the result held for the end, the result it delivered,
// and which users bet here (for settlement notices). Plain maps keyed by `${duration}:${periodId}`,
// pruned as periods age.

import type { PeriodWindow } from '../core/types.js';
import type { ResultPayload, RoomInfo } from '../protocol.js';
import type { Room } from '../runtime/rooms.js';
import type { StoredResult } from '../store/types.js';
import { periodKey } from './context.js';

export type PeriodStatus = 'pending' | 'open' | 'void';

/**
 * How long after a period's end a balance or ledger read waits for this gateway's result frame
 * (untilDelivered): longer than a result timer runs late on a loaded host, short enough that a
 * period whose result never came here cannot hold reads back for long.
 */
export const DELIVERY_WAIT_MS = 10_000;

export interface PeriodState {
  key: string;
  room: Room;
  w: PeriodWindow;
  commitment: string | null;
  status: PeriodStatus;
  voidReason: string | null;
  /** the verified result received before the end, published at the end */
  held: StoredResult | null;
  /** the result as delivered to clients (set at the end, never before) */
  delivered: ResultPayload | null;
  /** users who placed a bet on this period through this gateway */
  bettors: Set<string>;
  resolving: boolean;
  ending: boolean;
  settled: boolean;
  notified: boolean;
  cancels: Array<() => void>;
}

const RECENT_RESULTS = 100;

export class Periods {
  private readonly byKey = new Map<string, PeriodState>();
  private readonly currentByRoom = new Map<string, PeriodState>();
  private readonly recentByRoom = new Map<string, ResultPayload[]>();
  /** reads waiting for a period's result frame or its void (untilDelivered), by period key */
  private readonly waiters = new Map<string, Array<() => void>>();
  /** commitments learnt from commit-ahead, by period key (so a period start needs no store read) */
  readonly commitments = new Map<string, { commitment: string; endsAt: number }>();

  /** `rooms()`: the rooms in effect now (they change at a settings switch, runtime/schedule.ts) */
  constructor(private readonly rooms: () => readonly Room[]) {}

  get(duration: number, periodId: string): PeriodState | undefined {
    return this.byKey.get(periodKey(duration, periodId));
  }

  /** Every period of a room this gateway still tracks (not pruned). */
  ofRoom(room: string): PeriodState[] {
    return [...this.byKey.values()].filter((s) => s.room.name === room);
  }

  current(room: string): PeriodState | undefined {
    return this.currentByRoom.get(room);
  }

  /** Creates the state of a period (if new) and makes it the room's current one. */
  enter(room: Room, w: PeriodWindow): { state: PeriodState; isNew: boolean } {
    const key = periodKey(w.duration, w.periodId);
    let state = this.byKey.get(key);
    const isNew = state === undefined;
    if (!state) {
      const commitment = this.commitments.get(key)?.commitment ?? null;
      state = {
        key, room, w, commitment, status: commitment ? 'open' : 'pending', voidReason: null, held: null, delivered: null,
        bettors: new Set(), resolving: false, ending: false, settled: false, notified: false, cancels: [],
      };
      this.byKey.set(key, state);
    }
    this.currentByRoom.set(room.name, state);
    return { state, isNew };
  }

  all(): IterableIterator<PeriodState> {
    return this.byKey.values();
  }

  roomInfo(state: PeriodState): RoomInfo {
    const { room, w } = state;
    return {
      room: room.name, duration: room.duration, timeline: room.timeline, periodId: w.periodId,
      startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt, commitment: state.status === 'void' ? null : state.commitment,
    };
  }

  roomInfos(): RoomInfo[] {
    const out: RoomInfo[] = [];
    for (const r of this.rooms()) {
      const s = this.currentByRoom.get(r.name);
      if (s) out.push(this.roomInfo(s));
    }
    return out;
  }

  /** Remember a delivered result for recovery (newest last). */
  remember(room: string, payload: ResultPayload): void {
    let list = this.recentByRoom.get(room);
    if (!list) this.recentByRoom.set(room, (list = []));
    list.push(payload);
    if (list.length > RECENT_RESULTS) list.shift();
  }

  /** Delivered results of a room after `sincePeriodId` (oldest first). */
  recentAfter(room: string, sincePeriodId: string): ResultPayload[] {
    return (this.recentByRoom.get(room) ?? []).filter((p) => p.periodId > sincePeriodId);
  }

  /**
   * Resolves once every period that ended by `now` (within DELIVERY_WAIT_MS) has its result frame
   * sent by this gateway, or is void, or DELIVERY_WAIT_MS after its end has passed. A settlement
   * is applied after the store's end, not after this gateway's frame: a balance read in between,
   * on a host whose result timer runs late, would otherwise show a payout before the result.
   */
  untilDelivered(now: number): Promise<void> {
    // every bet and balance read asks: no array unless a period is actually waiting (rarely)
    let open: PeriodState[] | null = null;
    for (const s of this.byKey.values()) {
      if (s.status !== 'void' && s.delivered === null && s.w.endsAt <= now && now - s.w.endsAt < DELIVERY_WAIT_MS) (open ??= []).push(s);
    }
    if (open === null) return Promise.resolve();
    const oldestEnd = Math.min(...open.map((s) => s.w.endsAt));
    return new Promise((resolve) => {
      let left = open.length;
      const timer = setTimeout(resolve, DELIVERY_WAIT_MS - (now - oldestEnd));
      timer.unref?.();
      const one = () => {
        if (--left === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      for (const s of open) {
        let list = this.waiters.get(s.key);
        if (!list) this.waiters.set(s.key, (list = []));
        list.push(one);
      }
    });
  }

  /** Wakes the reads waiting for `s`: its result frame went out, or it turned void. */
  wake(s: PeriodState): void {
    const list = this.waiters.get(s.key);
    this.waiters.delete(s.key);
    for (const w of list ?? []) w();
  }

  /** Forgets periods that ended long ago (their notices are done or never coming). */
  prune(now: number): void {
    for (const [key, s] of this.byKey) {
      const keepMs = Math.max(10 * 60_000, 3 * s.room.duration * 1000);
      if (s.w.endsAt + keepMs < now && this.currentByRoom.get(s.room.name) !== s) {
        for (const c of s.cancels) c();
        this.wake(s);
        this.byKey.delete(key);
        this.commitments.delete(key);
      }
    }
    for (const [key, c] of this.commitments) {
      if (c.endsAt < now) this.commitments.delete(key);
    }
  }

  cancelAll(): void {
    for (const s of this.byKey.values()) {
      for (const c of s.cancels) c();
      s.cancels = [];
    }
  }
}
