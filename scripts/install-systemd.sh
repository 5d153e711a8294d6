#!/usr/bin/env bash
# Installs a fived release and the systemd units on this host. Each release lives in its own
# directory beside the others, PREFIX/releases/<version> (the version of its package.json), and
# PREFIX/current is a symlink to the one the units run (PREFIX/previous: the one before, for
# `scripts/rollout.sh --rollback`). A running process keeps the release it started from (Node
# resolves the symlink at start, worker threads included), so switching `current` mixes nothing:
# the switch takes effect gateway by gateway with scripts/rollout.sh. The templated gateway unit
# is enabled for each port, the scheduler (unless --no-scheduler), fived.target, and
# /etc/fived/fived.env is written from the example (only when absent: never overwritten).
#
#   sudo scripts/install-systemd.sh --ports 3000,3001,3002,3003        # 4 gateways + scheduler
#   sudo scripts/install-systemd.sh --gateways 4 --base-port 3000      # the same
#   sudo scripts/install-systemd.sh --release --gateways 4             # this checkout as a release, too
#   scripts/install-systemd.sh --root /tmp/r --gateways 2              # into a directory tree
#   scripts/install-systemd.sh --dry-run --gateways 2                  # print what it would do
#
# Options:
#   --ports LIST        comma-separated gateway ports
#   --gateways N        N gateways on consecutive ports from --base-port (default 2)
#   --base-port P       first port (default 3000)
#   --no-scheduler      do not enable the scheduler on this host (gateway-only hosts)
#   --archiver          also install and enable the archiver (fived-archiver.service; it needs
#                       FIVED_ARCHIVE_URL in fived.env or /etc/fived/archiver.env). Without it an
#                       archiver enabled earlier is disabled, as --no-scheduler does for the scheduler
#   --prefix DIR        where releases live (default /opt/fived): DIR/releases/<version>, DIR/current
#   --release           install the built app from --from (default: this checkout; it needs bin/,
#                       dist/, package.json, node_modules/) as DIR/releases/<version> and point
#                       DIR/current at it (the old target becomes DIR/previous). A version already
#                       installed is refused (releases are never overwritten).
#   --from DIR          the built app to install with --release (default: this checkout)
#   --no-switch         with --release: install beside the others, leave `current` as it is
#   --hardlink          with --release: hard-link files instead of copying them (same filesystem;
#                       fast, for tests and CI)
#   --app-dir DIR       what the units run (default PREFIX/current)
#   --node PATH         the node binary (default: `command -v node`)
#   --root DIR          install under DIR instead of / (no systemctl calls); for packaging and tests
#   --dry-run           print the actions, change nothing
#   --no-start          enable but do not start (with a live systemd)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ports=""
gateways=2
base_port=3000
scheduler=1
archiver=0
prefix=/opt/fived
app_dir=""
release=0
from=""
switch=1
hardlink=0
node_bin=""
root=""
dry=0
start=1

die() { echo "install-systemd: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --ports) ports="${2:?--ports needs a value}"; shift 2 ;;
    --gateways) gateways="${2:?--gateways needs a value}"; shift 2 ;;
    --base-port) base_port="${2:?--base-port needs a value}"; shift 2 ;;
    --no-scheduler) scheduler=0; shift ;;
    --archiver) archiver=1; shift ;;
    --app-dir) app_dir="${2:?--app-dir needs a value}"; shift 2 ;;
    --prefix) prefix="${2:?--prefix needs a value}"; shift 2 ;;
    --release) release=1; shift ;;
    --from) from="${2:?--from needs a value}"; shift 2 ;;
    --no-switch) switch=0; shift ;;
    --hardlink) hardlink=1; shift ;;
    --node) node_bin="${2:?--node needs a value}"; shift 2 ;;
    --root) root="${2:?--root needs a value}"; shift 2 ;;
    --dry-run) dry=1; shift ;;
    --no-start) start=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

is_port() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]; }
if [ -z "$ports" ]; then
  [[ "$gateways" =~ ^[0-9]+$ ]] && [ "$gateways" -ge 1 ] || die "--gateways must be a positive integer"
  is_port "$base_port" || die "--base-port must be a port number"
  list=()
  for ((i = 0; i < gateways; i++)); do list+=("$((base_port + i))"); done
