// The WebSocket protocol between gateways and clients, shared by the gateway and the client SDK
// (and documented in docs/protocol.md). Binary frames are msgpack, text frames are JSON; a client
// is answered in the format it used last. Every message is an object with a `type`.
// Period ids are 17-digit strings; money is integer minor units; times are epoch ms.

import type { LedgerEntry } from './core/ledger.js';
import type { BetKind, BetPick, Digits } from './core/types.js';

export const WS_PATH = '/ws';
/** Sub-protocol names: the token travels as `fived.jwt.<token>` beside plain `fived`. */
export const WS_PROTOCOL = 'fived';
export const WS_TOKEN_PROTOCOL_PREFIX = 'fived.jwt.';

export const ClientType = {
  SUBSCRIBE: 'subscribe',
  UNSUBSCRIBE: 'unsubscribe',
  BET: 'bet',
  MY_BETS: 'my_bets',
  BALANCE: 'balance',
  LEDGER: 'ledger', // issue 14: the player's own ledger entries, newest first
  PING: 'ping',
} as const;
export type ClientType = (typeof ClientType)[keyof typeof ClientType];

export const ServerType = {
  HELLO: 'hello',
  PERIOD: 'period', // a period started (its commitment is public)
  TICK: 'tick', // every wall-clock second
  CLOSED: 'closed', // betting closed at the freeze
  RESULT: 'result', // at the period's end: digits, sum, revealed seed
  VOID: 'void', // the period has no result; bets refunded
  SETTLED: 'settled', // the player's own outcomes and balance, after the settlement is applied
  RECOVERY: 'recovery', // results missed while away, on subscribe with `since`
  SUBSCRIBED: 'subscribed',
  UNSUBSCRIBED: 'unsubscribed',
  BET_ACK: 'bet_ack',
  MY_BETS: 'my_bets',
  BALANCE: 'balance',
  LEDGER: 'ledger',
  PONG: 'pong',
  ERROR: 'error',
} as const;
export type ServerType = (typeof ServerType)[keyof typeof ServerType];

/** WebSocket close codes the gateway uses; documented in docs/protocol.md. */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001, // gateway draining or shutting down: reconnect (HAProxy sends you elsewhere)
  POLICY: 1008, // origin not allowed
  TOO_BIG: 1009, // frame over the maximum payload
  BACKPRESSURE: 4000, // too slow to receive: reconnect and recover with `since`
  RATE_LIMITED: 4001, // far over the message rate limit
  MALFORMED_FLOOD: 4002, // too many malformed frames
  AUTH_EXPIRED: 4003, // the token expired while connected
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

// ---- client → server ----
export interface SubscribeMsg {
  type: typeof ClientType.SUBSCRIBE;
  rooms: string[];
  /** last period id seen per room: the server sends missed results (recovery) */
  since?: Record<string, string>;
}
export interface UnsubscribeMsg {
  type: typeof ClientType.UNSUBSCRIBE;
  rooms: string[];
}
export interface BetMsg {
  type: typeof ClientType.BET;
  id?: string | number; // request correlation, echoed
  room: string;
  periodId: string;
  kind: BetKind;
  pick: BetPick;
  amount: number;
  clientBetId: string;
}
export interface MyBetsMsg {
  type: typeof ClientType.MY_BETS;
  id?: string | number;
  room?: string;
  periodId?: string;
  limit?: number;
}
export interface BalanceMsg {
  type: typeof ClientType.BALANCE;
  id?: string | number;
}
export interface PingMsg {
  type: typeof ClientType.PING;
  id?: string | number;
}
/** The player's own ledger entries (issue 14), newest first, older than `before` (an entryId). */
export interface LedgerMsg {
  type: typeof ClientType.LEDGER;
  id?: string | number;
  before?: string;
  limit?: number; // 1..100, default 50
}
export const LEDGER_PAGE_DEFAULT = 50;
export const LEDGER_PAGE_WS_MAX = 100;
export type ClientMessage = SubscribeMsg | UnsubscribeMsg | BetMsg | MyBetsMsg | BalanceMsg | LedgerMsg | PingMsg;

