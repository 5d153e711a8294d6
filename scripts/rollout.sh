#!/usr/bin/env bash
# Rolling restart of the fived gateways behind HAProxy, one at a time, with no failed request:
# for each server of the backend (HAProxy's runtime API on its admin socket):
#   1. `set server BACKEND/SERVER state drain`: HAProxy sends it no new connection;
#   2. the restart command (SIGTERM: the gateway drains, its WebSockets reconnect elsewhere);
#   3. wait until the new process answers /health (another start time) and /ready 200;
#   4. `set server BACKEND/SERVER state ready`, then wait until HAProxy reports it UP (`show stat`)
# before the next. Then the schedulers, one after the other (a standby takes the lease over).
#
#   sudo scripts/rollout.sh                         # restart every gateway (e.g. after a settings change)
#   sudo scripts/rollout.sh --to 0.2.0              # point PREFIX/current at releases/0.2.0, then roll
#   sudo scripts/rollout.sh --rollback              # point PREFIX/current back at PREFIX/previous, then roll
#   scripts/rollout.sh --socket DIR/haproxy.sock --restart 'scripts/cluster.sh restart-port {port}' \
#     --scheduler 'scripts/cluster.sh restart scheduler-1'     # the local cluster (scripts/cluster.sh)
#
# Options:
#   --socket PATH     HAProxy admin socket (default /run/haproxy/fived.sock; scripts/haproxy-config.sh)
#   --backend NAME    HAProxy backend of the gateways (default fived_gateways)
#   --restart CMD     restarts one gateway; {port}, {host} and {server} are replaced (default
#                     `systemctl restart fived-gateway@{port}`; another host: `ssh {host} sudo systemctl …`)
#   --scheduler CMD   restarts a scheduler after the gateways; repeatable, run in order (default
#                     `systemctl restart fived-scheduler` when that unit is enabled here; `none`: skip)
#   --prefix DIR      where releases live (default /opt/fived; scripts/install-systemd.sh --release)
#   --to VERSION      first point PREFIX/current at PREFIX/releases/VERSION (the old one becomes previous)
#   --rollback        first point PREFIX/current back at PREFIX/previous (and previous at the one left)
#   --timeout S       per step and gateway (default 90)
#   --dry-run         print the servers and what would be done, change nothing
# Exit: 0 all restarted and UP; 1 a step failed (the rollout stops there: the failing gateway stays
# drained, the others keep serving); 2 bad usage.
set -euo pipefail

socket=/run/haproxy/fived.sock
backend=fived_gateways
restart='systemctl restart fived-gateway@{port}'
schedulers=()
prefix=/opt/fived
to=""
rollback=0
timeout=90
dry=0

die() { echo "rollout: $1" >&2; exit "${2:-1}"; }
say() { echo "rollout: $*"; }
need() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value" 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --socket) need "$@"; socket="$2"; shift 2 ;;
    --backend) need "$@"; backend="$2"; shift 2 ;;
    --restart) need "$@"; restart="$2"; shift 2 ;;
    --scheduler) need "$@"; schedulers+=("$2"); shift 2 ;;
    --prefix) need "$@"; prefix="$2"; shift 2 ;;
    --to) need "$@"; to="$2"; shift 2 ;;
    --rollback) rollback=1; shift ;;
    --timeout) need "$@"; timeout="$2"; shift 2 ;;
    --dry-run) dry=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" 2 ;;
  esac
done
[[ "$timeout" =~ ^[0-9]+$ ]] && [ "$timeout" -ge 1 ] || die "--timeout: seconds, a positive integer" 2
[ -z "$to" ] || [ "$rollback" -eq 0 ] || die "--to and --rollback exclude each other" 2
[[ "$backend" =~ ^[A-Za-z0-9_.:-]+$ ]] || die "--backend: not a backend name: '$backend'" 2
if [ "${#schedulers[@]}" -eq 0 ] && [ -e /etc/systemd/system/fived.target.wants/fived-scheduler.service ]; then
  schedulers=('systemctl restart fived-scheduler')
fi
command -v node >/dev/null || die "node is needed (it talks to the admin socket and the gateways)"

# ---- HAProxy runtime API and HTTP, through node (present wherever fived runs) ------------------

haproxy() { # command → the answer
  node -e '
    const s = require("node:net").connect(process.argv[1]);
    let d = "";
    s.on("connect", () => s.write(process.argv[2] + "\n"));
    s.on("data", (c) => (d += c));
    s.on("end", () => process.stdout.write(d));
    s.on("error", (e) => { console.error(`${process.argv[1]}: ${e.message}`); process.exit(1); });' "$socket" "$1"
}

servers() { # "name addr port" per server of the backend (show servers state)
  haproxy "show servers state $backend" | awk '
    /^# / { for (i = 2; i <= NF; i++) col[$i] = i - 1; next }
    NF > 5 && col["srv_name"] { print $col["srv_name"], $col["srv_addr"], $col["srv_port"] }'
}