else
  IFS=',' read -r -a list <<<"$ports"
fi
[ "${#list[@]}" -gt 0 ] || die "no gateway ports"
for p in "${list[@]}"; do is_port "$p" || die "not a port: '$p'"; done

if [ -z "$node_bin" ]; then node_bin="$(command -v node || true)"; fi
[ -n "$node_bin" ] || die "node not found; pass --node PATH"
[[ "$prefix" = /* ]] || die "--prefix must be absolute"
[ -n "$app_dir" ] || app_dir="$prefix/current"
[[ "$app_dir" = /* ]] || die "--app-dir must be absolute"
[ -n "$from" ] || from="$here"
[ "$release" -eq 1 ] || [ "$from" = "$here" ] || die "--from goes with --release"
[[ "$node_bin" = /* ]] || die "--node must be absolute"

unit_dir="$root/etc/systemd/system"
env_dir="$root/etc/fived"
live=0
if [ -z "$root" ] && [ "$dry" -eq 0 ]; then live=1; fi

run() { # print in dry-run, else do
  if [ "$dry" -eq 1 ]; then printf '+'; printf ' %q' "$@"; printf '\n'; else "$@"; fi
}

# The committed units name /usr/bin/node and /opt/fived/current; rewrite them for this host.
render() { # src dest
  local tmp
  if [ "$dry" -eq 1 ]; then echo "+ render $1 -> $2 (node $node_bin, app $app_dir)"; return; fi
  tmp="$(mktemp)"
  sed -e "s#/usr/bin/node #${node_bin} #g" -e "s#/opt/fived/current#${app_dir}#g" "$1" >"$tmp"
  run install -m 0644 "$tmp" "$2"
  rm -f "$tmp"
}

# ---- the release: PREFIX/releases/<version>, PREFIX/current → it ----------------------------
install_release() {
  local version rel_dir target prev tmp
  [ -f "$from/package.json" ] && [ -f "$from/dist/cli.js" ] && [ -f "$from/bin/fived.js" ] && [ -d "$from/node_modules" ] \
    || die "--from $from is not a built fived app (bin/fived.js, dist/cli.js, package.json, node_modules/; run npm ci && npm run build)"
  version="$(node -e 'const v = require(process.argv[1]).version; if (!/^[0-9A-Za-z][0-9A-Za-z.+_-]*$/.test(v)) process.exit(1); console.log(v)' "$from/package.json")" \
    || die "$from/package.json has no usable version"
  rel_dir="$root$prefix/releases/$version"
  [ ! -e "$rel_dir" ] || die "release $version is already installed in $rel_dir (releases are never overwritten; bump the version)"
  if [ "$dry" -eq 1 ]; then
    echo "+ copy $from (bin dist package.json node_modules docs haproxy redis scripts systemd) -> $rel_dir"
    [ "$switch" -eq 1 ] && echo "+ ln -sfn releases/$version $root$prefix/current (the old target becomes $root$prefix/previous)"
    return
  fi
  mkdir -p "$root$prefix/releases"
  tmp="$(mktemp -d "$root$prefix/releases/.install-$version.XXXXXX")"
  local item opt=-a
  [ "$hardlink" -eq 1 ] && opt=-al
  for item in bin dist package.json package-lock.json node_modules docs haproxy redis scripts systemd README.md; do
    [ -e "$from/$item" ] && cp $opt "$from/$item" "$tmp/"
  done
  chmod 0755 "$tmp"
  mv -T "$tmp" "$rel_dir"
  echo "install-systemd: release $version installed in $rel_dir"
  if [ "$switch" -eq 1 ]; then
    target="$(readlink "$root$prefix/current" 2>/dev/null || true)"
    if [ -n "$target" ] && [ "$target" != "releases/$version" ]; then
      ln -sfn "$target" "$root$prefix/previous.tmp" && mv -T "$root$prefix/previous.tmp" "$root$prefix/previous"
    fi
    # atomic: a new symlink renamed over the old one
    ln -sfn "releases/$version" "$root$prefix/current.tmp" && mv -T "$root$prefix/current.tmp" "$root$prefix/current"
    echo "install-systemd: $prefix/current -> releases/$version${target:+ (previous: $target)}; restart with scripts/rollout.sh"
  fi
}
[ "$release" -eq 0 ] || install_release

run mkdir -p "$unit_dir/fived.target.wants" "$unit_dir/multi-user.target.wants" "$env_dir"
render "$here/systemd/fived-gateway@.service" "$unit_dir/fived-gateway@.service"
render "$here/systemd/fived-scheduler.service" "$unit_dir/fived-scheduler.service"
render "$here/systemd/fived.target" "$unit_dir/fived.target"
[ "$archiver" -eq 0 ] || render "$here/systemd/fived-archiver.service" "$unit_dir/fived-archiver.service"

# Enabling = the [Install] symlinks `systemctl enable` would make; done by hand so --root works
# without a running systemd. Ports no longer listed are disabled.
for link in "$unit_dir"/fived.target.wants/fived-gateway@*.service; do
  [ -L "$link" ] || continue
  p="${link##*@}"; p="${p%.service}"
  keep=0
  for q in "${list[@]}"; do [ "$p" = "$q" ] && keep=1; done
  [ "$keep" -eq 1 ] || run rm -f "$link"
done
for p in "${list[@]}"; do
  run ln -sfn ../fived-gateway@.service "$unit_dir/fived.target.wants/fived-gateway@$p.service"
done
if [ "$scheduler" -eq 1 ]; then
  run ln -sfn ../fived-scheduler.service "$unit_dir/fived.target.wants/fived-scheduler.service"
else
  run rm -f "$unit_dir/fived.target.wants/fived-scheduler.service"
fi
if [ "$archiver" -eq 1 ]; then
  run ln -sfn ../fived-archiver.service "$unit_dir/fived.target.wants/fived-archiver.service"
else
  run rm -f "$unit_dir/fived.target.wants/fived-archiver.service"
fi
run ln -sfn ../fived.target "$unit_dir/multi-user.target.wants/fived.target"

if [ -e "$env_dir/fived.env" ]; then
  echo "install-systemd: keeping the existing $env_dir/fived.env"
elif [ "$dry" -eq 1 ]; then
  echo "+ write $env_dir/fived.env (mode 0600) from systemd/fived.env.example with a random FIVED_JWT_SECRET and FIVED_SEED_KEY"
else
  # A fresh env file gets a random JWT secret instead of the example's placeholder, and a random
  # seed key. Every host of one deployment needs the SAME seed key: copy it from the first host's
  # file to the others (docs/operations.md, "The seed key"). Mode 0600: systemd reads it as root.
  secret="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  seedkey="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  tmp="$(mktemp)"
  sed -e "s#^FIVED_JWT_SECRET=.*#FIVED_JWT_SECRET=${secret}#" -e "s#^FIVED_SEED_KEY=.*#FIVED_SEED_KEY=${seedkey}#" "$here/systemd/fived.env.example" >"$tmp"
  install -m 0600 "$tmp" "$env_dir/fived.env"
  rm -f "$tmp"
fi
run install -m 0644 "$here/systemd/fived.env.example" "$env_dir/fived.env.example"

if [ "$live" -eq 1 ]; then
  [ -e "$app_dir/dist/cli.js" ] || echo "install-systemd: warning: $app_dir/dist/cli.js not found (install a release with --release: docs/operations.md)" >&2
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    # the first install starts everything; later ones leave the running release to scripts/rollout.sh
    if [ "$start" -eq 1 ]; then systemctl start fived.target; fi
  else
    # an image build or a container: the units take effect when systemd boots
    echo "install-systemd: systemd is not running here; the units start with fived.target at boot"
    live=0
  fi
fi

echo "install-systemd: gateways on ${list[*]}; scheduler $([ "$scheduler" -eq 1 ] && echo enabled || echo not enabled); units in $unit_dir; settings in $env_dir/fived.env"
if [ "$live" -eq 1 ]; then
  echo "  status: systemctl list-dependencies fived.target; journalctl -u 'fived-*' -f"
fi
