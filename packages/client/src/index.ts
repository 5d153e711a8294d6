// @fived/client: the typed WebSocket client of fived for browsers and Node 20 (docs/sdk.md).
//
//   import { connect } from '@fived/client';
//   import WebSocket from 'ws'; // Node 20 only; browsers have one
//   const client = connect('ws://localhost:3000/ws', { token, WebSocket, rooms: ['fiveD_60'] });
//   client.on('result', (r) => console.log(r.periodId, r.digits, r.verified));
//   const ack = await client.bet({ room: 'fiveD_60', kind: 'A', pick: 7, amount: 100 });

export {
  connect,
  FivedClient,
  MAX_HOLD_MS,
  gatewayUrl,
  newClientBetId,
  type BetInput,
  type ClientErrorEvent,
  type ClientEvents,
  type ClientOptions,
  type ConnectionState,
  type MyBetsQuery,
  type SettledEvent,
  type TokenSource,
  type VerifiedResult,
  type WarningEvent,
  type WebSocketConstructor,
  type WebSocketLike,
} from './client.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { decodeMessage, encodeMessage, type WireFormat } from './codec.js';
export { TypedEmitter, type Listener } from './emitter.js';
export { previousPeriodId, RecoveryCursor } from './recovery-cursor.js';
export { ServerClock } from './server-clock.js';
export { verifyResult, type AnnouncedPeriod, type ResultVerification } from './verify.js';
export { ErrorCode, FivedError, isFivedError } from '../../../src/errors.js';
export * from '../../../src/protocol.js';
export type { BetKind, BetPick, Digits } from '../../../src/core/types.js';
