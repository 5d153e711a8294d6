#!/usr/bin/env bash
# A whole fived deployment on this machine, all on loopback: a Redis of its own (appendonly yes,
# appendfsync always), the scheduler(s), N gateways and HAProxy in front.
#
#   scripts/cluster.sh start              start everything, wait until every gateway is ready
#   scripts/cluster.sh status             one line per process; exit 0 only if all are running
#   scripts/cluster.sh stop               stop exactly the processes it started (by pid)
#   scripts/cluster.sh restart NAME       stop (if running) and start one: gateway-2, scheduler-1, haproxy, redis
#   scripts/cluster.sh restart-gateway N  the same as restart gateway-N
#   scripts/cluster.sh restart-port PORT  restart the gateway on PORT (scripts/rollout.sh --restart)
#   scripts/cluster.sh kill NAME [SIG]    send SIG (default TERM) to one process and wait for it to exit
#   scripts/cluster.sh pid NAME           print one process's pid
#   scripts/cluster.sh clean              stop, then DELETE the state folder: logs and the Redis data
#                                         (every balance, bet and result of this cluster is gone)
#
# Settings (environment; `start` saves them in the state folder, the other commands reuse them):
#   FIVED_CLUSTER_DIR     state folder: pids/, logs/, redis/, haproxy.cfg, cluster.json
#                         (default ${TMPDIR:-/tmp}/fived-cluster-$(id -u))
#   FIVED_GATEWAYS=2      gateways, on ports FIVED_BASE_PORT (3000), +1, …
#   FIVED_SCHEDULERS=1    schedulers (one holds the lease, the others stand by); their metrics
#                         ports from FIVED_SCHEDULER_PORT (9300), +1, …; 0 = none
#   FIVED_LB_PORT=8080    HAProxy public frontend; FIVED_LB_STATS_PORT=8404 stats page;
#                         FIVED_LB_OPERATOR_PORT=8081 operator endpoints (0 = none)
#   FIVED_REDIS_URL       use this Redis instead of starting one; else FIVED_REDIS_PORT=6390, with
#                         the ACL user fived and a password made per cluster folder
#                         (FIVED_CLUSTER_REDIS_PASSWORD in cluster.env), the default user off
#   FIVED_READY_TIMEOUT_S=60
#   FIVED_APP_DIR         the fived app the processes run (default: this checkout); e.g. a release
#                         tree's current/ (scripts/install-systemd.sh --release, scripts/rollout.sh)
# Every other FIVED_* setting (FIVED_DURATIONS, FIVED_FREEZE_MS, FIVED_KEY_PREFIX, …; see
# src/config.ts) is passed to every process. FIVED_DEMO defaults to true here (demo tokens on the page).
# Unless given, FIVED_JWT_SECRET (demo), FIVED_OPERATOR_TOKEN and FIVED_SEED_KEY are generated per
# cluster folder and kept in its cluster.env (mode 0600).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${FIVED_CLUSTER_DIR:-${TMPDIR:-/tmp}/fived-cluster-$(id -u)}"
case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac
export FIVED_CLUSTER_DIR="$DIR" # also marks every process started here (see ours())

say() { echo "cluster: $*"; }
die() { echo "cluster: $1" >&2; exit "${2:-1}"; }
is_int() { [[ "$1" =~ ^[0-9]+$ ]]; }

# ---- settings -------------------------------------------------------------------------------

