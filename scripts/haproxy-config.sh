#!/usr/bin/env bash
# Writes the HAProxy configuration for fived gateways. The committed haproxy/haproxy.cfg is its
# output for the example of four gateways on one host:
#
#   scripts/haproxy-config.sh -o haproxy/haproxy.cfg 3000 3001 3002 3003
#   scripts/haproxy-config.sh --bind :80 10.0.0.11:3000 10.0.0.11:3001 10.0.0.12:3000 10.0.0.12:3001
#   scripts/haproxy-config.sh --tls-crt /etc/haproxy/certs/fived.pem 10.0.0.11:3000 10.0.0.12:3000
#
# Arguments: the gateways, as host:port (a bare port means 127.0.0.1:port). Options:
#   -o, --out FILE       write FILE (default: stdout)
#   --bind ADDR:PORT     public frontend (default :80); with --tls-crt it only redirects to https
#   --tls-crt PEM        terminate TLS: the certificate chain and its key in one file (a directory
#                        of them also works); the public frontend then also binds --tls-bind
#   --tls-bind ADDR:PORT the TLS address (default :443)
#   --user NAME          the user HAProxy drops to after binding (default haproxy; none: stay)
#   --group NAME         its group (default haproxy; none: stay)
#   --chroot DIR         the directory it confines itself to (default /var/lib/haproxy; none: no chroot).
#                        none for all three only where HAProxy runs as an unprivileged user
#                        (scripts/cluster.sh on a developer's machine)
#   --stats ADDR:PORT    stats page, HAProxy's own /metrics and the health view (default 127.0.0.1:8404)
#   --stats-socket PATH  admin socket (default /run/haproxy/fived.sock)
#   --operator ADDR:PORT internal frontend for the operator endpoints, never public (default
#                        127.0.0.1:8081; "none" leaves it out)
#   --log TARGET         /dev/log (default; syslog, e.g. /var/log/haproxy.log on Debian) or stdout
#   --check-inter MS     health check interval (default 1000; a draining gateway is out after 2 fails)
#   --slowstart TIME     ramp-up of a gateway that comes back (default 10s)
#   --maxconn N          global connection limit (default 100000; needs 2×N file descriptors)
#   --conns-per-ip N     open connections per client address on the public frontend (default
#                        500; 0 = no limit). Carrier NAT puts many players behind one address.
#   --http-rate-per-ip N HTTP requests (a WebSocket upgrade counts one) per client address per
#                        10 s on the public frontend (default 1000; 0 = no limit)
set -euo pipefail

out=""
bind=":80"
tls_crt=""
tls_bind=":443"
user=haproxy
group=haproxy
chroot_dir=/var/lib/haproxy
stats="127.0.0.1:8404"
stats_socket="/run/haproxy/fived.sock"
operator="127.0.0.1:8081"
log_target="/dev/log"
check_inter=1000
slowstart="10s"
maxconn=100000
conns_per_ip=500
http_rate_per_ip=1000
servers=()

die() { echo "haproxy-config: $*" >&2; exit 2; }
need() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }

while [ $# -gt 0 ]; do
  case "$1" in
    -o|--out) need "$@"; out="$2"; shift 2 ;;
    --bind) need "$@"; bind="$2"; shift 2 ;;
    --tls-crt) need "$@"; tls_crt="$2"; shift 2 ;;
    --tls-bind) need "$@"; tls_bind="$2"; shift 2 ;;
    --user) need "$@"; user="$2"; shift 2 ;;
    --group) need "$@"; group="$2"; shift 2 ;;
    --chroot) need "$@"; chroot_dir="$2"; shift 2 ;;
    --stats) need "$@"; stats="$2"; shift 2 ;;
    --stats-socket) need "$@"; stats_socket="$2"; shift 2 ;;
    --operator) need "$@"; operator="$2"; shift 2 ;;
    --log) need "$@"; log_target="$2"; shift 2 ;;
    --check-inter) need "$@"; check_inter="$2"; shift 2 ;;
    --slowstart) need "$@"; slowstart="$2"; shift 2 ;;
    --maxconn) need "$@"; maxconn="$2"; shift 2 ;;
    --conns-per-ip) need "$@"; conns_per_ip="$2"; shift 2 ;;
    --http-rate-per-ip) need "$@"; http_rate_per_ip="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) servers+=("$1"); shift ;;
  esac
