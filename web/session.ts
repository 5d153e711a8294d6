// The demo session: a token and a demo balance from POST /api/demo/session, asked for only when
// GET /api/time says the gateway hands them out (`demo`: FIVED_DEMO on). Kept in sessionStorage so a reload keeps the same player and bets.

export interface DemoSession {
  token: string;
  userId: string;
  balance: number;
}

const KEY = 'fived.demo.session';

/** The `exp` of a JWT in epoch ms, or null if it has none or cannot be read. No signature check: display only. */
export function jwtExpiry(token: string): number | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/** A session is reusable while its token has at least `marginMs` left. */
export function isFresh(s: DemoSession, now: number, marginMs = 60_000): boolean {
  const exp = jwtExpiry(s.token);
  return exp === null || exp - marginMs > now;
}

function isSession(v: unknown): v is DemoSession {
  const o = v as DemoSession | null;
  return typeof o === 'object' && o !== null && typeof o.token === 'string' && typeof o.userId === 'string' && typeof o.balance === 'number';
}

/** The stored session if still fresh, else a new one; null when demo sessions are off. */
export async function demoSession(storage: Storage | undefined, now = Date.now()): Promise<DemoSession | null> {
  try {
    const cached: unknown = JSON.parse(storage?.getItem(KEY) ?? 'null');
    if (isSession(cached) && isFresh(cached, now)) return cached;
  } catch {
    // unreadable: fetch a new one
  }
  // ask first whether this gateway hands out demo sessions at all (GET /api/time says `demo`):
  // a watch-only gateway answers the POST with 404, which a browser logs as a console error
  if (!(await demoOn())) return null;
  let res: Response;
  try {
    res = await fetch('/api/demo/session', { method: 'POST', headers: { accept: 'application/json' } });
  } catch {
    return null;
  }
  if (!res.ok) return null;
  const body: unknown = await res.json().catch(() => null);
  if (!isSession(body)) return null;
  storage?.setItem(KEY, JSON.stringify(body));
  return body;
}

/** Whether the gateway runs with demo sessions (the `demo` field of GET /api/time); false when it cannot tell. */
export async function demoOn(): Promise<boolean> {
  try {
    const res = await fetch('/api/time', { headers: { accept: 'application/json' } });
    if (!res.ok) return false;
    const body = (await res.json()) as { demo?: unknown } | null;
    return body?.demo === true;
  } catch {
    return false;
  }
}

export function forgetSession(storage: Storage | undefined): void {
  storage?.removeItem(KEY);
}