load_settings() { # from the environment (start) or from the saved file (every other command)
  if [ "${1:-}" = saved ]; then
    [ -f "$DIR/cluster.env" ] || die "no cluster started in $DIR (scripts/cluster.sh start)"
    # the settings of the start, not whatever this shell has now
    local v
    for v in $(compgen -e | grep '^FIVED_' | grep -vx FIVED_CLUSTER_DIR); do unset "$v"; done
    # shellcheck disable=SC1091
    . "$DIR/cluster.env"
  fi
  GATEWAYS="${FIVED_GATEWAYS:-2}"
  SCHEDULERS="${FIVED_SCHEDULERS:-1}"
  BASE_PORT="${FIVED_BASE_PORT:-3000}"
  SCHED_PORT="${FIVED_SCHEDULER_PORT:-9300}"
  LB_PORT="${FIVED_LB_PORT:-8080}"
  STATS_PORT="${FIVED_LB_STATS_PORT:-8404}"
  OP_PORT="${FIVED_LB_OPERATOR_PORT:-8081}"
  REDIS_PORT="${FIVED_REDIS_PORT:-6390}"
  READY_TIMEOUT="${FIVED_READY_TIMEOUT_S:-60}"
  APP="${FIVED_APP_DIR:-$ROOT}"
  for v in GATEWAYS SCHEDULERS BASE_PORT SCHED_PORT LB_PORT STATS_PORT OP_PORT REDIS_PORT READY_TIMEOUT; do
    is_int "${!v}" || die "$v: expected a number, got '${!v}'" 2
  done
  [ "$GATEWAYS" -ge 1 ] || die "FIVED_GATEWAYS must be at least 1" 2
  if [ -n "${FIVED_REDIS_URL:-}" ]; then OWN_REDIS=0; REDIS_URL="$FIVED_REDIS_URL"
  else
    OWN_REDIS=1
    # issue 13: its own Redis too runs with a password (an ACL user), like redis/fived-redis.conf
    if [ -z "${FIVED_CLUSTER_REDIS_PASSWORD:-}" ]; then
      FIVED_CLUSTER_REDIS_PASSWORD="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
      export FIVED_CLUSTER_REDIS_PASSWORD
    fi
    REDIS_URL="redis://fived:$FIVED_CLUSTER_REDIS_PASSWORD@127.0.0.1:$REDIS_PORT"
  fi
}

mask_url() { sed -E 's#//([^:@/]*):[^@/]*@#//\1:***@#' <<<"$1"; }

redis_ping() { # the cluster's own Redis answers, logged in as the ACL user
  REDISCLI_AUTH="$FIVED_CLUSTER_REDIS_PASSWORD" redis-cli --no-auth-warning --user fived -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG
}

write_redis_acl() { # the ACL lines as a config file of mode 0600 (the password stays off the command line)
  local conf="$DIR/redis/acl.conf"
  (umask 077; cat >"$conf" <<ACL
# written by scripts/cluster.sh: the same users as redis/fived-redis.conf
user fived on >$FIVED_CLUSTER_REDIS_PASSWORD ~* &* +@all
# nobody logs in as default; it keeps its permissions because Redis 7.0 replays the AOF's
# transactions with them (without them a restart loses data: NOPERM)
user default off ~* &* +@all
ACL
)
  echo "$conf"
}

save_settings() {
  export FIVED_DEMO="${FIVED_DEMO:-true}"
  # Demo mode needs an explicit player-token secret (there is no built-in one): a random one per
  # cluster, saved in cluster.env (mode 0600) with the operator token, so restarts keep sessions.
  if [[ "$FIVED_DEMO" =~ ^(1|true|yes|on)$ ]] && [ -z "${FIVED_JWT_SECRET:-}" ]; then
    FIVED_JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    export FIVED_JWT_SECRET
  fi
  if [ "$OP_PORT" != 0 ] && [ -z "${FIVED_OPERATOR_TOKEN:-}" ]; then
    FIVED_OPERATOR_TOKEN="local-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    export FIVED_OPERATOR_TOKEN
  fi
  # seeds are stored in Redis only sealed under this key; every process of the cluster needs it
  if [ -z "${FIVED_SEED_KEY:-}" ] && [ -z "${FIVED_SEED_KEY_FILE:-}" ]; then
    FIVED_SEED_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    export FIVED_SEED_KEY
  fi
  # Every FIVED_* variable, as shell assignments the other commands source.
  local tmp="$DIR/cluster.env.tmp"
  : >"$tmp"
  chmod 600 "$tmp"
  while IFS= read -r name; do
    printf '%s=%q\n' "$name" "${!name}" >>"$tmp"
    printf 'export %s\n' "$name" >>"$tmp"
  done < <(compgen -e | grep '^FIVED_' | grep -vx 'FIVED_CLUSTER_DIR')
  mv -f "$tmp" "$DIR/cluster.env"
}

names() { # every process of this cluster, in start order
  [ "$OWN_REDIS" -eq 1 ] && echo redis
  local i
  for ((i = 1; i <= SCHEDULERS; i++)); do echo "scheduler-$i"; done
  for ((i = 1; i <= GATEWAYS; i++)); do echo "gateway-$i"; done
  echo haproxy
}