// ---- server → client ----
export interface RoomInfo {
  room: string;
  duration: number;
  timeline: string;
  periodId: string;
  startsAt: number;
  freezeAt: number;
  endsAt: number;
  commitment: string | null;
}
export interface HelloMsg {
  type: typeof ServerType.HELLO;
  serverTime: number;
  /** (the gateway's instance name is not sent: internals stay on the operator endpoints) */
  userId: string | null;
  freezeMs: number;
  rooms: RoomInfo[];
}
export interface PeriodMsg extends RoomInfo {
  type: typeof ServerType.PERIOD;
}
export interface TickMsg {
  type: typeof ServerType.TICK;
  room: string;
  periodId: string;
  now: number; // the second boundary this tick stands for
  remainingMs: number; // until endsAt
  phase: 'betting' | 'frozen';
}
export interface ClosedMsg {
  type: typeof ServerType.CLOSED;
  room: string;
  periodId: string;
  freezeAt: number;
}
export interface ResultPayload {
  room: string;
  duration: number;
  timeline: string;
  periodId: string;
  digits: Digits;
  sum: number;
  seed: string;
  commitment: string;
  endsAt: number;
}
export interface ResultMsg extends ResultPayload {
  type: typeof ServerType.RESULT;
}
export interface VoidMsg {
  type: typeof ServerType.VOID;
  room: string;
  periodId: string;
  reason: string;
}
export interface BetOutcome {
  betId: string;
  clientBetId: string;
  kind: BetKind;
  pick: BetPick;
  amount: number;
  payout: number;
  state: 'pending' | 'won' | 'lost' | 'refunded';
}
export interface SettledMsg {
  type: typeof ServerType.SETTLED;
  room: string;
  periodId: string;
  /** the player's outcomes in the period, at most SETTLED_BETS_MAX of them */
  bets: BetOutcome[];
  /** true when the player had more bets in the period than the message carries (ask `my_bets`) */
  more: boolean;
  balance: number;
  /** present (true) on a notice sent after a `subscribe` with `since` for a period settled while the
   *  player was away (or connected elsewhere), absent on the live notice */
  recovered?: true;
}

/**
 * Outcomes carried by one `settled` message. It goes to every socket of the player at the same
 * moment; unbounded (a bot with thousands of bets per period), it could push a socket that is
 * briefly not reading past the backpressure limit and get it closed at every settlement.
 */
export const SETTLED_BETS_MAX = 100;
export interface RecoveryMsg {
  type: typeof ServerType.RECOVERY;
  room: string;
  results: ResultPayload[];
}
export interface SubscribedMsg {
  type: typeof ServerType.SUBSCRIBED;
  rooms: RoomInfo[];
}
export interface UnsubscribedMsg {
  type: typeof ServerType.UNSUBSCRIBED;
  rooms: string[];
}
export interface BetAckMsg {
  type: typeof ServerType.BET_ACK;
  id?: string | number;
  betId: string;
  clientBetId: string;
  room: string;
  periodId: string;
  kind: BetKind;
  pick: BetPick;
  amount: number;
  balance: number;
  duplicate: boolean;
}
export interface MyBetsReplyMsg {
  type: typeof ServerType.MY_BETS;
  id?: string | number;
  bets: Array<BetOutcome & { room: string; periodId: string }>;
}
/** `next`: the `before` of the following page (null: no older entry kept). A payout entry never
 *  arrives before this gateway revealed its period (the balance gate, docs/design.md rule 4). */
export interface LedgerReplyMsg {
  type: typeof ServerType.LEDGER;
  id?: string | number;
  entries: LedgerEntry[];
  next: string | null;
}
export interface BalanceReplyMsg {
  type: typeof ServerType.BALANCE;
  id?: string | number;
  balance: number;
}
export interface PongMsg {
  type: typeof ServerType.PONG;
  id?: string | number;
  now: number;
}
export interface ErrorMsg {
  type: typeof ServerType.ERROR;
  id?: string | number;
  code: string; // an ErrorCode from src/errors.ts
  message: string;
}
export type ServerMessage =
  | HelloMsg
  | PeriodMsg
  | TickMsg
  | ClosedMsg
  | ResultMsg
  | VoidMsg
  | SettledMsg
  | RecoveryMsg
  | SubscribedMsg
  | UnsubscribedMsg
  | BetAckMsg
  | MyBetsReplyMsg
  | BalanceReplyMsg
  | LedgerReplyMsg
  | PongMsg
  | ErrorMsg;

/** Room topic names in uWS pub/sub; one topic per room. */
export function roomTopic(room: string): string {
  return `room/${room}`;
}
