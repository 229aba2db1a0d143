#!/bin/sh
# Memory and shard benchmarks of a DNS-only scan against the world that
# ../shared/bench/world.sh serves (NSD on 127.0.9.1:53; start it first with
# `world.sh up N unsigned`). Only 127.0.9.1 is queried and no SMTP connection
# is made (--no-smtp): nothing leaves loopback.
#
#   bench/scale.sh memory N...   peak RSS and CPU of one scan of the first N names
#                                of the world's list, for each N (the whole list if N=all)
#   bench/scale.sh shards N [K]  CPU (user+sys) of one scan of the first N names
#                                against K shards (default 4) run one after the other
#
# Extra scan flags go in $SCAN_FLAGS (e.g. SCAN_FLAGS='--memory-limit 512MiB');
# $DANESCAN names the binary (default: built from this checkout). Results are
# markdown table rows on stdout; scratch output goes to a temporary directory that
# is removed at the end. Figures move with the machine's load: run on a quiet one.
set -eu
DIR=${DANESCAN_BENCH_DIR:-/tmp/danescan-bench}
RESOLVER=127.0.9.1:53
die() { echo "scale.sh: $*" >&2; exit 1; }

mode=${1:-}; [ $# -ge 1 ] && shift
case "$mode" in
memory) [ $# -ge 1 ] || die "usage: scale.sh memory N... | shards N [K]" ;;
shards) [ $# -ge 1 ] || die "usage: scale.sh memory N... | shards N [K]" ;;
*) die "usage: scale.sh memory N... | shards N [K]" ;;
esac

# The world: NSD running from world.sh, answering, and its list.
command -v nsd >/dev/null 2>&1 || die "nsd is not installed (apt-get install -y nsd bind9-utils bind9-dnsutils)"
if ! { [ -f "$DIR/nsd/nsd.pid" ] && kill -0 "$(cat "$DIR/nsd/nsd.pid")" 2>/dev/null; }; then
  die "no world running: start one with ../shared/bench/world.sh up N unsigned"
fi
ZONE=$(sed -n 's/^ *zonefile: *"\(.*\)"/\1/p' "$DIR/nsd/nsd.conf")
LIST=$(dirname "$ZONE")/names.txt
[ -f "$LIST" ] || die "the world's list $LIST is missing"
dig @127.0.9.1 +time=2 +tries=1 d0000000.test MX 2>/dev/null | grep -q NOERROR ||
  die "NSD on $RESOLVER does not answer d0000000.test MX"
case "$ZONE" in *.signed) die "the world is signed: start it with world.sh up N unsigned" ;; esac
WORLD=$(wc -l < "$LIST")

TMP=$(mktemp -d /tmp/danescan-scale.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
if [ -z "${DANESCAN:-}" ]; then
  (cd "$(dirname "$0")/.." && go build -o "$TMP/danescan" ./cmd/danescan) || die "go build failed"
  DANESCAN=$TMP/danescan
fi

# list N: the first N names of the world's list, as a file.
list() {
  if [ "$1" = all ] || [ "$1" -ge "$WORLD" ]; then echo "$LIST"; return; fi
  head -n "$1" "$LIST" > "$TMP/list-$1"; echo "$TMP/list-$1"
}

# scan OUT LIST [flags]: one scan; sets rss (MiB), cpu (user+sys s), wall (s).
scan() {
  out=$1; in=$2; shift 2
  # shellcheck disable=SC2086
  /usr/bin/time -f "%M %U %S %e" -o "$TMP/time" "$DANESCAN" scan --resolver "$RESOLVER" \
    --dnssec=false --no-smtp --quiet ${SCAN_FLAGS:-} "$@" --out "$out" "$in" > "$TMP/summary" ||
    die "scan of $in failed (exit $?)"
  read -r kib user sys wall < "$TMP/time"
  rss=$((kib / 1024))
  cpu=$(echo "$user + $sys" | bc)
}

echo "world: $WORLD domains ($LIST); load: $(cut -d' ' -f1-3 /proc/loadavg); flags: ${SCAN_FLAGS:-none}" >&2
case "$mode" in
memory)
  echo "| domains | peak RSS | CPU (user+sys) | wall | flags |"
  echo "| --- | --- | --- | --- | --- |"
  for n in "$@"; do
    in=$(list "$n"); rows=$(wc -l < "$in")
    scan "$TMP/out" "$in"; rm -rf "$TMP/out"
    echo "| $rows | $rss MiB | $cpu s | $wall s | ${SCAN_FLAGS:-} |"
  done
  ;;
shards)
  n=$1; k=${2:-4}; in=$(list "$n"); rows=$(wc -l < "$in")
  scan "$TMP/out" "$in"; rm -rf "$TMP/out"
  single=$cpu; single_rss=$rss
  total=0; peak=0; i=0
  while [ "$i" -lt "$k" ]; do
    scan "$TMP/out" "$in" --shard "$i/$k" --scan-id scale; rm -rf "$TMP/out"
    total=$(echo "$total + $cpu" | bc); [ "$rss" -gt "$peak" ] && peak=$rss
    i=$((i + 1))
  done
  echo "| domains | single scan CPU | $k shards CPU (sum) | ratio | peak RSS single / largest shard |"
  echo "| --- | --- | --- | --- | --- |"
  echo "| $rows | $single s | $total s | $(echo "scale=3; $total / $single" | bc) | $single_rss / $peak MiB |"
  ;;
esac
