// Request/reply correlation: every request carries a numeric `id` the gateway echoes. A request
// made while disconnected waits for the next connection; one already sent when the socket drops
// rejects with E_ABORTED (its reply is lost); no reply in time rejects with E_TIMEOUT.

import { ErrorCode, FivedError } from '../../../src/errors.js';
import { ClientType, ServerType, type BalanceReplyMsg, type BetAckMsg, type BetMsg, type ClientMessage, type ErrorMsg, type LedgerReplyMsg, type MyBetsReplyMsg, type PongMsg } from '../../../src/protocol.js';

export type RequestReply = BetAckMsg | MyBetsReplyMsg | BalanceReplyMsg | LedgerReplyMsg | PongMsg;
export type RequestMessage = BetMsg | Extract<ClientMessage, { type: 'my_bets' | 'balance' | 'ledger' | 'ping' }>;

interface Pending {
  expected: RequestReply['type'];
  msg: RequestMessage;
  sent: boolean;
  timer: ReturnType<typeof setTimeout>;
  resolve: (reply: RequestReply) => void;
  reject: (err: FivedError) => void;
}

/** What a rejected request carries in `details`: enough to retry a bet idempotently. */
export function requestDetails(msg: RequestMessage): Record<string, unknown> {
  return msg.type === ClientType.BET ? { type: msg.type, id: msg.id, clientBetId: msg.clientBetId, room: msg.room, periodId: msg.periodId } : { type: msg.type, id: msg.id };
}

export class PendingRequests {
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;

  /** `send` returns false when the message could not go out now (it is retried by flush()). */
  constructor(
    private readonly send: (msg: RequestMessage) => boolean,
    private readonly timeoutMs: number,
  ) {}

  get size(): number {
    return this.#pending.size;
  }

  request<T extends RequestReply['type']>(msg: RequestMessage, expected: T, sendNow: boolean): Promise<Extract<RequestReply, { type: T }>> {
    const id = ++this.#nextId;
    const withId = { ...msg, id } as RequestMessage;
    return new Promise((resolve, reject) => {
      const p: Pending = {
        expected,
        msg: withId,
        sent: false,
        resolve: resolve as (r: RequestReply) => void,
        reject,
        timer: setTimeout(() => {
          this.#pending.delete(id);
          reject(new FivedError(ErrorCode.TIMEOUT, `no reply to ${msg.type} within ${this.timeoutMs} ms`, requestDetails(withId)));
        }, this.timeoutMs),
      };
      this.#pending.set(id, p);
      if (sendNow) p.sent = this.send(withId);
    });
  }

  /** Sends the requests made while disconnected. */
  flush(): void {
    for (const p of this.#pending.values()) if (!p.sent) p.sent = this.send(p.msg);
  }

  /** Rejects requests already sent (their reply is lost with the socket), or all of them. */
  fail(all: boolean, why: string): void {
    for (const [id, p] of this.#pending) {
      if (!all && !p.sent) continue; // still queued: it goes out after the reconnect
      clearTimeout(p.timer);
      this.#pending.delete(id);
      const hint = p.msg.type === ClientType.BET ? '; the bet may have been accepted: resend it with the same clientBetId' : '';
      p.reject(new FivedError(ErrorCode.ABORTED, `${p.msg.type}: ${why}${hint}`, requestDetails(p.msg)));
    }
  }

  /** Settles the request a reply or error answers; false when it answers none of ours. */
  settle(msg: RequestReply | ErrorMsg): boolean {
    if (typeof msg.id !== 'number') return false;
    const p = this.#pending.get(msg.id);
    if (!p) return false;
    this.#pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.type === ServerType.ERROR) p.reject(new FivedError(msg.code as ErrorCode, msg.message, requestDetails(p.msg)));
    else if (msg.type !== p.expected) p.reject(new FivedError(ErrorCode.MALFORMED, `expected ${p.expected} in reply to ${p.msg.type}, got ${msg.type}`));
    else p.resolve(msg);
    return true;
  }
}
