// The demo session (FIVED_DEMO only): a fresh user with a play balance and a token, a few per
// address an hour.

import { ErrorCode, FivedError } from '../../errors.js';
import { demoUserId, type TokenVerifier } from '../auth.js';
import { json } from '../http.js';
import type { GatewayLimits } from '../limits.js';
import { notFound, type Routes } from './shared.js';

export const DEMO_BALANCE = 100_000;

export function mountDemo(r: Routes, verifier: TokenVerifier, limits: GatewayLimits): void {
  const { cfg, clock, metrics, store } = r.ctx;
  r.add('post', '/api/demo/session', 0, async (req) => {
    if (!cfg.demo) notFound('demo sessions are off (FIVED_DEMO)');
    if (!limits.demoSessions.take(req.ip, clock.now())) {
      metrics.refused.inc({ reason: 'demo_sessions' });
      throw new FivedError(ErrorCode.RATE_LIMITED, `at most ${cfg.demoSessionsPerIpPerHour} demo sessions per hour from this address (FIVED_DEMO_SESSIONS_PER_IP)`);
    }
    const userId = demoUserId();
    const { balance } = await store.credit(userId, DEMO_BALANCE, `demo:${userId}`);
    const token = await verifier.sign(userId, Math.min(86_400, cfg.maxTokenAgeS), clock.now());
    return json(200, { token, userId, balance });
  });
  r.methodNotAllowed('/api/demo/session', 0);
}