status_of() { # server → its status in `show stat` (UP, DOWN, DRAIN, MAINT, "UP 1/2", …)
  haproxy "show stat" | awk -F, -v be="$backend" -v sv="$1" '
    NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
    $col["pxname"] == be && $col["svname"] == sv { print $col["status"] }'
}

get() { # url → "status body" (000 when nothing answers)
  node -e '
    const r = require("node:http").get(process.argv[1], { timeout: 2000 }, (res) => {
      let b = ""; res.on("data", (d) => (b += d)); res.on("end", () => console.log(res.statusCode, b.replace(/\s+/g, " ")));
    });
    r.on("error", () => console.log("000"));
    r.on("timeout", () => r.destroy());' "$1"
}

started_at() { # host port → the startedAt of its /health ("" when it does not answer)
  get "http://$1:$2/health" | sed -n 's/^200 .*"startedAt":\([0-9]*\).*/\1/p'
}

wait_for() { # what, then a command that succeeds once it holds
  local what="$1" deadline=$((SECONDS + timeout)); shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || die "$what: not within ${timeout}s; stopping the rollout here"
    sleep 0.2
  done
}

# ---- the release switch ---------------------------------------------------------------------

switch_to() { # releases/<v> target → current, the old one → previous
  local target="$1" old
  [ -d "$prefix/$target" ] || die "no release at $prefix/$target"
  [ -f "$prefix/$target/dist/cli.js" ] || die "$prefix/$target is not a built release (dist/cli.js missing)"
  old="$(readlink "$prefix/current" 2>/dev/null || true)"
  if [ "$dry" -eq 1 ]; then say "would point $prefix/current at $target (previous: ${old:-none})"; return; fi
  if [ -n "$old" ] && [ "$old" != "$target" ]; then
    ln -sfn "$old" "$prefix/previous.tmp" && mv -T "$prefix/previous.tmp" "$prefix/previous"
  fi
  ln -sfn "$target" "$prefix/current.tmp" && mv -T "$prefix/current.tmp" "$prefix/current"
  say "$prefix/current -> $target${old:+ (previous: $old)}"
}

if [ -n "$to" ]; then
  [[ "$to" =~ ^[0-9A-Za-z][0-9A-Za-z.+_-]*$ ]] || die "--to: not a version: '$to'" 2
  switch_to "releases/$to"
elif [ "$rollback" -eq 1 ]; then
  prev="$(readlink "$prefix/previous" 2>/dev/null || true)"
  [ -n "$prev" ] || die "no previous release recorded in $prefix/previous: nothing to roll back to"
  switch_to "$prev"
fi

# ---- gateways, one at a time ----------------------------------------------------------------

[ -S "$socket" ] || die "no HAProxy admin socket at $socket (--socket)"
mapfile -t list < <(servers)
[ "${#list[@]}" -gt 0 ] || die "backend $backend has no servers (is it the right --backend?)"
say "${#list[@]} gateway(s) in $backend; restart: $restart"

is_up() { [ "$(status_of "$1")" = UP ]; }
is_drained() { case "$(status_of "$1")" in DRAIN*|MAINT*|DOWN*|NOLB*) return 0 ;; *) return 1 ;; esac; }
is_new() { # server host port old-start → the new process answers /ready 200 with another start time
  local now
  now="$(started_at "$2" "$3")"
  [ -n "$now" ] && [ "$now" != "$4" ] && [ "$(get "http://$2:$3/ready" | cut -d' ' -f1)" = 200 ]
}

for entry in "${list[@]}"; do
  read -r name host port <<<"$entry"
  cmd="${restart//\{port\}/$port}"
  cmd="${cmd//\{host\}/$host}"
  cmd="${cmd//\{server\}/$name}"
  if [ "$dry" -eq 1 ]; then
    say "would drain $backend/$name, run: $cmd, wait for /ready, set it ready, wait for UP"
    continue
  fi
  wait_for "$name is not UP before its turn" is_up "$name"
  old="$(started_at "$host" "$port")"
  haproxy "set server $backend/$name state drain" >/dev/null
  wait_for "$name drained" is_drained "$name"
  say "$name drained; restarting"
  sh -c "$cmd" || die "restart of $name failed: $cmd"
  wait_for "$name answering /ready after the restart" is_new "$name" "$host" "$port" "$old"
  haproxy "set server $backend/$name state ready" >/dev/null
  wait_for "$name UP in HAProxy" is_up "$name"
  say "$name UP again (HAProxy)"
done

# ---- schedulers -----------------------------------------------------------------------------

for cmd in "${schedulers[@]+"${schedulers[@]}"}"; do
  [ "$cmd" = none ] && continue
  if [ "$dry" -eq 1 ]; then say "would run: $cmd"; continue; fi
  sh -c "$cmd" || die "scheduler restart failed: $cmd"
  say "scheduler restarted: $cmd"
done
[ "$dry" -eq 1 ] || say "done: every gateway restarted and UP"
