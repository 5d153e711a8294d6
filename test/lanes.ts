// The three test lanes (issue 17 item 6), vitest projects (vitest.config.ts):
//   unit         in-process only: no Redis, no child process, no build (dist/) needed; files run
//                in parallel; time is injected (fake timers) rather than waited for.
//                `npm run test:unit`, the seconds-long inner loop.
//   integration  real Redis, gateway and scheduler processes, the CLI from dist/.
//   system       the cluster, chaos, fuzzers, browsers, HAProxy, systemd, npm pack.
// Integration and system files mostly wait for real periods (run three and then one at a time, the
// whole of `npm test` kept two-thirds of one core busy), so they share one pool after the unit lane:
// four files at a time, each on its own Redis, free ports and folders (test/support/*), the longest
// first.
// SYSTEM_ALONE (project `system:alone`) runs last, one file at a time and nothing beside it: the
// files that rewrite dist/ under the others, or bound a latency that another file's CPU would move.
// A new test file is a unit test unless listed here; test/tooling-checks.test.ts refuses a unit
// file that starts Redis or a process.

export const SYSTEM = [
  'test/chaos-ci.test.ts',
  'test/fuzz-gateway.test.ts',
  'test/fuzz-http.test.ts',
  'test/deploy-cluster.test.ts',
  'test/deploy-haproxy-config.test.ts',
  'test/deploy-haproxy-e2e.test.ts',
  'test/deploy-systemd.test.ts',
  'test/page-e2e.test.ts',
  'test/deploy-rollout.test.ts', // the cluster, HAProxy, two installed releases
  'test/ops-cluster-settings.test.ts', // scripts/cluster.sh
  'test/redis-failover.test.ts', // a primary, a replica, three Sentinels, kill -9
  'test/socketio-haproxy.test.ts', // HAProxy in front of two gateways
];

export const SYSTEM_ALONE = [
  'test/sdk-pack.test.ts', // npm pack rebuilds dist/
  'test/web-build.test.ts', // rewrites dist/web while pages may be served from it
  'test/gateway-load.test.ts', // a latency bound (ticks < 200 ms late) while the gateway settles 1,000,000 bets: alone
];

export const INTEGRATION = [
  'test/bench-lib-peer.test.ts',
  'test/cli-strict.test.ts',
  'test/cli-token.test.ts',
  'test/client-gateway.test.ts',
  'test/core-verify-cli.test.ts',
  'test/docs-fairness.test.ts',
  'test/docs-rules.test.ts',
  'test/first-hour-cli.test.ts',
  'test/first-hour-config.test.ts',
  'test/first-hour-inspect.test.ts',
  'test/first-hour-prereqs.test.ts',
  'test/first-hour-start.test.ts',
  'test/gate-reveal.test.ts',
  'test/gateway-guard.test.ts',
  'test/gateway-input.test.ts',
  'test/gateway-limits.test.ts',
  'test/gateway-live.test.ts',
  'test/gateway-ready.test.ts',
  'test/gateway-scheduler.test.ts',
  'test/gateway-upgrade-close.test.ts',
  'test/gateway-uws.test.ts',
  'test/inspect-gate.test.ts',
  'test/protocol-periods.test.ts',
  'test/result-mismatch.test.ts',
  'test/runtime-compute.test.ts', // the worker pool runs dist/worker
  'test/runtime-reconcile.test.ts',
  'test/scheduler-failover.test.ts',
  'test/scheduler-freeze.test.ts',
  'test/scheduler-pickup.test.ts',
  'test/scheduler-skew.test.ts',
  'test/seed-at-rest.test.ts',
  'test/store-contract.test.ts',
  'test/store-redis.test.ts',
  'test/tooling-checks.test.ts',
  'test/verify-gateway.test.ts',
  'test/worker.test.ts',
  'test/archive-all.test.ts', // PostgreSQL of its own
  'test/archive-export.test.ts',
  'test/archive-cluster.test.ts',
  'test/archive-restore.test.ts',
  'test/archive-rows.test.ts',
  'test/ops-backup-restore.test.ts',
  'test/ops-config-apply.test.ts',
  'test/redis-auth.test.ts',
  'test/runtime-gaps.test.ts',
  'test/socketio-paths.test.ts',
  'test/socketio-switch.test.ts',
  'test/start-cleanly.test.ts',
  'test/wallet-ledger.test.ts',
];

// The integration and system files that took longest on the 2-core machine (about 10 s and more,
// longest first; measured with --reporter=json): vitest.config.ts starts them first so that no long
// file starts last beside an idle worker. Only the order changes; a file missing here runs after
// them.
export const LONGEST = [
  'test/ops-config-apply.test.ts', // waits for a 30 s boundary at least 25 s ahead
  'test/scheduler-failover.test.ts', // >= 20 periods of kill -9
  'test/chaos-ci.test.ts',
  'test/page-e2e.test.ts',
  'test/deploy-rollout.test.ts',
  'test/fuzz-http.test.ts',
  'test/start-cleanly.test.ts',
  'test/client-gateway.test.ts',
  'test/ops-backup-restore.test.ts',
  'test/redis-failover.test.ts',
  'test/gateway-live.test.ts',
  'test/protocol-periods.test.ts',
  'test/ops-cluster-settings.test.ts',
  'test/deploy-cluster.test.ts',
  'test/archive-cluster.test.ts', // six 3 s periods of betting, PostgreSQL restarts
  'test/seed-at-rest.test.ts',
  'test/store-contract.test.ts',
  'test/socketio-haproxy.test.ts',
  'test/deploy-haproxy-e2e.test.ts',
  'test/scheduler-skew.test.ts',
  'test/cli-strict.test.ts',
  'test/redis-auth.test.ts',
  'test/fuzz-gateway.test.ts',
];
