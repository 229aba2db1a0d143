#!/usr/bin/env bash
# bench/throughput.sh N [RUNS]: the throughput table of issue 13 for the world of
# ../shared/bench/world.sh (NSD on 127.0.9.1:53 serving N mail domains, signed), measured in
# one run on this machine: dnsperf's limit on the same server, then danescan DNS only and
# validated (--no-smtp: the world's MX addresses are not on this machine), RUNS times each
# (default 3), alternating. Prints a Markdown table: domains/s, DNS queries/s, queries/s as a
# share of dnsperf's, CPU seconds (user+sys) and peak RSS.
#
#   sh ../shared/bench/world.sh up 200000 signed && bench/throughput.sh 200000
#
# Needs dnsperf (apt-get install -y dnsperf) and /usr/bin/time. Sends nothing beyond
# the world's server ($DANESCAN_BENCH_ADDR, default 127.0.9.1, loopback only). DANESCAN names the binary (default: built from this checkout).
set -euo pipefail
N=${1:?usage: bench/throughput.sh N [RUNS]}
RUNS=${2:-3}
cd "$(dirname "$0")/.."
DIR=${DANESCAN_BENCH_DIR:-/tmp/danescan-bench}
# ADDR: world.sh's server; a copy of ../shared/bench with another loopback address (to run
# beside a world.sh already up) sets DANESCAN_BENCH_ADDR and DANESCAN_BENCH_DIR.
ADDR=${DANESCAN_BENCH_ADDR:-127.0.9.1}
case $ADDR in 127.*) ;; *) echo "throughput.sh: DANESCAN_BENCH_ADDR $ADDR is not a loopback address" >&2; exit 1 ;; esac
Z=$DIR/zone-$N
die() { echo "throughput.sh: $*" >&2; exit 1; }
[ -f "$Z/names.txt" ] && [ -f "$Z/q-mix.txt" ] || die "no world of $N domains in $Z: run ../shared/bench/world.sh up $N signed"
[ -f "$Z/dsset-test." ] || die "the world of $N domains is not signed: run ../shared/bench/world.sh up $N signed"
dig @$ADDR +time=1 +tries=1 d0000000.test MX 2>/dev/null | grep -q NOERROR || die "NSD does not answer on $ADDR:53: run ../shared/bench/world.sh up $N signed"
dig @$ADDR +time=1 +tries=1 +dnssec d0000000.test MX 2>/dev/null | grep -q RRSIG || die "NSD on $ADDR serves an unsigned zone: run ../shared/bench/world.sh up $N signed"
command -v dnsperf >/dev/null || die "dnsperf is missing: apt-get install -y dnsperf"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing: apt-get install -y time"
BIN=${DANESCAN:-}
if [ -z "$BIN" ]; then
  BIN=$(mktemp -d)/danescan
  go build -o "$BIN" ./cmd/danescan || die "go build failed"
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# dnsperf's limit: the server alone, 15 s.
qps_limit=$(dnsperf -s "$ADDR" -d "$Z/q-mix.txt" -l 15 -c 4 -T 1 -q 1000 -D 2>&1 | awk '/Queries per second/ {print $4}')
[ -n "$qps_limit" ] || die "dnsperf printed no rate"

# run NAME FLAGS...: one scan; prints "domains/s queries/s cpu_s rss_mib".
run() {
  local out=$TMP/out
  rm -rf "$out"
  /usr/bin/time -f "%e %U %S %M" -o "$TMP/time" "$BIN" scan --resolver "$ADDR:53" --no-smtp --quiet --out "$out" "$@" "$Z/names.txt" >/dev/null
  read -r wall user sys rss <"$TMP/time"
  local q
  q=$(python3 -c "import json;print(json.load(open('$out/manifest.json'))['counts']['dns_queries'])")
  python3 -c "print(f'{$N/$wall:.0f} {$q/$wall:.0f} {$user+$sys:.1f} {$rss/1024:.0f}')"
}

echo "world: $N domains on $ADDR, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| scan of that world | domains/s | DNS queries/s | share of dnsperf | CPU s | peak RSS MiB |"
echo "| --- | --- | --- | --- | --- | --- |"
printf '| dnsperf -c 4 -T 1 -q 1000 (the limit) | | %.0f | 100 %% | | |\n' "$qps_limit"
for i in $(seq "$RUNS"); do
  for mode in dns validated; do
    if [ $mode = dns ]; then r=$(run --dnssec=false); label="DNS only (--dnssec=false)"; else r=$(run --trust-anchor "$Z/dsset-test."); label="validated (--trust-anchor)"; fi
    read -r dps qps cpu rss <<<"$r"
    printf '| %s, run %d | %s | %s | %.1f %% | %s | %s |\n' "$label" "$i" "$dps" "$qps" "$(python3 -c "print(100*$qps/$qps_limit)")" "$cpu" "$rss"
  done
done
