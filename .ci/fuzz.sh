#!/usr/bin/env bash
# Runs every fuzz target of the module for a budget each (issue 11).
#
#   .ci/fuzz.sh                      every target for FUZZTIME (default 10s)
#   FUZZTIME=10m .ci/fuzz.sh         a long run
#   .ci/fuzz.sh 'Lookup|Anchors'     only the targets whose name matches
#
# Targets are found by grepping the _test.go files for "func FuzzXxx(", so
# a new target runs without editing this script. Each runs alone with
# go test -run '^$' -fuzz '^Target$' -fuzztime $FUZZTIME in its package;
# FUZZPARALLEL sets -parallel (default: GOMAXPROCS). The seeds (f.Add and
# testdata/fuzz/<Target>/ of the package) run first.
#
# A finding fails the script: Go writes the failing input to
# <package>/testdata/fuzz/<Target>/<hash>, which this script lists; after
# the fix it stays there as a seed. The corpus a run builds stays in
# $(go env GOCACHE)/fuzz and is not committed.
#
# On a loaded machine Go's engine sometimes stops with "context deadline
# exceeded" without a failing input: such a run is retried once with three
# times the budget, and fails only if it fails again.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
fuzztime=${FUZZTIME:-10s}
filter=${1:-.}

# seconds DURATION: a Go duration of one unit (90s, 10m, 1h) in seconds;
# empty for anything else (1000x, 1h30m).
seconds() {
	case $1 in
	*[0-9]s) echo "${1%s}" ;;
	*[0-9]m) echo $((${1%m} * 60)) ;;
	*[0-9]h) echo $((${1%h} * 3600)) ;;
	esac
}

# scale DURATION N: DURATION times N, or DURATION when it has no simple unit.
scale() {
	local s
	s=$(seconds "$1")
	if [[ $s =~ ^[0-9]+$ ]]; then echo "$(($s * $2))s"; else echo "$1"; fi
}

# timeout DURATION: go test's -timeout for a fuzzing budget: the budget
# twice plus 5 minutes for the seeds, or 0 (none) when it has no simple
# unit. go test's default of 10m would end a long run.
timeout() {
	local s
	s=$(seconds "$1")
	if [[ $s =~ ^[0-9]+$ ]]; then echo "$((s * 2 + 300))s"; else echo 0; fi
}

# progress LOG: the last progress line of a run (elapsed time, execs).
progress() {
	grep -o 'elapsed: .*' "$1" | tail -1 || true
}

# run DIR TARGET BUDGET LOG: fuzzes TARGET of package DIR, output in LOG.
run() {
	local args=(-run '^$' -fuzz "^$2\$" -fuzztime "$3" -timeout "$(timeout "$3")")
	if [ -n "${FUZZPARALLEL:-}" ]; then
		args+=(-parallel "$FUZZPARALLEL")
	fi
	go test "${args[@]}" "./$1" >"$4" 2>&1
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=()
count=0
while IFS=: read -r file target; do
	[[ $target =~ $filter ]] || continue
	dir=$(dirname "$file")
	count=$((count + 1))
	start=$SECONDS
	if run "$dir" "$target" "$fuzztime" "$log"; then
		echo "ok   $target ./$dir ($((SECONDS - start))s; $(progress "$log"))"
		continue
	fi
	if grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written to' "$log"; then
		longer=$(scale "$fuzztime" 3)
		echo "retry $target ./$dir: context deadline exceeded without a failing input; again for $longer"
		if run "$dir" "$target" "$longer" "$log"; then
			echo "ok   $target ./$dir (retried; $(progress "$log"))"
			continue
		fi
	fi
	echo "FAIL $target ./$dir"
	tail -40 "$log"
	failed+=("$target")
done < <(grep -rEo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(' . |
	sed -E 's|^\./||; s|:func (Fuzz[A-Za-z0-9_]+)\($|:\1|' | sort)

if [ "$count" = 0 ]; then
	echo "fuzz: no target matches $filter" >&2
	exit 1
fi
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: ${#failed[@]} of $count targets failed: ${failed[*]}" >&2
	echo "fuzz: failing inputs are in <package>/testdata/fuzz/<Target>/ (git status lists them)" >&2
	exit 1
fi
echo "fuzz: $count targets, $fuzztime each, no finding"
