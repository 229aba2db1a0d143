#!/usr/bin/env bash
# hive-layout.sh DEST DATASET...: lays the Parquet parts of danescan
# datasets out as one directory per table, partitioned Hive-style by scan
# and shard, for engines that read a table from one directory (Spark,
# Trino's Hive connector, DuckDB and pyarrow with hive partitioning):
#
#   DEST/domains/scan=<scan_id>/shard=<K>/part-00000.parquet ...
#   DEST/mx_hosts/scan=<scan_id>/shard=<K>/...
#   DEST/endpoints/scan=<scan_id>/shard=<K>/...
#
# Only the parts each manifest lists are taken (never a part being written
# or one a crash left behind), from complete datasets only; a dataset that
# is not a shard is shard=0. Each part is hard-linked (no space used; the
# link stays an ordinary file whatever happens to the dataset), or copied
# where DEST is on another file system. Running it again for a scan
# replaces that scan's partitions, so run it again after a shard is
# re-scanned. For object storage, lay it out locally, then sync DEST up
# (e.g. aws s3 sync DEST s3://bucket/danescan).
#
# Needs jq. Exits 1 with one line on the first dataset it refuses; the
# partitions of the datasets before it stay in place.
set -euo pipefail

fail() {
	echo "hive-layout: $*" >&2
	exit 1
}
[ $# -ge 2 ] || fail "usage: hive-layout.sh DEST DATASET..."
command -v jq >/dev/null || fail "needs jq (apt-get install jq) to read the manifests"
dest=$1
shift

# Check every dataset before touching DEST.
declare -A seen
for ds in "$@"; do
	m=$ds/manifest.json
	[ -f "$m" ] || fail "$ds: no manifest.json: not a dataset"
	jq -e '.complete == true' "$m" >/dev/null || fail "$ds: incomplete (manifest complete: false): finish or re-run it first"
	key=$(jq -r '"scan=\(.scan_id)/shard=\(.shard.index // 0)"' "$m")
	[[ $key =~ ^scan=[A-Za-z0-9_-][A-Za-z0-9._-]*/shard=[0-9]+$ ]] || fail "$ds: scan id or shard not usable as a partition name: $key"
	[ -z "${seen[$key]:-}" ] || fail "$ds: $key is also ${seen[$key]}"
	seen[$key]=$ds
done

for ds in "$@"; do
	m=$ds/manifest.json
	key=$(jq -r '"scan=\(.scan_id)/shard=\(.shard.index // 0)"' "$m")
	for table in $(jq -r '.parts[].table' "$m" | sort -u) domains mx_hosts endpoints; do
		rm -rf "${dest:?}/$table/$key"
	done
	n=0
	while read -r table path; do
		case $path in
		"$table"/part-*.parquet) ;;
		*) fail "$ds: manifest lists an unexpected part path: $path" ;;
		esac
		dir=$dest/$table/$key
		mkdir -p "$dir"
		ln -f "$ds/$path" "$dir/" 2>/dev/null || cp -f "$ds/$path" "$dir/"
		n=$((n + 1))
	done < <(jq -r '.parts[] | "\(.table) \(.path)"' "$m")
	echo "hive-layout: $ds -> $dest/*/$key ($n parts)"
done
