#!/usr/bin/env bash
# realnet.sh up|down|status: a private DNS tree with its own signed root on
# loopback, served by real third-party software (NSD, Unbound), for checking
# danescan's verdicts against them (scanner/realnet_test.go, issue 6).
#
#   127.53.0.1    NSD, the root zone "."            (a.ns.test.)
#   127.53.0.2    NSD, the TLD "test."               (b.ns.test.)
#   127.53.0.3    NSD, the second-level case zones  (c.ns.test.)
#   127.53.0.100  Unbound, validating recursive resolver; the root's DNSKEY
#                 is its only trust anchor
#
# Everything lives in $REALNET_DIR (default /tmp/danescan-realnet):
# root.key is the trust anchor for `danescan scan --trust-anchor`, cases.txt
# the case table with the expected verdicts. `up` stops what an earlier `up`
# left running (PID files, also after a crash) and builds everything afresh;
# `down` stops exactly the processes whose PID files it finds, after checking
# that each PID is still the process this script started. Needs root (port 53,
# apt-get). Never touches /etc/resolv.conf.
set -euo pipefail

DIR=${REALNET_DIR:-/tmp/danescan-realnet}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_IP=127.53.0.1
TLD_IP=127.53.0.2
SLD_IP=127.53.0.3
RESOLVER_IP=127.53.0.100
PACKAGES=(unbound nsd ldnsutils postfix bind9-dnsutils openssl)
SERVICES=(unbound nsd postfix)

log() { printf "realnet: %s %s\n" "$(date +%T.%3N)" "$*" >&2; }
die() { log "$*"; exit 1; }

