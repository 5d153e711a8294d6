#!/usr/bin/env bash
# Puts a `fived backup` snapshot in place for a Redis that is STOPPED (docs/operations.md,
# "Backup and restore"). It checks the file against its manifest (sha256), moves the current data
# (the RDB file and the AOF directory) aside into DIR/before-restore-<time>/ (nothing is deleted),
# and copies the snapshot in as the RDB file — and, with --aof NAME (Redis runs with appendonly
# yes), also as the base of a new AOF directory: Redis 7 with appendonly yes loads only the AOF
# and would otherwise start EMPTY. Start Redis afterwards.
#
#   scripts/restore-redis.sh --manifest BACKUP.json --dir REDIS_DIR [--aof fived.aof] [--dbfilename dump.rdb] [--aof-dir appendonlydir]
#
# REDIS_DIR, --aof, --dbfilename and --aof-dir are Redis's `dir`, `appendfilename`, `dbfilename`
# and `appenddirname` (redis/fived-redis.conf: /var/lib/redis-fived, fived.aof, dump.rdb,
# appendonlydir). Run it as the user owning REDIS_DIR (redis). Exit 0 when the snapshot is in
# place; 2 on bad arguments; 1 otherwise.
set -euo pipefail

die() { echo "restore-redis: $1" >&2; exit "${2:-1}"; }
usage="usage: scripts/restore-redis.sh --manifest BACKUP.json --dir REDIS_DIR [--aof fived.aof] [--dbfilename dump.rdb] [--aof-dir appendonlydir]"

manifest="" dir="" aof="" dbfilename="dump.rdb" aofdir="appendonlydir"
while [ $# -gt 0 ]; do
  case "$1" in
    --manifest|--dir|--aof|--dbfilename|--aof-dir)
      [ $# -ge 2 ] || die "$1 needs a value
$usage" 2
      case "$1" in
        --manifest) manifest="$2" ;;
        --dir) dir="$2" ;;
        --aof) aof="$2" ;;
        --dbfilename) dbfilename="$2" ;;
        --aof-dir) aofdir="$2" ;;
      esac
      shift 2 ;;
    *) die "unknown argument $1
$usage" 2 ;;
  esac
done
[ -n "$manifest" ] && [ -n "$dir" ] || die "--manifest and --dir are required
$usage" 2
[ -f "$manifest" ] || die "no manifest at $manifest"
[ -d "$dir" ] || die "no Redis directory at $dir"
case "$dbfilename$aofdir$aof" in */*|*..*) die "--aof, --dbfilename and --aof-dir are names inside --dir, not paths" 2 ;; esac
if [ -z "$aof" ] && [ -d "$dir/$aofdir" ]; then
  die "$dir/$aofdir exists: this Redis runs with appendonly yes and would ignore a bare RDB (it would start empty); pass --aof with its appendfilename (fived.aof in redis/fived-redis.conf)" 2
fi

field() { node -e 'const m=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); const v=process.argv[2].split(".").reduce((o,k)=>o?.[k],m); if(v===undefined) process.exit(1); console.log(v)' "$manifest" "$1"; }
[ "$(field format)" = "fived-backup/1" ] || die "$manifest is not a fived backup manifest"
rdb="$(dirname "$manifest")/$(field file.name)"
[ -f "$rdb" ] || die "the snapshot $rdb named by the manifest is missing"
want="$(field file.sha256)"
got="$(sha256sum "$rdb" | cut -d' ' -f1)"
[ "$want" = "$got" ] || die "sha256 of $rdb is $got, the manifest says $want: refusing a damaged or different file"

aside="$dir/before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$aside"
[ -e "$dir/$dbfilename" ] && mv "$dir/$dbfilename" "$aside/"
[ -e "$dir/$aofdir" ] && mv "$dir/$aofdir" "$aside/"
cp "$rdb" "$dir/.$dbfilename.restoring"
mv "$dir/.$dbfilename.restoring" "$dir/$dbfilename"
if [ -n "$aof" ]; then
  # a Redis 7 AOF directory whose base is the snapshot (the manifest format of Redis's multi-part AOF)
  tmp="$dir/.$aofdir.restoring"
  rm -rf "$tmp"
  mkdir "$tmp"
  cp "$rdb" "$tmp/$aof.1.base.rdb"
  : > "$tmp/$aof.1.incr.aof"
  printf 'file %s.1.base.rdb seq 1 type b\nfile %s.1.incr.aof seq 1 type i\n' "$aof" "$aof" > "$tmp/$aof.manifest"
  mv "$tmp" "$dir/$aofdir"
fi
echo "restore-redis: $rdb (taken $(field createdAt), generation $(field generation)) is now $dir/$dbfilename"
echo "restore-redis: the previous data is in $aside; start Redis now"
