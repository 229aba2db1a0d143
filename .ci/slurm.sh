#!/usr/bin/env bash
# CI: a scan in 4 shards on Slurm with SMTP on, split for politeness across
# machines (issue 12); run by .ci/run after the extras, runs alone too
# (.ci/slurm.sh, as root).
#
# Installs Debian's slurm-wlm and munge, starts a one-node Slurm on this
# machine (munged, slurmctld and slurmd, their config, keys, state and logs
# in a temporary directory; no cgroups, no accounting), serves a lab world
# with `danescan lab serve` (DNS on 127.0.0.1, mail servers on
# 127.x.y.z:25), and submits deploy/slurm/danescan-array.sbatch as three
# 4-task arrays, each after the one before (afterok): the DNS step
# (scan --smtp-handover), the probe step and the merge step, then
# deploy/slurm/danescan-report.sbatch (danescan verify and danescan analyze
# over the merged shards), as a user would. It checks that no address is
# in two probe shards (each was probed from one task); then, after a probe
# shard cut short and a merged shard lost, that submitting the same four
# jobs again makes only what is missing, incomplete (the probe shard:
# resumed) or stale; and after a DNS shard cut short, that it is resumed
# and every probe shard and merge made again. Then it scans the
# same world in one process and checks: the merged shards equal the single
# scan row for row on the verdict columns of domains, mx_hosts and
# endpoints (hosts and endpoints deduplicated across shards; timestamps,
# durations and error texts aside); danescan verify on the merged shards
# exits 0; the report job's report.json and findings equal those of
# danescan analyze on the single scan (times, scan id and paths aside);
# and the README's cluster funnel query over deploy/hive-layout.sh's layout
# of the shards gives the figures of analysis/queries/funnel.sql on the
# single scan. Then the DNS-only path (--no-smtp): the scan step as one
# array and the report job; after a shard cut short and one lost, the
# same again: the cut one resumed (--resume), the lost one scanned anew;
# the shards equal a single DNS-only scan row for row (domains, mx_hosts)
# and verify exits 0. Every daemon it started is stopped on exit.
#
# Needs root (slurmd runs jobs, the lab's mail servers bind port 25 on
# 127.x addresses; Slurm takes ports 16817 and 16818).
# Without apt-get it fails, unless DANESCAN_CI_SKIP_EXTRAS=1 says to skip.
# DANESCAN_CI_KEEP=1 keeps the work directory (config, logs, datasets).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

SHARDS=4
DOMAINS=2000
JOB_TIMEOUT=300 # seconds the three arrays and the report job may take together

if ! command -v apt-get >/dev/null; then
	if [ "${DANESCAN_CI_SKIP_EXTRAS:-}" = 1 ]; then
		echo "slurm: no apt-get (not Debian?): skipping the Slurm job array check (DANESCAN_CI_SKIP_EXTRAS=1)"
		exit 0
	fi
	echo "slurm: no apt-get: the Slurm check needs Debian; set DANESCAN_CI_SKIP_EXTRAS=1 to skip it" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "slurm: needs root (slurmd runs the jobs; the lab's mail servers bind port 25)" >&2
	exit 1
fi

TMP=$(mktemp -d)
chmod 755 "$TMP" # munged wants the directories above its socket searchable
current='' failed='' pids=() JOBS=()

# fail MSG: exits; the EXIT trap stops the daemons and ends with the one
# line that says what went wrong.
fail() {
	failed="$current: $*"
	exit 1
}