gateway_port() { echo $((BASE_PORT + ${1#gateway-} - 1)); }
scheduler_port() { [ "$SCHED_PORT" -eq 0 ] && echo 0 || echo $((SCHED_PORT + ${1#scheduler-} - 1)); }

# ---- processes ------------------------------------------------------------------------------

pidfile() { echo "$DIR/pids/$1.pid"; }
logfile() { echo "$DIR/logs/$1.log"; }
# A pid file holds "pid starttime": the start time (in clock ticks since boot, /proc/PID/stat)
# tells our process from an unrelated one that got the same pid later.
pid_of() { local f; f="$(pidfile "$1")"; [ -f "$f" ] && read -r p _ <"$f" && echo "$p" || true; }

starttime_of() {
  local s
  s="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
  s="${s##*) }" # after "pid (comm) ": field 3 onwards
  # shellcheck disable=SC2086
  set -- $s
  echo "${20}"
}

ours() { # name → its recorded process is alive and is still the one this cluster started
  local f pid st
  f="$(pidfile "$1")"
  [ -f "$f" ] && read -r pid st <"$f" || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  [ -z "$st" ] || [ "$(starttime_of "$pid")" = "$st" ]
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

http_status() { # port path → HTTP status, 000 when nothing answers
  node -e '
    const r = require("node:http").get({ host: "127.0.0.1", port: +process.argv[1], path: process.argv[2], timeout: 2000 },
      (res) => { console.log(res.statusCode); res.resume(); });
    r.on("error", () => console.log("000"));
    r.on("timeout", () => r.destroy());' "$1" "$2"
}

ready_reasons() { # port → the reasons its /ready gives, one per line (what differs, field by field)
  node -e '
    const r = require("node:http").get({ host: "127.0.0.1", port: +process.argv[1], path: "/ready", timeout: 2000 }, (res) => {
      let b = ""; res.on("data", (d) => (b += d));
      res.on("end", () => {
        let reasons = [];
        try { reasons = JSON.parse(b).reasons ?? []; } catch { reasons = [b.trim()]; }
        for (const x of reasons) console.log(`cluster:   /ready: ${x}`);
      });
    });
    r.on("error", (e) => console.log(`cluster:   /ready: no answer (${e.message})`));
    r.on("timeout", () => r.destroy());' "$1"
}

launch() { # name cmd... : in its own session, output to its log, pid to its pid file
  local name="$1"; shift
  mkdir -p "$DIR/pids" "$DIR/logs"
  echo "---- $(date -u +%FT%TZ) start: $*" >>"$(logfile "$name")"
  setsid "$@" </dev/null >>"$(logfile "$name")" 2>&1 &
  echo "$! $(starttime_of $!)" >"$(pidfile "$name")"
}

start_one() {
  local name="$1" port
  case "$name" in
    redis)
      port_busy "$REDIS_PORT" && die "port $REDIS_PORT (FIVED_REDIS_PORT) is in use"
      mkdir -p "$DIR/redis"
      launch redis redis-server "$(write_redis_acl)" --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DIR/redis" \
        --appendonly yes --appendfsync always --save '' --daemonize no
      ;;
    scheduler-*)
      port="$(scheduler_port "$name")"
      [ "$port" -ne 0 ] && port_busy "$port" && die "port $port (scheduler metrics) is in use"
      FIVED_INSTANCE="$name" FIVED_SCHEDULER_PORT="$port" FIVED_REDIS_URL="$REDIS_URL" launch "$name" node "$APP/bin/fived.js" scheduler
      ;;
    gateway-*)
      port="$(gateway_port "$name")"
      port_busy "$port" && die "port $port ($name) is in use"
      FIVED_INSTANCE="$name" FIVED_PORT="$port" FIVED_HOST=127.0.0.1 FIVED_REDIS_URL="$REDIS_URL" launch "$name" node "$APP/bin/fived.js" gateway
      ;;
    haproxy)
      for p in "$LB_PORT" "$STATS_PORT" $([ "$OP_PORT" -ne 0 ] && echo "$OP_PORT"); do
        port_busy "$p" && die "port $p (HAProxy) is in use"
      done
      write_haproxy_cfg
      launch haproxy haproxy -db -f "$DIR/haproxy.cfg"
      ;;
    *) die "unknown process name '$name' (one of: $(names | tr '\n' ' '))" 2 ;;
  esac
}

write_haproxy_cfg() {
  local servers=() i
  for ((i = 1; i <= GATEWAYS; i++)); do servers+=("127.0.0.1:$(gateway_port "gateway-$i")"); done
  local op=none
  [ "$OP_PORT" -ne 0 ] && op="127.0.0.1:$OP_PORT"
  # HAProxy needs two descriptors per connection and refuses to start beyond the limit.
  local fds maxconn=20000
  fds="$(ulimit -n)"
  if is_int "$fds" && [ $(((fds - 200) / 2)) -lt "$maxconn" ]; then maxconn=$(((fds - 200) / 2)); fi
  [ "$maxconn" -ge 100 ] || die "ulimit -n is $fds: too low for HAProxy (raise it to 1024 or more)"
  "$ROOT/scripts/haproxy-config.sh" -o "$DIR/haproxy.cfg" --bind "127.0.0.1:$LB_PORT" --stats "127.0.0.1:$STATS_PORT" \
    --stats-socket "$DIR/haproxy.sock" --operator "$op" --log stdout --check-inter 500 --slowstart 2s --maxconn "$maxconn" \
    --user none --group none --chroot none \
    "${servers[@]}"
  haproxy -c -q -f "$DIR/haproxy.cfg" || die "haproxy -c rejected $DIR/haproxy.cfg"
}

wait_ready() { # name: until it serves (or its process dies, or the timeout)
  local name="$1" deadline=$((SECONDS + READY_TIMEOUT)) pid
  pid="$(pid_of "$name")"
  while :; do
    if ! ours "$name"; then
      echo "cluster: $name (pid $pid) exited; the end of $(logfile "$name"):" >&2
      tail -n 20 "$(logfile "$name")" >&2 || true
      return 1
    fi
    case "$name" in
      redis) redis_ping && return 0 ;;
      gateway-*) [ "$(http_status "$(gateway_port "$name")" /ready)" = 200 ] && return 0 ;;
      scheduler-*) [ "$(scheduler_port "$name")" -eq 0 ] && return 0
                   [ "$(http_status "$(scheduler_port "$name")" /ready)" = 200 ] && return 0 ;;
      haproxy) all_up && return 0 ;;
    esac
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "cluster: $name not ready after ${READY_TIMEOUT}s" >&2
      case "$name" in
        gateway-*) ready_reasons "$(gateway_port "$name")" >&2 ;;
        scheduler-*) ready_reasons "$(scheduler_port "$name")" >&2 ;;
      esac
      echo "cluster: the end of $(logfile "$name"):" >&2
      tail -n 20 "$(logfile "$name")" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

