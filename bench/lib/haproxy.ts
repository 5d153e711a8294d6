// HAProxy in front of the peer and the floor (and of the gateways when the cluster script's own
// balancer is not used): roundrobin over the instances, WebSocket tunnel timeouts, a health check.
// One process holds ~2 fds per proxied connection and this container's hard fd limit is 20,000,
// so past ~9,000 clients the harness runs several HAProxy processes on the same port and config
// (SO_REUSEPORT, HAProxy's default on Linux): the kernel spreads the connections between them.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { start, type Tracked } from './procs.js';
import { waitForPort } from '../../test/helpers/ports.js';

export interface HaproxyOptions {
  port: number;
  servers: number[];
  healthPath: string | null;
  dir: string;
  maxconn: number;
  processes: number;
}

export function haproxyConfig(o: Omit<HaproxyOptions, 'dir' | 'processes'>): string {
  return [
    'global',
    `  maxconn ${o.maxconn}`,
    '  log stdout format raw local0 warning',
    'defaults',
    '  mode http',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout tunnel 1h',
    '  timeout http-request 10s',
    `  maxconn ${o.maxconn}`,
    'frontend fe',
    `  bind 127.0.0.1:${o.port}`,
    '  default_backend be',
    'backend be',
    '  balance roundrobin',
    // HTTP/1.1 with a Host header: uWS does not answer HAProxy's default HTTP/1.0 check
    ...(o.healthPath ? ['  option httpchk', `  http-check send meth GET uri ${o.healthPath} ver HTTP/1.1 hdr Host localhost`, '  http-check expect status 200'] : []),
    ...o.servers.map((p, i) => `  server s${i} 127.0.0.1:${p} check inter 2s maxconn ${o.maxconn}`),
    '',
  ].join('\n');
}

export async function startHaproxy(o: HaproxyOptions): Promise<Tracked[]> {
  const cfg = path.join(o.dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig(o));
  const procs: Tracked[] = [];
  for (let i = 0; i < o.processes; i++) {
    procs.push(start(`haproxy-${i}`, 'haproxy', ['-db', '-f', cfg], { logFile: path.join(o.dir, `haproxy-${i}.log`) }));
  }
  await waitForPort(o.port);
  return procs;
}

/** Connections one HAProxy process can proxy under an fd limit (2 per connection + slack). */
export function maxconnFor(fdLimit: number): number {
  return Math.floor((fdLimit - 200) / 2);
}