# finish is the EXIT trap: cancels the jobs, stops every daemon this script
# started (by pid, in reverse order), and removes the work directory.
finish() {
	local rc=$?
	if [ "$rc" != 0 ]; then
		for log in "$TMP"/log/*.log "$TMP"/out/logs/*.out; do
			[ -f "$log" ] && { echo "--- $log (last lines)"; tail -n 8 "$log"; }
		done
		[ -n "$failed" ] || failed="step '$current' failed (exit $rc)"
		echo "slurm: $failed" >&2
	fi
	if ((${#JOBS[@]} > 0)) && [ "${SLURM_CONF:-}" = "$TMP/slurm.conf" ]; then
		timeout 10 scancel --quiet "${JOBS[@]}" 2>/dev/null || true
	fi
	local i
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill "${pids[i]}" 2>/dev/null || true
	done
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		# slurmd and slurmctld take a moment to save their state.
		timeout 20 tail --pid="${pids[i]}" -f /dev/null || kill -9 "${pids[i]}" 2>/dev/null || true
	done
	if [ "${DANESCAN_CI_KEEP:-}" = 1 ]; then
		echo "slurm: work directory $TMP (kept)"
	else
		rm -rf "$TMP"
	fi
	exit "$rc"
}
trap finish EXIT

# since START: the seconds since START (an $EPOCHREALTIME), one decimal.
since() {
	local us=$((${EPOCHREALTIME//[.,]/} - ${1//[.,]/}))
	echo "$((us / 1000000)).$((us / 100000 % 10))s"
}

# step NAME CMD...: runs CMD and prints how long it took.
step() {
	local start=$EPOCHREALTIME
	current=$1
	shift
	echo "==> $current"
	"$@"
	echo "==> $current: $(since "$start")"
}

# wait_for SECONDS WHAT CMD...: runs CMD every half second until it
# succeeds; fails naming WHAT after SECONDS.
wait_for() {
	local deadline=$((SECONDS + $1)) what=$2
	shift 2
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || fail "timed out after $1 s waiting for $what"
		sleep 0.5
	done
}

install() {
	apt-get update -q >"$TMP/apt.log" 2>&1 || { tail -20 "$TMP/apt.log"; fail "apt-get update failed"; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 \
		slurm-wlm munge jq >>"$TMP/apt.log" 2>&1 || { tail -30 "$TMP/apt.log"; fail "apt-get install slurm-wlm munge jq failed"; }
	echo "$(slurmctld -V), $(munged -V 2>&1 | head -1)"
}

# start_slurm: munged on its own socket and key, then slurmctld and slurmd
# (in the foreground, so their pids are ours) with a minimal slurm.conf;
# waits until the node is idle.
start_slurm() {
	local host cpus
	host=$(hostname -s)
	cpus=$(nproc)
	mkdir -p "$TMP/munge" "$TMP/log" "$TMP/state" "$TMP/spool"
	chmod 711 "$TMP/munge" # clients need to reach the socket, not to list
	dd if=/dev/urandom of="$TMP/munge/munge.key" bs=1024 count=1 status=none
	chmod 400 "$TMP/munge/munge.key"
	munged --foreground --force --socket="$TMP/munge/munge.sock" --key-file="$TMP/munge/munge.key" \
		--pid-file="$TMP/munge/munged.pid" --seed-file="$TMP/munge/munged.seed" \
		--log-file="$TMP/log/munged.log" >"$TMP/log/munged.stderr" 2>&1 &
	pids+=($!)
	wait_for 20 "munged" test -S "$TMP/munge/munge.sock"
	cat >"$TMP/slurm.conf" <<EOF
ClusterName=danescan-ci
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$TMP/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$TMP/state
SlurmdSpoolDir=$TMP/spool
SlurmctldPidFile=$TMP/slurmctld.pid
SlurmdPidFile=$TMP/slurmd.pid
SlurmctldLogFile=$TMP/log/slurmctld.log
SlurmdLogFile=$TMP/log/slurmd.log
PlugStackConfig=$TMP/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
DependencyParameters=kill_invalid_depend
MinJobAge=3600
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=30 State=UP
EOF
	: >"$TMP/plugstack.conf"
	export SLURM_CONF=$TMP/slurm.conf
	slurmctld -D -i -f "$SLURM_CONF" >"$TMP/log/slurmctld.stderr" 2>&1 &
	pids+=($!)
	slurmd -D -N "$host" -f "$SLURM_CONF" >"$TMP/log/slurmd.stderr" 2>&1 &
	pids+=($!)
	wait_for 60 "node $host to be idle (sinfo)" node_idle
	sinfo
}

node_idle() {
	[ "$(sinfo -h -n "$(hostname -s)" -o %T 2>/dev/null)" = idle ]
}

build() {
	go build -o "$TMP/danescan" ./cmd/danescan
}

# lab_serve: the lab world on loopback; reads the scan flags it prints
# and splits them: FLAGS for the single scan (all), DNS_FLAGS for the DNS
# step (all but the SMTP settings), PROBE_FLAGS for the probe step
# (--exclude, --allow and the SMTP settings).
lab_serve() {
	"$TMP/danescan" lab serve --domains "$DOMAINS" --dir "$TMP/world" >"$TMP/log/lab.log" 2>&1 &
	pids+=($!)
	wait_for 120 "danescan lab serve to print how to scan it" grep -q '^Ctrl-C stops the lab' "$TMP/log/lab.log"
	LIST=$(sed -n 's/^domain list *//p' "$TMP/log/lab.log")
	local cmd words i
	cmd=$(grep -A1 '^scan it with' "$TMP/log/lab.log" | tail -n 1)
	FLAGS=${cmd#*danescan scan }
	FLAGS=${FLAGS% "$LIST" --out lab-scan}
	[[ $FLAGS == *--allow* && $FLAGS == *--resolver* ]] || fail "cannot read the scan flags from lab serve: $cmd"
	# A loaded CI machine answers slowly: 2 s per DNS attempt and 10 s per
	# SMTP stage (lab serve says 500ms and 5s) so that no lookup or probe
	# times out in one run and not the other.
	FLAGS="$FLAGS --timeout 2s --smtp-timeout 10s"
	read -ra words <<<"$FLAGS"
	DNS_FLAGS='' PROBE_FLAGS=''
	for ((i = 0; i < ${#words[@]}; i += 2)); do
		case ${words[i]} in
		--exclude | --allow)
			DNS_FLAGS+=" ${words[i]} ${words[i + 1]}"
			PROBE_FLAGS+=" ${words[i]} ${words[i + 1]}"
			;;
		--smtp-* | --address-interval) PROBE_FLAGS+=" ${words[i]} ${words[i + 1]}" ;;
		--*) DNS_FLAGS+=" ${words[i]} ${words[i + 1]}" ;;
		*) fail "lab serve printed a flag without a value, or a stray word: ${words[i]} in $FLAGS" ;;
		esac
	done
	DNS_FLAGS=${DNS_FLAGS# } PROBE_FLAGS=${PROBE_FLAGS# }
	echo "scan flags:  $FLAGS"
	echo "DNS step:    $DNS_FLAGS"
	echo "probe step:  $PROBE_FLAGS"
}

# submit DIR ID FLAGS STEP...: an array of deploy/slurm/danescan-array.sbatch
# per STEP, each after the one before (afterok), then the report job, with
# the environment a user would set (DANESCAN_OUT=DIR, DANESCAN_SCAN_ID=ID,
# DANESCAN_FLAGS=FLAGS).
submit() {
	OUT=$1 ID=$2
	local flags=$3
	shift 3
	STEPS=("$@")
	mkdir -p "$OUT/logs"
	export DANESCAN="$TMP/danescan" DANESCAN_LIST="$LIST" DANESCAN_OUT="$OUT" \
		DANESCAN_SCAN_ID="$ID" DANESCAN_SHARDS=$SHARDS DANESCAN_FLAGS="$flags" \
		DANESCAN_PROBE_FLAGS="$PROBE_FLAGS"
	local a=deploy/slurm/danescan-array.sbatch dep=() step
	JOBS=()
	declare -gA JOB=()
	for step in "${STEPS[@]}"; do
		JOB[$step]=$(sbatch --parsable --array=0-$((SHARDS - 1)) "${dep[@]}" --output="$OUT/logs/$step-%A_%a.out" \
			"$a" "$step") || fail "sbatch of the $step array failed"
		JOBS+=("${JOB[$step]}")
		dep=(--dependency=afterok:"${JOB[$step]}")
	done
	JOB[report]=$(sbatch --parsable "${dep[@]}" --output="$OUT/logs/report-%j.out" \
		deploy/slurm/danescan-report.sbatch) || fail "sbatch of the report job failed"
	JOBS+=("${JOB[report]}")
	local s
	for s in "${STEPS[@]}"; do echo -n "array $s ${JOB[$s]} ($SHARDS tasks), "; done
	echo "report ${JOB[report]}, each afterok on the one before"
}

# job_states: "ID STATE" per job and array task (squeue keeps finished
# jobs for MinJobAge).
job_states() {
	squeue -h --jobs="$(
		IFS=,
		echo "${JOBS[*]}"
	)" -t all -o '%i %T'
}

