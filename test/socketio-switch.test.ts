// FIVED_SOCKETIO: the Socket.IO endpoint and its REST routes are on by default and gone with
// `false` (then /socket.io/ is an ordinary unknown path: 404), on a real `fived all` process.
import { afterAll, describe, expect, it } from 'vitest';
import { http, spawnFived, waitUntil, type FivedProcess } from './support/deploy.js';
import { freePort } from './support/ports.js';

describe('FIVED_SOCKETIO', () => {
  const procs: FivedProcess[] = [];
  afterAll(async () => {
    for (const p of procs) await p.stop();
  });

  const start = async (extra: Record<string, string>) => {
    const port = await freePort();
    const p = spawnFived(`sio-switch-${port}`, ['all'], { FIVED_PORT: String(port), FIVED_HOST: '127.0.0.1', FIVED_LOG_LEVEL: 'warn', FIVED_JWT_SECRET: 'socketio-switch-secret-0123456789', FIVED_DURATIONS: '60', ...extra });
    procs.push(p);
    await waitUntil('health', async () => ((await http(port, 'GET', '/health').catch(() => ({ status: 0 }))).status === 200 ? true : undefined), 30_000);
    return port;
  };

  it('serves the Engine.IO handshake by default (EIO 4, the replaced system\'s ping settings) and nothing with false', async () => {
    const on = await start({});
    const open = await http(on, 'GET', '/socket.io/?EIO=4&transport=polling');
    expect(open.status).toBe(200);
    const packet = JSON.parse(open.body.slice(1)) as Record<string, unknown>;
    expect(open.body[0]).toBe('0');
    expect(packet).toMatchObject({ upgrades: ['websocket'], pingInterval: 25_000, pingTimeout: 60_000, maxPayload: 1e6 });
    expect(String(open.headers['set-cookie'])).toContain(`io=${String(packet.sid)}`);
    expect((await http(on, 'GET', '/socket.io/?EIO=3&transport=polling')).status).toBe(400); // v2 clients refused, as the replaced system
    expect((await http(on, 'GET', '/api/games/5d/60/last-result')).status).toBe(401);
    expect((await http(on, 'GET', '/metrics')).body).toMatch(/^fived_gateway_socketio_connections 0$/m);

    const off = await start({ FIVED_SOCKETIO: 'false' });
    expect((await http(off, 'GET', '/socket.io/?EIO=4&transport=polling')).status).toBe(404);
    expect((await http(off, 'GET', '/api/games/5d/60/last-result')).status).toBe(404);
  });
});