# install puts the packages on the machine if any is missing, without letting
# Debian start (or keep running) their system services.
install() {
	local missing=() p
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if ((${#missing[@]})); then
		log "installing ${missing[*]}"
		echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
		local own_policy=0
		if [[ ! -e /usr/sbin/policy-rc.d ]]; then
			printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
			chmod 755 /usr/sbin/policy-rc.d
			own_policy=1
		fi
		local rc=0
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"${TMPDIR:-/tmp}/realnet-apt.log" 2>&1 || rc=$?
		((own_policy)) && rm -f /usr/sbin/policy-rc.d
		((rc == 0)) || die "apt-get failed (rc $rc), see ${TMPDIR:-/tmp}/realnet-apt.log"
	fi
	# The system services stay stopped and disabled: only our instances run.
	# (Called after stop: an init script stops by executable name, which
	# would take our instances with it.)
	if [[ -d /run/systemd/system ]]; then
		systemctl disable --now "${SERVICES[@]}" >/dev/null 2>&1 || true
	else
		local s
		for s in "${SERVICES[@]}"; do
			[[ -x /etc/init.d/$s ]] && { /etc/init.d/$s stop >/dev/null 2>&1 || true; }
			command -v update-rc.d >/dev/null && { update-rc.d "$s" disable >/dev/null 2>&1 || true; }
		done
	fi
}

# ours PIDFILE prints the PID in PIDFILE when that process is alive and its
# command line names our state directory (so a recycled PID is left alone).
ours() {
	local pid
	[[ -f $1 ]] || return 1
	pid=$(<"$1")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[[ -r /proc/$pid/cmdline ]] || return 1
	local cmd
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ $cmd == *"$DIR/"* ]] || return 1
	echo "$pid"
}

# stop sends TERM to every process of ours with a PID file, waits up to 5s
# for all of them, then KILLs what is left; stale PID files are removed.
stop() {
	local f pid i pids=()
	shopt -s nullglob
	for f in "$DIR"/run/*.pid; do
		if pid=$(ours "$f"); then
			log "stopping $(basename "$f" .pid) (pid $pid)"
			kill "$pid" 2>/dev/null || true
			pids+=("$pid")
		fi
		rm -f "$f"
	done
	shopt -u nullglob
	for pid in "${pids[@]}"; do
		for ((i = 0; i < 50; i++)); do
			[[ -e /proc/$pid ]] || break
			sleep 0.1
		done
		if [[ -e /proc/$pid ]]; then
			log "pid $pid ignored TERM, killing"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
}

# start NAME CMD... runs CMD in the foreground of a background job, its
# output in log/NAME.log, its PID in run/NAME.pid.
start() {
	local name=$1
	shift
	setsid "$@" >"$DIR/log/$name.log" 2>&1 </dev/null &
	echo $! >"$DIR/run/$name.pid"
}

# wait_dns IP NAME TYPE waits until IP answers a query (any rcode but a
# timeout) for up to 10s.
wait_dns() {
	local i
	for ((i = 0; i < 100; i++)); do
		dig +time=1 +tries=1 +norec @"$1" "$2" "$3" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "no answer from $1 for $2 $3; see $DIR/log/"
}

# keygen ZONE NAME makes a CSK (flags 257, ECDSA P-256) for ZONE and links it
# as keys/NAME.{key,private}; prints nothing.
keygen() {
	local base
	base=$(cd "$DIR/keys" && ldns-keygen -a ECDSAP256SHA256 -k "$1")
	rm -f "$DIR/keys/$base.ds"
	mv "$DIR/keys/$base.key" "$DIR/keys/$2.key"
	mv "$DIR/keys/$base.private" "$DIR/keys/$2.private"
}

ds() { ldns-key2ds -n -2 "$DIR/keys/$1.key"; }

# sign NAME ORIGIN KEY [ldns-signzone options] signs zones/NAME.zone into
# zones/NAME.signed.
sign() {
	local name=$1 origin=$2 key=$3
	shift 3
	ldns-signzone "$@" -o "$origin" -f "$DIR/zones/$name.signed" "$DIR/zones/$name.zone" "$DIR/keys/$key"
}

soa() { printf '$TTL 300\n@ SOA %s hostmaster.test. 1 3600 600 86400 60\n' "$1"; }

# tlsa311 CERT prints the rdata of a "3 1 1" record for the certificate.
tlsa311() {
	echo "3 1 1 $(openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)"
}

# certs makes a private CA and one ECDSA leaf per MX host (only the DNS tier
# uses them so far, for the TLSA records).
certs() {
	local c=$DIR/certs h
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
		-subj "/CN=danescan realnet CA" -keyout "$c/ca.key" -out "$c/ca.pem" 2>/dev/null
	for h in mx.secure.test mx.insecure.test mx.expired.test mx.wrongds.test mx.notlsa.test mx.unsigned.test; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$h" \
			-keyout "$c/$h.key" -out "$c/$h.csr" 2>/dev/null
		openssl x509 -req -in "$c/$h.csr" -CA "$c/ca.pem" -CAkey "$c/ca.key" -CAcreateserial \
			-days 365 -extfile <(printf 'subjectAltName=DNS:%s\n' "$h") -out "$c/$h.pem" 2>/dev/null
		cat "$c/$h.pem" "$c/ca.pem" >"$c/$h.chain.pem"
	done
}

# zones writes and signs the whole tree, leaves first (a parent needs its
# children's DS records).
zones() {
	local z=$DIR/zones c=$DIR/certs

	# Second-level zones, all on c.ns.test. (127.53.0.3).
	local child
	for child in secure insecure expired wrongds nullmx notlsa unsignedmx unsigned; do
		{
			soa c.ns.test.
			echo "@ NS c.ns.test."
		} >"$z/$child.test.zone"
	done
	cat >>"$z/secure.test.zone" <<-EOF
		@ MX 10 mx
		mx A 127.53.1.1
		_25._tcp.mx TLSA $(tlsa311 "$c/mx.secure.test.pem")
	EOF
	cat >>"$z/insecure.test.zone" <<-EOF
		@ MX 10 mx
		mx A 127.53.1.2
		_25._tcp.mx TLSA $(tlsa311 "$c/mx.insecure.test.pem")
	EOF
	cat >>"$z/expired.test.zone" <<-EOF
		@ MX 10 mx
		mx A 127.53.1.3
		_25._tcp.mx TLSA $(tlsa311 "$c/mx.expired.test.pem")
	EOF
	cat >>"$z/wrongds.test.zone" <<-EOF
		@ MX 10 mx
		mx A 127.53.1.4
		_25._tcp.mx TLSA $(tlsa311 "$c/mx.wrongds.test.pem")
	EOF
	cat >>"$z/nullmx.test.zone" <<-EOF
		@ MX 0 .
	EOF
	cat >>"$z/notlsa.test.zone" <<-EOF
		@ MX 10 mx
		mx A 127.53.1.5
	EOF
	cat >>"$z/unsignedmx.test.zone" <<-EOF
		@ MX 10 mx.unsigned.test.
	EOF
	cat >>"$z/unsigned.test.zone" <<-EOF
		mx A 127.53.1.6
		_25._tcp.mx TLSA $(tlsa311 "$c/mx.unsigned.test.pem")
	EOF

	local signed=(secure expired wrongds nullmx notlsa unsignedmx)
	for child in "${signed[@]}"; do keygen "$child.test." "$child.test"; done
	keygen wrongds.test. wrongds.test.other # its DS goes into test. instead
	for child in secure nullmx notlsa unsignedmx wrongds; do
		sign "$child.test" "$child.test." "$child.test"
	done
	sign expired.test expired.test. expired.test -i 20200101 -e 20200201
	# The unsigned children are served as written.
	cp "$z/insecure.test.zone" "$z/insecure.test.signed"
	cp "$z/unsigned.test.zone" "$z/unsigned.test.signed"

	# The TLD test. on b.ns.test. (127.53.0.2).
	keygen test. test
	{
		soa b.ns.test.
		echo "@ NS b.ns.test."
		echo "a.ns A $ROOT_IP"
		echo "b.ns A $TLD_IP"
		echo "c.ns A $SLD_IP"
		for child in secure insecure expired wrongds nullmx notlsa unsignedmx unsigned; do
			echo "$child NS c.ns.test."
		done
		for child in secure expired nullmx notlsa unsignedmx; do ds "$child.test"; done
		ds wrongds.test.other
	} >"$z/test.zone"
	sign test test. test

	# The root "." on a.ns.test. (127.53.0.1).
	keygen . root
	{
		soa a.ns.test.
		echo "@ NS a.ns.test."
		echo "test. NS b.ns.test."
		echo "a.ns.test. A $ROOT_IP"
		echo "b.ns.test. A $TLD_IP"
		ds test
	} >"$z/root.zone"
	sign root . root

	# The trust anchor: the root's DNSKEY, for Unbound and danescan.
	cp "$DIR/keys/root.key" "$DIR/root.key"
	printf '.\tNS\ta.ns.test.\na.ns.test.\tA\t%s\n' "$ROOT_IP" >"$DIR/root.hints"
}

# nsd NAME IP ZONE... writes conf/nsd-NAME.conf and starts NSD on IP with
# the zones (origin:file pairs).
nsd_start() {
	local name=$1 ip=$2 conf=$DIR/conf/nsd-$1.conf zs
	shift 2
	mkdir -p "$DIR/nsd-$name"
	cat >"$conf" <<-EOF
		server:
		  ip-address: $ip
		  port: 53
		  do-ip6: no
		  username: ""
		  chroot: ""
		  database: ""
		  server-count: 1
		  zonesdir: "$DIR/zones"
		  pidfile: "$DIR/nsd-$name/nsd.pid"
		  xfrdfile: "$DIR/nsd-$name/xfrd.state"
		  xfrdir: "$DIR/nsd-$name"
		  zonelistfile: "$DIR/nsd-$name/zone.list"
		  verbosity: 1
		  hide-version: yes
		remote-control:
		  control-enable: no
	EOF
	for zs in "$@"; do
		printf 'zone:\n  name: "%s"\n  zonefile: "%s"\n' "${zs%%:*}" "$DIR/zones/${zs#*:}" >>"$conf"
	done
	nsd-checkconf "$conf"
	start "nsd-$name" nsd -d -c "$conf"
}

unbound_start() {
	local conf=$DIR/conf/unbound.conf
	mkdir -p "$DIR/unbound"
	cat >"$conf" <<-EOF
		server:
		  interface: $RESOLVER_IP
		  port: 53
		  do-ip6: no
		  access-control: 127.0.0.0/8 allow
		  username: ""
		  chroot: ""
		  directory: "$DIR/unbound"
		  pidfile: "$DIR/unbound/unbound.pid"
		  use-syslog: no
		  logfile: ""
		  verbosity: 1
		  val-log-level: 2
		  num-threads: 1
		  do-not-query-localhost: no
		  root-hints: "$DIR/root.hints"
		  trust-anchor-file: "$DIR/root.key"
		  local-zone: "test." nodefault
		  module-config: "validator iterator"
		  cache-max-negative-ttl: 5
		remote-control:
		  control-enable: no
	EOF
	unbound-checkconf "$conf" >/dev/null
	start unbound unbound -d -c "$conf"
}

up() {
	stop
	install
	mkdir -p "$DIR"
	rm -rf "$DIR"/{conf,keys,zones,certs,log,run,unbound} "$DIR"/nsd-*
	mkdir -p "$DIR"/{conf,keys,zones,certs,log,run}
	cp "$HERE/cases.txt" "$DIR/cases.txt"
	log "certificates and keys"
	certs
	zones
	local child sld=()
	for child in secure insecure expired wrongds nullmx notlsa unsignedmx unsigned; do
		sld+=("$child.test.:$child.test.signed")
	done
	log "starting NSD"
	nsd_start root "$ROOT_IP" .:root.signed
	nsd_start tld "$TLD_IP" test.:test.signed
	nsd_start sld "$SLD_IP" "${sld[@]}"
	wait_dns "$ROOT_IP" . SOA
	wait_dns "$TLD_IP" test. SOA
	wait_dns "$SLD_IP" secure.test. SOA
	log "starting Unbound"
	unbound_start
	wait_dns "$RESOLVER_IP" . SOA
	log "up: resolver $RESOLVER_IP:53, trust anchor $DIR/root.key, cases $DIR/cases.txt"
}

status() {
	local f pid rc=0
	shopt -s nullglob
	for f in "$DIR"/run/*.pid; do
		if pid=$(ours "$f"); then
			echo "$(basename "$f" .pid) running (pid $pid)"
		else
			echo "$(basename "$f" .pid) not running (stale $f)"
			rc=1
		fi
	done
	shopt -u nullglob
	[[ -f $DIR/root.key ]] && echo "trust anchor $DIR/root.key; resolver $RESOLVER_IP:53"
	return $rc
}

case ${1:-} in
up) up ;;
down) stop ;;
status) status ;;
*) die "usage: $0 up|down|status (state in \$REALNET_DIR, default /tmp/danescan-realnet)" ;;
esac