# jobs_done: no job is pending, running or completing any more.
jobs_done() {
	local states
	states=$(job_states) && [ -n "$states" ] && ! grep -Eq ' (PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED)$' <<<"$states"
}

# log STEP K: the log of task K of the STEP array.
log() {
	echo "$OUT/logs/$1-${JOB[$1]}_$2.out"
}

# wait_jobs: until every job has left the queue, then every task and the
# report job must have COMPLETED (exit 0), every shard in $OUT/shards be
# complete, and the report job have found them intact and written the
# report.
wait_jobs() {
	wait_for "$JOB_TIMEOUT" "jobs ${JOBS[*]} to finish (squeue)" jobs_done
	local states k
	states=$(job_states | sort)
	echo "  $(tr '\n' ' ' <<<"$states")"
	if grep -vq ' COMPLETED$' <<<"$states"; then
		fail "a job did not complete: $(grep -v ' COMPLETED$' <<<"$states" | tr '\n' ' ')"
	fi
	[ "$(wc -l <<<"$states")" = $((${#STEPS[@]} * SHARDS + 1)) ] ||
		fail "expected ${#STEPS[@]} x $SHARDS tasks and the report job, squeue shows: $(tr '\n' ' ' <<<"$states")"
	for ((k = 0; k < SHARDS; k++)); do
		jq -e --argjson k "$k" --argjson n "$SHARDS" --arg id "$ID" \
			'.complete and .scan_id == $id and .shard.index == $k and .shard.count == $n and .step == null' \
			"$OUT/shards/shard-$k/manifest.json" >/dev/null || fail "shard $k: no complete dataset of shard $k/$SHARDS in $OUT/shards/shard-$k"
	done
	local report=$OUT/logs/report-${JOB[report]}.out
	grep -q "^danescan-report: $SHARDS shards of $ID intact and complete" "$report" || fail "the report job did not find the $SHARDS shards intact (log $report)"
	[ -s "$OUT/report/report.json" ] || fail "the report job wrote no report.json"
	echo "$SHARDS shards complete in $OUT/shards; the report job verified them and wrote the report"
}

# disjoint: the probe shards hold disjoint sets of addresses, so each
# address was connected to from one task only. (danescan sql refuses a
# step's dataset, having no verdicts: its parts are read with read_parquet,
# in the context of a merged shard.)
disjoint() {
	local q="WITH r AS (
  SELECT address, regexp_extract(filename, 'probe/(shard-[0-9]+)/', 1) AS shard
  FROM read_parquet('$TMP/out/probe/*/endpoints/*.parquet', filename = true)
), a AS (SELECT address, count(DISTINCT shard) AS n FROM r GROUP BY address)
SELECT (SELECT count(*) FROM a), (SELECT count(DISTINCT shard) FROM r), (SELECT count(*) FROM a WHERE n > 1)"
	local got addresses shards in_two
	got=$("$TMP/danescan" sql --format csv "$TMP/out/shards/shard-0" "$q" 2>/dev/null | tail -n 1)
	IFS=, read -r addresses shards in_two <<<"$got"
	[ "$shards" = "$SHARDS" ] || fail "endpoints rows in $shards probe shards, want $SHARDS ($got)"
	[ "$in_two" = 0 ] || fail "$in_two addresses are in two probe shards"
	echo "probe shards: $addresses addresses, each in one of the $SHARDS"
}

# rerun: what a user does after failed tasks, here probe shard 1 cut short
# (its manifest says complete: false) and merged shard 2 lost: the same
# four jobs again. Complete and fresh datasets must be left alone (every
# DNS shard, probe shards 0, 2, 3), probe shard 1 resumed (probe
# --resume: its rows are all there, so it keeps them and probes nothing),
# and so every merge made again, being older than probe shard 1 (merge 2
# made anew).
rerun() {
	sed -i 's/^  "complete": true/  "complete": false/' "$TMP/out/probe/shard-1/manifest.json"
	rm -rf "$TMP/out/shards/shard-2" "$TMP/out/report"
	submit "$TMP/out" ci-slurm "$DNS_FLAGS" dns probe merge
	wait_jobs
	local k
	for k in 0 1 2 3; do
		grep -q 'already complete' "$(log dns $k)" || fail "the re-run made the complete DNS shard $k again"
	done
	for k in 0 2 3; do
		grep -q 'already complete' "$(log probe $k)" || fail "the re-run made the complete probe shard $k again"
	done
	grep -q 'is incomplete: resuming it' "$(log probe 1)" ||
		fail "the re-run did not resume the incomplete probe shard 1"
	jq -e '.complete and (.resumed | length == 1)' "$TMP/out/probe/shard-1/manifest.json" >/dev/null ||
		fail "probe shard 1's manifest does not say it is complete and was resumed once"
	for k in 0 1 3; do
		grep -q 'is incomplete or older than what it is made from: making it again' "$(log merge $k)" ||
			fail "the re-run did not merge shard $k again after probe shard 1 changed"
	done
	if ! grep -q '^  dataset ' "$(log merge 2)" || grep -q 'making it again' "$(log merge 2)"; then
		fail "the re-run did not merge the lost shard 2 anew"
	fi
	echo "re-run: DNS shards and probe shards 0, 2, 3 left alone; probe shard 1 (incomplete) resumed; merges 0, 1, 3 (older than probe shard 1) made again, 2 (lost) made anew"
}

# rerun_dns: a DNS shard cut short (shard 3: its manifest says complete:
# false) and the same four jobs again: the dns task resumes it (--resume;
# its rows are all there, so nothing is looked up again), which makes
# every probe shard older than it (made again with --replace) and so every
# merge. The stages after this one check the merged shards made then.
rerun_dns() {
	sed -i 's/^  "complete": true/  "complete": false/' "$TMP/out/dns/shard-3/manifest.json"
	rm -rf "$TMP/out/report"
	submit "$TMP/out" ci-slurm "$DNS_FLAGS" dns probe merge
	wait_jobs
	local k
	for k in 0 1 2; do
		grep -q 'already complete' "$(log dns $k)" || fail "the re-run made the complete DNS shard $k again"
	done
	grep -q 'is incomplete: resuming it' "$(log dns 3)" || fail "the re-run did not resume the incomplete DNS shard 3"
	jq -e '.complete and (.resumed | length == 1)' "$TMP/out/dns/shard-3/manifest.json" >/dev/null ||
		fail "DNS shard 3's manifest does not say it is complete and was resumed once"
	for k in 0 1 2 3; do
		grep -q 'is incomplete or older than what it is made from: making it again' "$(log probe $k)" ||
			fail "the re-run did not make probe shard $k again after DNS shard 3 was resumed"
		grep -q 'is incomplete or older than what it is made from: making it again' "$(log merge $k)" ||
			fail "the re-run did not merge shard $k again"
	done
	echo "re-run: DNS shard 3 (incomplete) resumed, 0-2 left alone; every probe shard (older than DNS shard 3) and every merge made again"
}

single_scan() {
	# shellcheck disable=SC2086 # FLAGS is a list of flags
	"$TMP/danescan" scan $FLAGS --quiet --out "$TMP/single" "$LIST" >"$TMP/log/single.log" 2>&1 ||
		{ tail -5 "$TMP/log/single.log"; fail "the single-process scan failed"; }
	tail -n 3 "$TMP/log/single.log"
}

# The verdict columns compared, per table. Hosts and endpoints are
# DISTINCT: a host used by domains of several shards has a row in each;
# those rows must agree. Domains are not: a domain in two shards fails.
declare -A QUERY
QUERY[domains]="SELECT input_file, input_line, input, domain, failure, mx_kind, mx_failure, mx_dnssec, mx_dnssec_reason,
  array_to_string(mx_hosts, ' ') AS mx_hosts, mx_host_count, mx_secure, mx_hosts_with_tlsa, tlsa_all_mx,
  mta_sts_published, tlsrpt_published, dane, dane_reason, mx_hosts_passing
FROM domains ORDER BY ALL"
QUERY[mx_hosts]="SELECT DISTINCT host, failure, a_dnssec, aaaa_dnssec, array_to_string(addresses, ' ') AS addresses,
  addresses_secure, canonical, tlsa_base_domain, array_to_string(tlsa_records, ' | ') AS tlsa_records,
  tlsa_failure, tlsa_dnssec, tlsa_dnssec_reason, tlsa_state, dane_status, dane_reason, endpoints
FROM mx_hosts ORDER BY ALL"
QUERY[endpoints]="SELECT DISTINCT host, address, sigalgs, tlsa_state, failure, stage, starttls_offered, tls_version,
  cipher_suite, chain_length, dane_status, dane_reason, dane_match_record, dane_match_usage, dane_depth,
  dane_near_miss, dane_near_miss_params, pkix_valid, pkix_reason
FROM endpoints ORDER BY ALL"

# shards: the merged shard datasets, one path each.
shards() {
	local k
	for ((k = 0; k < SHARDS; k++)); do
		echo "$TMP/out/shards/shard-$k"
	done
}

# compare SINGLE DIR TABLE...: the shards in DIR against the single scan
# SINGLE, row for row: the shards read by danescan sql as one scan, and
# each one alone (the rows of a host in several shards must agree).
compare() {
	local single=$1 dir=$2 table rows shards d
	shift 2
	mapfile -t shards < <(for ((k = 0; k < SHARDS; k++)); do echo "$dir/shard-$k"; done)
	mkdir -p "$TMP/cmp"
	for table; do
		local c
		c=$TMP/cmp/$(tr / - <<<"${dir#"$TMP"/}").$table
		"$TMP/danescan" sql --format csv "$single" "${QUERY[$table]}" >"$c.single.csv"
		for d in "${shards[@]}"; do
			"$TMP/danescan" sql --format csv "$d" "${QUERY[$table]}" 2>/dev/null | tail -n +2
		done | sort -u >"$c.each.csv"
		"$TMP/danescan" sql --format csv "$dir" "${QUERY[$table]}" >"$c.shards.csv"
		rows=$(($(wc -l <"$c.single.csv") - 1))
		((rows > 0)) || fail "$table: the single scan has no rows"
		if ! diff -u "$c.single.csv" "$c.shards.csv" >"$c.diff"; then
			head -20 "$c.diff"
			fail "$table: the $SHARDS shards in $dir differ from the single scan ($(grep -c '^[-+][^-+]' "$c.diff") rows, diff above)"
		fi
		if [ "$table" != domains ]; then
			diff -u <(tail -n +2 "$c.single.csv" | sort) "$c.each.csv" >"$c.each.diff" || {
				head -20 "$c.each.diff"
				fail "$table: the rows of one host differ between the shards in $dir (diff above)"
			}
		fi
		echo "$table: $rows rows, the same in the single scan and the $SHARDS shards in $dir"
	done
}

# verify_shards DIR: danescan verify on the shards in DIR must say intact.
verify_shards() {
	"$TMP/danescan" verify "$1" >"$TMP/log/verify.log" 2>&1 ||
		{ tail -5 "$TMP/log/verify.log"; fail "danescan verify on $1 exited $? (want 0)"; }
	tail -n 2 "$TMP/log/verify.log"
}

# report: the report job's report (danescan analyze over the merged
# shards) against danescan analyze on the single scan: report.json with
# the scan's times, id, directory and shards aside, and the findings with
# the scan id aside.
report() {
	"$TMP/danescan" analyze "$TMP/single" --out "$TMP/single-report" >"$TMP/log/analyze-single.log" 2>&1 ||
		{ tail -5 "$TMP/log/analyze-single.log"; fail "danescan analyze on the single scan failed"; }
	local strip='walk(if type == "object" then del(.started, .ended, .scan_id, .dir, .shards) else . end)'
	local r
	for r in single-report out/report; do
		jq -S "$strip" "$TMP/$r/report.json" >"$TMP/cmp/report.${r%%/*}.json"
	done
	jq -e '.scan.shards == {"count": 4, "given": [0, 1, 2, 3], "missing": [], "incomplete": []} and .scan.complete and (.warnings | length) == 0' \
		"$TMP/out/report/report.json" >/dev/null || fail "the report job's report.json does not say 4 of 4 shards, complete, no warnings"
	diff -u "$TMP/cmp/report.single-report.json" "$TMP/cmp/report.out.json" >"$TMP/cmp/report.diff" ||
		{ head -30 "$TMP/cmp/report.diff"; fail "report.json over the merged shards differs from the single scan's (diff above)"; }
	local findings="SELECT * EXCLUDE (scan_id) FROM read_parquet('%s/findings/*.parquet') ORDER BY ALL"
	# shellcheck disable=SC2059 # the query is the format
	"$TMP/danescan" sql --format csv "$TMP/single" "$(printf "$findings" "$TMP/single-report")" >"$TMP/cmp/findings.single.csv"
	# shellcheck disable=SC2059
	"$TMP/danescan" sql --format csv "$TMP/single" "$(printf "$findings" "$TMP/out/report")" >"$TMP/cmp/findings.shards.csv"
	diff -q "$TMP/cmp/findings.single.csv" "$TMP/cmp/findings.shards.csv" >/dev/null ||
		fail "the findings over the merged shards differ from the single scan's ($TMP/cmp/findings.*.csv)"
	echo "report.json: the same figures as analyze on the single scan; $(($(wc -l <"$TMP/cmp/findings.single.csv") - 1)) findings, the same"
}

# rerun_dns_only: the DNS-only array after shard 1 was cut short (its
# manifest says complete: false) and shard 2 lost: shard 1 is resumed
# (--resume), shard 2 scanned anew, 0 and 3 left alone.
rerun_dns_only() {
	sed -i 's/^  "complete": true/  "complete": false/' "$TMP/dnsonly/shards/shard-1/manifest.json"
	rm -rf "$TMP/dnsonly/shards/shard-2" "$TMP/dnsonly/report"
	submit "$TMP/dnsonly" ci-dns-only "$DNS_FLAGS --no-smtp" scan
	wait_jobs
	local k
	for k in 0 3; do
		grep -q 'already complete' "$(log scan $k)" || fail "the re-run scanned the complete shard $k again"
	done
	grep -q 'is incomplete: resuming it' "$(log scan 1)" || fail "the re-run did not resume the incomplete shard 1"
	jq -e '.resumed | length == 1' "$TMP/dnsonly/shards/shard-1/manifest.json" >/dev/null ||
		fail "shard 1's manifest does not say it was resumed once"
	if ! grep -q '^  dataset ' "$(log scan 2)" || grep -q 'resuming' "$(log scan 2)"; then
		fail "the re-run did not scan the lost shard 2 anew"
	fi
	echo "re-run: shards 0 and 3 left alone, 1 (incomplete) resumed, 2 (lost) scanned anew"
}

single_dns_only() {
	# shellcheck disable=SC2086 # DNS_FLAGS is a list of flags
	"$TMP/danescan" scan $DNS_FLAGS --no-smtp --quiet --out "$TMP/single-dns-only" "$LIST" >"$TMP/log/single-dns-only.log" 2>&1 ||
		{ tail -5 "$TMP/log/single-dns-only.log"; fail "the single-process DNS-only scan failed"; }
	tail -n 3 "$TMP/log/single-dns-only.log"
}

# readme_sql MARKER: the first sql code block after the line MARKER in README.md.
readme_sql() {
	awk -v m="$1" '$0 == m { on = 1; next } on && /^```sql$/ { inb = 1; next } inb && /^```$/ { exit } inb' README.md
}

# hive: deploy/hive-layout.sh over the shards, and the README's funnel
# (Trino form; DuckDB runs it too) over that layout and in danescan sql
# over the shards, against the project's funnel (analysis/queries/
# funnel.sql over domains_dane.sql) on the single scan.
hive() {
	local shards
	mapfile -t shards < <(shards)
	deploy/hive-layout.sh "$TMP/hive" "${shards[@]}"
	local funnel
	funnel=$(readme_sql '<!-- funnel-trino -->' | sed 's/;$//')
	[ -n "$funnel" ] || fail "no sql block after <!-- funnel-trino --> in README.md"
	local hive_views="WITH domains AS (SELECT * FROM read_parquet('$TMP/hive/domains/*/*/*.parquet', hive_partitioning = true)),
  mx_hosts AS (SELECT * FROM read_parquet('$TMP/hive/mx_hosts/*/*/*.parquet', hive_partitioning = true))"
	# The views above, not the single scan's, are what the funnel reads.
	local parts
	parts=$("$TMP/danescan" sql --format csv "$TMP/single" "$hive_views SELECT count(DISTINCT scan) || ' ' || count(DISTINCT shard) FROM domains" | tail -n 1)
	[ "$parts" = "1 $SHARDS" ] || fail "the Hive layout reads as $parts scans and shards, want 1 $SHARDS"
	"$TMP/danescan" sql --format csv "$TMP/single" "$hive_views SELECT * FROM ($funnel
) f" | cut -d, -f2- >"$TMP/cmp/funnel.hive.csv"
	"$TMP/danescan" sql --format csv "$TMP/single" "$funnel" | cut -d, -f2- >"$TMP/cmp/funnel.readme-single.csv"
	"$TMP/danescan" sql --format csv "${shards[@]}" "$funnel" | cut -d, -f2- >"$TMP/cmp/funnel.readme-shards.csv"
	local project
	project="WITH domains_dane AS (
$(grep -v '^--' analysis/queries/domains_dane.sql)
) $(grep -v '^--' analysis/queries/funnel.sql)"
	"$TMP/danescan" sql --format csv "$TMP/single" "$project" >"$TMP/cmp/funnel.project.csv"
	diff -u "$TMP/cmp/funnel.project.csv" "$TMP/cmp/funnel.readme-single.csv" ||
		fail "the README's funnel on the single scan differs from analysis/queries/funnel.sql"
	diff -u "$TMP/cmp/funnel.project.csv" "$TMP/cmp/funnel.hive.csv" ||
		fail "the README's funnel over the Hive layout of the shards differs from funnel.sql on the single scan"
	diff -u "$TMP/cmp/funnel.project.csv" "$TMP/cmp/funnel.readme-shards.csv" ||
		fail "the README's funnel in danescan sql over the shards differs from funnel.sql on the single scan"
	cat "$TMP/cmp/funnel.hive.csv"
	# The Spark form is the Trino form with LATERAL VIEW explode for UNNEST.
	diff <(readme_sql '<!-- funnel-spark -->' | sed 's/;$//; s/FROM domains LATERAL VIEW explode(mx_hosts) m AS host$/FROM domains CROSS JOIN UNNEST(mx_hosts) AS m(host)/') \
		<(echo "$funnel") || fail "the README's Spark funnel is not its Trino funnel with LATERAL VIEW explode for CROSS JOIN UNNEST"
	echo "funnel over the Hive layout of the $SHARDS shards: the figures of funnel.sql on the single scan"
}

start=$EPOCHREALTIME
step "apt-get install slurm-wlm munge" install
step "start munged, slurmctld, slurmd" start_slurm
step "build danescan" build
step "danescan lab serve ($DOMAINS domains)" lab_serve
step "sbatch the dns, probe and merge arrays and the report job" submit "$TMP/out" ci-slurm "$DNS_FLAGS" dns probe merge
step "wait for the jobs" wait_jobs
step "each address probed by one probe shard" disjoint
step "re-run after a cut-short probe shard and a lost merged shard" rerun
step "re-run after a cut-short DNS shard" rerun_dns
step "single-process scan of the same world" single_scan
step "compare the merged shards with the single scan" compare "$TMP/single" "$TMP/out/shards" domains mx_hosts endpoints
step "danescan verify on the merged shards" verify_shards "$TMP/out/shards"
step "the report job's report against analyze on the single scan" report
step "Hive layout and the README's funnel" hive
step "DNS-only: sbatch the scan array and the report job" submit "$TMP/dnsonly" ci-dns-only "$DNS_FLAGS --no-smtp" scan
step "DNS-only: wait for the jobs" wait_jobs
step "DNS-only: re-run after a cut-short and a lost shard" rerun_dns_only
step "DNS-only: single-process scan" single_dns_only
step "DNS-only: compare the shards with the single scan" compare "$TMP/single-dns-only" "$TMP/dnsonly/shards" domains mx_hosts
step "DNS-only: danescan verify on the shards" verify_shards "$TMP/dnsonly/shards"
current=
echo "==> slurm: $(since "$start")"