all_up() { # HAProxy sees every gateway UP (its stats page as CSV)
  node -e '
    const n = +process.argv[2];
    const r = require("node:http").get({ host: "127.0.0.1", port: +process.argv[1], path: "/;csv", timeout: 2000 }, (res) => {
      let b = ""; res.on("data", (d) => (b += d));
      res.on("end", () => {
        const up = b.split("\n").filter((l) => l.startsWith("fived_gateways,gw-") && l.split(",")[17] === "UP").length;
        process.exit(up === n ? 0 : 1);
      });
    });
    r.on("error", () => process.exit(1));
    r.on("timeout", () => r.destroy());' "$STATS_PORT" "$GATEWAYS"
}

stop_one() { # name [signal]: signal it if it is ours, wait until it is gone (KILL after the grace)
  local name="$1" sig="${2:-TERM}" pid grace
  pid="$(pid_of "$name")"
  if ! ours "$name"; then rm -f "$(pidfile "$name")"; return 0; fi
  # the gateways drain on SIGTERM: give them FIVED_DRAIN_MS and some
  grace=$(( ${FIVED_DRAIN_MS:-5000} / 1000 + 10 ))
  kill -s "$sig" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + grace))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "cluster: $name (pid $pid) still running after ${grace}s; SIGKILL" >&2
      kill -s KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 5))
    fi
    sleep 0.1
  done
  rm -f "$(pidfile "$name")"
}

