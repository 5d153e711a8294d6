// fived's room broadcasts and player notices, re-said as the replaced system's events
// (docs/socketio.md "Events"). The hub calls this right after its own WebSocket clients got the
// same message, so timing and the reveal gate are the gateway's: `periodResult` is built from the
// RESULT the gateway publishes at the period's end (never before, rule 4), `betResult` and
// `balanceUpdate` from the SETTLED notice that follows the settlement. Results first at a boundary
// is the hub's (holdUntilResult): the new period's events reach this mirror after the result.

import { windowOf, type Room } from '../../runtime/rooms.js';
import { ServerType, type ServerMessage, type SettledMsg } from '../../protocol.js';
import type { GatewayContext } from '../context.js';
import type { HubMirror } from '../hub.js';
import type { Periods } from '../periods.js';
import { betTypeOf, oddsOf } from './bets.js';
import { balanceUpdate, bettingClosed, GAME_TYPE, iso, OUT, periodResult, periodStart, resultDigits, timeUpdate } from './events.js';
import type { Fanout } from './fanout.js';
import { minorToRupees } from './rupees.js';

const LAGGARD_MARGIN = 4096;

export class SocketIoMirror implements HubMirror {
  constructor(
    private readonly ctx: GatewayContext,
    private readonly periods: Periods,
    private readonly fanout: Fanout,
  ) {}

  broadcast(roomName: string, msg: ServerMessage): void {
    const room = this.ctx.rooms.find((r) => r.name === roomName);
    if (!room || this.fanout.count(roomName) === 0) return;
    const now = this.ctx.clock.now();
    switch (msg.type) {
      case ServerType.TICK:
        this.fanout.emit(roomName, OUT.TIME_UPDATE, timeUpdate(room, msg, this.fanout.count(roomName)));
        return;
      case ServerType.PERIOD:
        this.fanout.emit(roomName, OUT.PERIOD_START, periodStart(room, msg, now));
        return;
      case ServerType.CLOSED:
        this.fanout.emit(roomName, OUT.BETTING_CLOSED, bettingClosed(room, msg, windowOf(room, msg.periodId).endsAt, now));
        return;
      case ServerType.RESULT: {
        // a publish skips a WebSocket over its buffer limit: those are disconnected after it and
        // reconnect (their front end reads the result from last-result), as fived's own clients
        const lagging = this.fanout.laggards(roomName, Math.max(0, this.ctx.cfg.maxBackpressureBytes - LAGGARD_MARGIN));
        this.fanout.emit(roomName, OUT.PERIOD_RESULT, periodResult(msg, now));
        for (const c of lagging) c.closeTransport(); // the client reconnects on its own
        return;
      }
      case ServerType.VOID:
        this.fanout.emit(roomName, OUT.PERIOD_VOID, { gameType: GAME_TYPE, duration: room.duration, periodId: msg.periodId, reason: msg.reason, roomId: roomName, timestamp: iso(now) });
        return;
      default:
        return;
    }
  }

  hasUser(userId: string): boolean {
    return this.fanout.userSockets(userId).size > 0;
  }

  toUser(userId: string, msg: ServerMessage): void {
    if (msg.type !== ServerType.SETTLED) return;
    const room = this.ctx.rooms.find((r) => r.name === msg.room);
    if (!room) return;
    const now = this.ctx.clock.now();
    const result = this.periods.get(room.duration, msg.periodId)?.delivered;
    if (!result) return; // never before the result went out (Settlement.notify checks it too)
    const payload = betResult(this.ctx, room, msg, resultDigits(result), now);
    const balance = balanceUpdate(msg.balance, minorToRupees, now);
    for (const c of this.fanout.userSockets(userId)) {
      c.later(OUT.BET_RESULT, payload);
      c.later(OUT.BALANCE, balance);
    }
  }
}

/** The player's own outcome of a period (the replaced system's betResult, never sent there). */
export function betResult(ctx: GatewayContext, room: Room, msg: SettledMsg, result: ReturnType<typeof resultDigits>, now: number) {
  const won = msg.bets.filter((b) => b.state === 'won');
  const paytable = ctx.cfg.paytable;
  return {
    gameType: GAME_TYPE, duration: room.duration, periodId: msg.periodId, result,
    userResult: {
      hasWon: won.length > 0,
      totalWinnings: minorToRupees(won.reduce((a, b) => a + b.payout, 0)),
      winningBets: won.map((b) => ({
        betId: b.betId, ...betTypeOf(b.kind, b.pick), betAmount: minorToRupees(b.amount), winnings: minorToRupees(b.payout),
        profitLoss: minorToRupees(b.payout - b.amount), odds: oddsOf(paytable, b.kind, b.pick),
      })),
      bets: msg.bets.map((b) => ({ betId: b.betId, ...betTypeOf(b.kind, b.pick), betAmount: minorToRupees(b.amount), status: b.state, payout: minorToRupees(b.payout) })),
    },
    balance: minorToRupees(msg.balance),
    timestamp: iso(now), source: 'bet_result_notification',
  };
}