done

[ "${#servers[@]}" -gt 0 ] || die "give at least one gateway (host:port or port)"
is_port() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]; }
is_addr() { [[ "$1" =~ ^[A-Za-z0-9.*-]*:[0-9]+$ ]] && is_port "${1##*:}"; }
is_addr "$bind" || die "--bind: expected ADDR:PORT or :PORT, got '$bind'"
is_addr "$stats" || die "--stats: expected ADDR:PORT, got '$stats'"
is_addr "$tls_bind" || die "--tls-bind: expected ADDR:PORT or :PORT, got '$tls_bind'"
[ -z "$tls_crt" ] || [[ "$tls_crt" = /* ]] || die "--tls-crt: an absolute path, got '$tls_crt'"
[ "$user" = none ] || [[ "$user" =~ ^[a-z_][a-z0-9_-]*$ ]] || die "--user: a user name or none, got '$user'"
[ "$group" = none ] || [[ "$group" =~ ^[a-z_][a-z0-9_-]*$ ]] || die "--group: a group name or none, got '$group'"
[ "$chroot_dir" = none ] || [[ "$chroot_dir" = /* ]] || die "--chroot: an absolute directory or none, got '$chroot_dir'"
[ "$operator" = none ] || is_addr "$operator" || die "--operator: expected ADDR:PORT or none, got '$operator'"
[[ "$check_inter" =~ ^[0-9]+$ ]] && [ "$check_inter" -ge 100 ] || die "--check-inter: milliseconds, at least 100"
[[ "$maxconn" =~ ^[0-9]+$ ]] && [ "$maxconn" -ge 1 ] || die "--maxconn: a positive integer"
[[ "$conns_per_ip" =~ ^[0-9]+$ ]] || die "--conns-per-ip: a number (0 = no limit)"
[[ "$http_rate_per_ip" =~ ^[0-9]+$ ]] || die "--http-rate-per-ip: a number (0 = no limit)"
[[ "$slowstart" =~ ^[0-9]+(ms|s|m)?$ ]] || die "--slowstart: a time such as 10s"
case "$log_target" in
  stdout) log_line="log stdout format raw local0" ;;
  /*) log_line="log $log_target local0" ;;
  *) die "--log: /dev/log, another socket path, or stdout" ;;
esac

lines=()
names=()
for s in "${servers[@]}"; do
  if is_port "$s"; then s="127.0.0.1:$s"; fi
  [[ "$s" =~ ^[A-Za-z0-9.-]+:[0-9]+$ ]] && is_port "${s##*:}" || die "not a gateway address: '$s' (host:port or port)"
  name="gw-$s"
  for n in "${names[@]+"${names[@]}"}"; do [ "$n" != "$name" ] || die "gateway $s listed twice"; done
  names+=("$name")
  lines+=("$name $s")
done

render() {
cat <<CFG
# HAProxy in front of the fived gateways. Generated by scripts/haproxy-config.sh; regenerate
# rather than edit (docs/operations.md, "HAProxy"). Check with: haproxy -c -f <this file>
global
    $log_line
    maxconn $maxconn
CFG
if [ "$chroot_dir" != none ] || [ "$user" != none ] || [ "$group" != none ]; then
  echo "    # Bind as root, then confine and drop privileges (the admin socket is created before)."
  [ "$chroot_dir" = none ] || echo "    chroot $chroot_dir"
  [ "$user" = none ] || echo "    user $user"
  [ "$group" = none ] || echo "    group $group"
fi
if [ -n "$tls_crt" ]; then
cat <<CFG
    # TLS 1.2 and later only; HAProxy's default ciphers for those are sound.
    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets
    tune.ssl.default-dh-param 2048
CFG
fi
cat <<CFG
    # Admin socket: "show stat", "disable server fived_gateways/<name>" for planned maintenance.
    stats socket $stats_socket mode 600 level admin
    stats timeout 30s
    # After a reload the old process keeps its WebSocket tunnels; this bounds how long.
    # Clients then reconnect (close code 1006) to the new process and recover with "since".
    hard-stop-after 30s

defaults
    mode http
    log global
    # The default httplog line, but with the path only: a WebSocket token may ride in the query
    # (?token=) and a credential must never reach a log file.
    log-format "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs \\"%HM %HP %HV\\""
    option dontlognull
    timeout connect 3s
    timeout client 30s
    timeout server 30s
    # Slow clients: the whole request head must arrive within 5 s (slowloris).
    timeout http-request 5s
    timeout http-keep-alive 5s
    timeout queue 5s
    # After a WebSocket upgrade only the tunnel timeout applies. Subscribed clients get a tick
    # every second and the gateways ping idle sockets, so 1 h only ends truly dead tunnels.
    timeout tunnel 1h
    # A half-closed connection (FIN from one side) does not wait for the tunnel timeout.
    timeout client-fin 5s
    timeout server-fin 5s
    timeout check 2s

# Public entry: the page, the WebSocket (/ws) and the read API, GET/HEAD only (and the demo
# session). /metrics, /health, /ready and the operator endpoints (POST /api/bets,
# /api/wallet/credit, /api/wallet/debit, /api/wallet/USER/ledger, …/liability, …/tracking, …/void)
# never pass here.
frontend fived_public
    bind $bind
CFG
if [ -n "$tls_crt" ]; then
cat <<CFG
    # TLS ends here (HTTP/1.1: the WebSocket upgrade); plain HTTP is only a redirect to https.
    bind $tls_bind ssl crt $tls_crt alpn http/1.1
    http-request redirect scheme https code 301 unless { ssl_fc }
    http-request set-header X-Forwarded-Proto https
    http-response set-header Strict-Transport-Security "max-age=15552000"
CFG
else
cat <<CFG
    # TLS: scripts/haproxy-config.sh --tls-crt PEM (bind :443 ssl crt PEM, :80 redirects to https).
CFG
fi
if [ "$conns_per_ip" != 0 ] || [ "$http_rate_per_ip" != 0 ]; then
cat <<CFG
    # Per client address: open connections and requests per 10 s (429 above; a connection over
    # the limit is closed at once). An entry expires a minute after its address was last seen.
    # The defaults match the gateways' own (FIVED_MAX_CONNS_PER_IP=500, FIVED_HTTP_RATE_PER_IP=100/s).
    stick-table type ipv6 size 1m expire 60s store conn_cur,http_req_rate(10s)
    tcp-request connection track-sc0 src
CFG
[ "$conns_per_ip" = 0 ] || echo "    tcp-request connection reject if { sc_conn_cur(0) gt $conns_per_ip }"
[ "$http_rate_per_ip" = 0 ] || echo "    http-request deny deny_status 429 if { sc_http_req_rate(0) gt $http_rate_per_ip }"
fi
cat <<CFG
    # The gateways' per-address limits see the client through this header (they trust it only
    # from FIVED_TRUSTED_PROXIES): whatever the client sent is replaced, never appended to.
    http-request set-header X-Forwarded-For %[src]
    acl read_method method GET HEAD
    # Paths a gateway might read differently from these rules (//metrics, /./, %6d…) are refused.
    acl odd_path path_sub // /./ /../ %
    acl internal path_beg /metrics
    # /health and /ready name the instance and its state: operational, for HAProxy's own checks
    # (which go to the gateways directly, not through this frontend) and the operators
    acl internal path /health /ready
    acl api path_beg /api/
    acl api_read path_reg ^/api/(time|rooms(/[A-Za-z0-9_]{1,32}(/periods(/[0-9]{17})?)?)?)/?\$
    # The demo page's session (the gateway answers it only with FIVED_DEMO=true).
    acl demo_session path /api/demo/session
    # The replaced system's Socket.IO protocol (docs/socketio.md): the Engine.IO endpoint (polling
    # posts its packets, browsers preflight it) and its read routes (a player's Bearer JWT; GET, and
    # the preflight of a front end on another origin).
    acl socketio path /socket.io/
    acl socketio_rest path_reg ^/api/(games/[A-Za-z0-9]{1,8}/([0-9]{1,6}/)?(last-result|history|my-bets)|wallet/balances?)/?\$
    # uWebSockets.js closes HTTP/1.0 requests unanswered; say why instead of a 502.
    http-request return status 505 content-type text/plain string "HTTP/1.1 required" if { req.ver 1.0 }
    http-request deny deny_status 405 unless read_method || { method POST } demo_session || { method POST OPTIONS } socketio || { method OPTIONS } socketio_rest
    http-request deny deny_status 400 if odd_path
    http-request deny deny_status 403 if internal
    http-request deny deny_status 403 if api !api_read !demo_session !socketio_rest
    use_backend fived_socketio if socketio
    default_backend fived_gateways

backend fived_gateways
    # Round robin spreads new connections evenly. WebSockets are long-lived: after a gateway
    # restarts it only gets new connections, so when clients stay for hours, "balance leastconn"
    # (fewest open connections) evens the load faster; roundrobin suits churning sessions.
    balance roundrobin
    # A draining gateway (SIGTERM) answers /ready with 503 and leaves the pool within
    # 2 × inter; its clients are closed with 1001, reconnect here and land on the others.
    # (HTTP/1.1 with a Host header: uWebSockets.js does not answer HTTP/1.0.)
    option httpchk GET /ready HTTP/1.1
    http-check send hdr Host fived-health-check
    http-check expect status 200
    # A request that reached a draining gateway (503) or none is retried on another one.
    retry-on conn-failure empty-response response-timeout 503
    option redispatch 1
    retries 2
    default-server check inter ${check_inter}ms fastinter $((check_inter / 2 > 100 ? check_inter / 2 : 100))ms downinter $((check_inter * 2))ms fall 2 rise 2 slowstart $slowstart
CFG
for l in "${lines[@]}"; do echo "    server $l"; done
cat <<CFG

# Socket.IO (/socket.io/): a new session goes round robin; every later request of it (the polling
# transport's GETs and POSTs, its upgrade to WebSocket) carries ?sid= and must reach the gateway
# that holds the session. The gateway names the session in its first answer (cookie io=<sid>);
# HAProxy remembers sid → gateway from that answer and routes by the request's sid, so it works
# for clients that keep no cookies. A gateway gone: its sessions end and the clients reconnect.
backend fived_socketio
    balance roundrobin
    stick-table type string len 64 size 1m expire 30m
    stick match url_param(sid)
    stick store-response res.cook(io)
    option redispatch 1
    retries 2
CFG
for n in "${names[@]}"; do
  echo "    server $n ${lines[$(index_of "$n")]#* } track fived_gateways/$n"
done
if [ "$operator" != none ]; then
cat <<CFG

# Operator endpoints for the platform's own servers (bets placed server-to-server, credits,
# liability, voids; FIVED_OPERATOR_TOKEN). Bind it to a private address only, never the public one.
frontend fived_operator
    bind $operator
    http-request set-header X-Forwarded-For %[src]
    default_backend fived_operator

backend fived_operator
    balance roundrobin
    # Only retry what never reached a gateway: POSTs are not replayed.
    retry-on conn-failure
    option redispatch 1
    retries 2
CFG
for n in "${names[@]}"; do
  echo "    server $n ${lines[$(index_of "$n")]#* } track fived_gateways/$n"
done
fi
cat <<CFG

# Stats page (and HAProxy's own Prometheus metrics at /metrics), on loopback only.
listen stats
    bind $stats
    http-request use-service prometheus-exporter if { path /metrics }
    stats enable
    stats uri /
    stats refresh 5s
    stats show-legends
CFG
}

index_of() { local i; for i in "${!names[@]}"; do [ "${names[$i]}" = "$1" ] && { echo "$i"; return; }; done; }

if [ -n "$out" ]; then
  tmp="$(mktemp "${out}.XXXXXX")"
  render >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$out"
else
  render
fi