write_info() { # cluster.json: where everything is, for tests, benchmarks and scripts
  local gws="" i
  for ((i = 1; i <= GATEWAYS; i++)); do gws+="${gws:+,}$(gateway_port "gateway-$i")"; done
  local scheds="" p
  for ((i = 1; i <= SCHEDULERS; i++)); do p="$(scheduler_port "scheduler-$i")"; scheds+="${scheds:+,}$p"; done
  local pids="" n
  for n in $(names); do pids+="${pids:+,}\"$n\":$(pid_of "$n")"; done
  (umask 077; cat >"$DIR/cluster.json" <<JSON
{"dir":"$DIR","lbPort":$LB_PORT,"statsPort":$STATS_PORT,"operatorPort":$OP_PORT,"gatewayPorts":[$gws],"schedulerPorts":[$scheds],"redisUrl":"$REDIS_URL","ownRedis":$([ "$OWN_REDIS" -eq 1 ] && echo true || echo false),"haproxySocket":"$DIR/haproxy.sock","pids":{$pids}}
JSON
)
}

# ---- commands -------------------------------------------------------------------------------

cmd_start() {
  load_settings
  for n in $(names); do
    if ours "$n"; then die "already running in $DIR ($n, pid $(pid_of "$n")); scripts/cluster.sh stop first"; fi
  done
  command -v haproxy >/dev/null || die "haproxy is not installed (apt-get install haproxy)"
  [ "$OWN_REDIS" -eq 0 ] || command -v redis-server >/dev/null || die "redis-server is not installed (apt-get install redis-server)"
  [ -f "$APP/bin/fived.js" ] || die "FIVED_APP_DIR=$APP has no bin/fived.js" 2
  if [ ! -f "$APP/dist/cli.js" ]; then
    [ "$APP" = "$ROOT" ] || die "FIVED_APP_DIR=$APP is not built (dist/cli.js missing)"
    say "building (npm run build)"; (cd "$ROOT" && npm run build >/dev/null) || die "npm run build failed"
  fi
  mkdir -p "$DIR"
  save_settings
  rm -f "$DIR"/pids/*.pid
  local n
  # whatever fails from here (a busy port, a process that exits, a timeout) stops what started
  trap 'rc=$?; if [ "$rc" -ne 0 ]; then echo "cluster: start failed; stopping what was started" >&2; cmd_stop_loaded >/dev/null 2>&1; fi' EXIT
  for n in $(names); do
    start_one "$n"
    # the gateways start side by side; everything else is waited for in order
    case "$n" in gateway-*) ;; *) wait_ready "$n" || exit 1 ;; esac
    if [ "$n" = "gateway-$GATEWAYS" ]; then
      local i
      for ((i = 1; i <= GATEWAYS; i++)); do wait_ready "gateway-$i" || exit 1; done
    fi
  done
  trap - EXIT
  write_info
  local gw_list="" sc_list="" i
  for ((i = 1; i <= GATEWAYS; i++)); do gw_list+=" 127.0.0.1:$(gateway_port "gateway-$i")"; done
  for ((i = 1; i <= SCHEDULERS; i++)); do sc_list+=" scheduler-$i$([ "$SCHED_PORT" -ne 0 ] && echo "@127.0.0.1:$(scheduler_port "scheduler-$i")")"; done
  cat <<EOF
fived cluster is up (state in $DIR)
  page:            http://127.0.0.1:$LB_PORT/
  WebSocket:       ws://127.0.0.1:$LB_PORT/ws
  read API:        http://127.0.0.1:$LB_PORT/api/rooms
  HAProxy stats:   http://127.0.0.1:$STATS_PORT/
EOF
  [ "$OP_PORT" -ne 0 ] && echo "  operator API:    http://127.0.0.1:$OP_PORT/ (Authorization: Bearer \$FIVED_OPERATOR_TOKEN, saved in $DIR/cluster.env)"
  cat <<EOF
  gateways:       $gw_list (each: /ready /health /metrics)
  schedulers:     ${sc_list:- none}
  redis:           $(mask_url "$REDIS_URL")$([ "$OWN_REDIS" -eq 1 ] && echo " (appendonly, user fived, password in $DIR/cluster.env; data in $DIR/redis)")
  logs:            $DIR/logs/
  stop:            scripts/cluster.sh stop
EOF
}

cmd_stop_loaded() {
  local n
  # HAProxy first (no new connections), then the gateways together (they drain in parallel),
  # then the schedulers, Redis last.
  stop_one haproxy
  for n in $(names | grep '^gateway-'); do ours "$n" && kill -s TERM "$(pid_of "$n")" 2>/dev/null || true; done
  for n in $(names | grep '^gateway-'); do stop_one "$n"; done
  for n in $(names | grep '^scheduler-'); do stop_one "$n"; done
  [ "$OWN_REDIS" -eq 1 ] && stop_one redis
  # anything a previous layout left (e.g. FIVED_GATEWAYS changed between runs)
  local f
  for f in "$DIR"/pids/*.pid; do [ -e "$f" ] && stop_one "$(basename "$f" .pid)"; done
  rm -f "$DIR/cluster.json"
  return 0
}

cmd_stop() {
  if [ ! -f "$DIR/cluster.env" ]; then say "nothing to stop in $DIR"; return 0; fi
  load_settings saved
  cmd_stop_loaded
  say "stopped (logs and Redis data kept in $DIR)"
}

cmd_status() {
  load_settings saved
  local n pid state detail bad=0
  printf '%-13s %-8s %-8s %s\n' NAME PID STATE DETAIL
  for n in $(names); do
    pid="$(pid_of "$n")"
    detail=""
    if ours "$n"; then state=running; else state=stopped; bad=1; fi
    case "$n" in
      redis) detail="$(mask_url "$REDIS_URL")" ;;
      gateway-*) detail="127.0.0.1:$(gateway_port "$n")"
                 [ "$state" = running ] && detail+=" /ready $(http_status "$(gateway_port "$n")" /ready)" ;;
      scheduler-*) [ "$(scheduler_port "$n")" -ne 0 ] && detail="127.0.0.1:$(scheduler_port "$n")"
                   [ "$state" = running ] && [ "$(scheduler_port "$n")" -ne 0 ] && detail+=" /ready $(http_status "$(scheduler_port "$n")" /ready)" ;;
      haproxy) detail="http://127.0.0.1:$LB_PORT/ stats http://127.0.0.1:$STATS_PORT/" ;;
    esac
    printf '%-13s %-8s %-8s %s\n' "$n" "${pid:--}" "$state" "$detail"
  done
  [ "$OWN_REDIS" -eq 1 ] || echo "(external Redis: $REDIS_URL)"
  return "$((bad * 3))"
}

cmd_restart() {
  local name="${1:?usage: scripts/cluster.sh restart NAME}"
  load_settings saved
  names | grep -qxF "$name" || die "unknown process name '$name' (one of: $(names | tr '\n' ' '))" 2
  stop_one "$name"
  start_one "$name"
  wait_ready "$name"
  write_info
  say "$name running again (pid $(pid_of "$name"))"
}

cmd_restart_port() { # the gateway listening on PORT (HAProxy knows servers by address)
  load_settings saved
  local i
  for ((i = 1; i <= GATEWAYS; i++)); do
    if [ "$(gateway_port "gateway-$i")" = "$1" ]; then cmd_restart "gateway-$i"; return; fi
  done
  die "no gateway of this cluster on port $1" 2
}

cmd_kill() {
  local name="${1:?usage: scripts/cluster.sh kill NAME [SIGNAL]}" sig="${2:-TERM}" pid
  load_settings saved
  names | grep -qxF "$name" || die "unknown process name '$name' (one of: $(names | tr '\n' ' '))" 2
  pid="$(pid_of "$name")"
  ours "$name" || die "$name is not running"
  kill -s "$sig" "$pid" || die "could not signal $name (pid $pid)"
  case "$sig" in
    TERM|SIGTERM|INT|SIGINT|KILL|SIGKILL|9|15|2)
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
      say "$name (pid $pid) exited after SIG${sig#SIG}" ;;
    *) say "sent SIG${sig#SIG} to $name (pid $pid)" ;;
  esac
}

cmd_pid() {
  load_settings saved
  local pid
  pid="$(pid_of "${1:?usage: scripts/cluster.sh pid NAME}")"
  ours "$1" || die "${1} is not running"
  echo "$pid"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  restart) cmd_restart "${2:-}" ;;
  restart-gateway) cmd_restart "gateway-${2:?usage: scripts/cluster.sh restart-gateway N}" ;;
  restart-port) cmd_restart_port "${2:?usage: scripts/cluster.sh restart-port PORT}" ;;
  kill) cmd_kill "${2:-}" "${3:-TERM}" ;;
  pid) cmd_pid "${2:-}" ;;
  clean) cmd_stop; rm -rf "$DIR"; say "deleted $DIR" ;;
  -h|--help|help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
