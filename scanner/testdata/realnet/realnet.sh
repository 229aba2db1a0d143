#!/usr/bin/env bash
# realnet.sh up|down|status|finger DOMAIN...: a private DNS tree with its own
# signed root and mail servers on loopback, served by real third-party
# software (NSD, Unbound, Postfix), for checking danescan's verdicts against
# Unbound's validation and posttls-finger (scanner/realnet_test.go, issue 6).
#
#   127.53.0.1      NSD, the root zone "."            (a.ns.test.)
#   127.53.0.2      NSD, the TLD "test."               (b.ns.test.)
#   127.53.0.3      NSD, the second-level case zones  (c.ns.test.)
#   127.53.0.100    Unbound, validating recursive resolver; the root's DNSKEY
#                   is its only trust anchor
#   127.53.1.1-15   Postfix smtpd on port 25, one per MX host (LISTENERS)
#
# `finger DOMAIN...` runs posttls-finger -c -l dane against that resolver.
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
	if [[ -d /run/systemd/system ]]; then
		systemctl disable --now "${SERVICES[@]}" >/dev/null 2>&1 || true
	else
		local s
		for s in "${SERVICES[@]}"; do
			stop_system "$s"
			command -v update-rc.d >/dev/null && { update-rc.d "$s" disable >/dev/null 2>&1 || true; }
		done
	fi
}

# stop_system NAME stops the system's own instance of a service, found by
# the PID file its package writes, and nothing else. The init scripts are
# not used: Debian's /etc/init.d/nsd stops every process named nsd (it
# calls start-stop-daemon --exec), which would take our instances and any
# other NSD on the machine (a benchmark world's) with it.
stop_system() {
	local pf pid exe i
	case $1 in
	nsd) pf=$(nsd-checkconf -o pidfile /etc/nsd/nsd.conf 2>/dev/null) || pf=/run/nsd/nsd.pid ;;
	unbound) pf=/run/unbound.pid ;;
	postfix) pf=/var/spool/postfix/pid/master.pid ;;
	*) return 0 ;;
	esac
	[[ -f $pf ]] || return 0
	pid=$(tr -d ' \n' <"$pf")
	[[ $pid =~ ^[0-9]+$ && -e /proc/$pid ]] || return 0
	exe=$(basename "$(readlink "/proc/$pid/exe" 2>/dev/null)")
	case $1:$exe in nsd:nsd | unbound:unbound | postfix:master) ;; *) return 0 ;; esac
	log "stopping the system's $1 (pid $pid, $pf)"
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		[[ -e /proc/$pid ]] || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
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
	# Postfix's master names its directories in its environment instead.
	[[ $cmd == *"$DIR/"* ]] || { cmd=$(tr '\0' ' ' <"/proc/$pid/environ" 2>/dev/null) && [[ $cmd == *"$DIR/"* ]]; } || return 1
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

# tlsa USAGE SELECTOR CERT [MATCHING] prints the rdata of a TLSA record for
# the certificate (selector 0) or its public key (1): with matching type 1
# (SHA-256, the default) or 0 (the full DER, in hex on one line).
tlsa() {
	local m=${4:-1} data
	data=$(
		if (($2 == 1)); then
			openssl x509 -in "$3" -noout -pubkey | openssl pkey -pubin -outform DER
		else
			openssl x509 -in "$3" -outform DER
		fi | if ((m == 0)); then od -An -v -tx1 | tr -d ' \n'; else sha256sum | cut -d' ' -f1; fi
	)
	echo "$1 $2 $m $data"
}

# leaf NAME DNSNAME [STARTDATE ENDDATE] issues certs/NAME.pem (ECDSA P-256,
# subjectAltName DNSNAME, or $SAN when set) from the private CA, with its key
# in NAME.key and NAME.chain.pem (leaf then CA) for the server.
leaf() {
	local c=$DIR/certs dates=(-days 365) san=${SAN:-DNS:$2}
	(($# == 4)) && dates=(-startdate "$3" -enddate "$4")
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
		-keyout "$c/$1.key" -out "$c/$1.csr" 2>/dev/null
	openssl ca -batch -notext -config "$c/ca.cnf" -cert "$c/ca.pem" -keyfile "$c/ca.key" "${dates[@]}" \
		-in "$c/$1.csr" -out "$c/$1.pem" -extfile <(printf 'subjectAltName=%s\n' "$san") 2>/dev/null
	cat "$c/$1.pem" "$c/ca.pem" >"$c/$1.chain.pem"
}

# bigleaf NAME DNSNAME COUNT is leaf with COUNT more subjectAltNames of 62
# characters below DNSNAME: 60 make a certificate of about 4.2 KB, whose
# 3 0 0 TLSA record is over 8 KiB in hex and whose answer needs TCP.
bigleaf() {
	local i san="DNS:$2" pad
	pad=$(printf '%040d' 0)
	for ((i = 0; i < $3; i++)); do
		san+=$(printf ',DNS:n%03d-%s.%s' "$i" "$pad" "$2")
	done
	SAN=$san leaf "$1" "$2"
}

# certs makes the private CA and the servers' certificates.
certs() {
	local c=$DIR/certs h
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
		-subj "/CN=danescan realnet CA" -keyout "$c/ca.key" -out "$c/ca.pem" 2>/dev/null
	touch "$c/index.txt"
	echo 01 >"$c/serial"
	cat >"$c/ca.cnf" <<-EOF
		[ca]
		default_ca = realnet
		[realnet]
		database = $c/index.txt
		new_certs_dir = $c
		serial = $c/serial
		default_md = sha256
		policy = anything
		unique_subject = no
		[anything]
		commonName = supplied
	EOF
	for h in secure insecure expired wrongds notlsa unsigned ta tanochain stale nostarttls pkix tlsaexpired; do
		leaf "$h" "mx.$h.test"
	done
	bigleaf large300 mx.large300.test 60
	leaf expiredleaf mx.expiredleaf.test 20200101000000Z 20200201000000Z
	leaf tamismatch mx.elsewhere.test
	leaf other mx.stale.test # the key the stale record was made for
}

# The second-level case zones: name, then how it is signed (signed,
# unsigned, expired, wrongds, tlsaexpired). Every name here is delegated
# from test. and served by c.ns.test.
SLDS=(
	secure:signed insecure:unsigned expired:expired wrongds:wrongds nullmx:signed
	notlsa:signed unsignedmx:signed unsigned:unsigned ta:signed tanochain:signed
	stale:signed nostarttls:signed expiredleaf:signed tamismatch:signed pkix:signed
	tlsaexpired:tlsaexpired large300:signed
)

# The Postfix listeners: address, then the certificate (certs/NAME) and what
# it sends: chain (leaf and CA), leaf (leaf only) or none (no STARTTLS).
LISTENERS=(
	127.53.1.1:secure:chain 127.53.1.2:insecure:chain 127.53.1.3:expired:chain
	127.53.1.4:wrongds:chain 127.53.1.5:notlsa:chain 127.53.1.6:unsigned:chain
	127.53.1.7:ta:chain 127.53.1.8:tanochain:leaf 127.53.1.9:stale:chain
	127.53.1.10:nostarttls:none 127.53.1.11:expiredleaf:chain
	127.53.1.12:tamismatch:chain 127.53.1.13:pkix:chain
	127.53.1.14:tlsaexpired:chain 127.53.1.15:large300:chain
)

# host NAME IP prints the zone lines of an MX host mx.NAME.test.
mxhost() { printf '@ MX 10 mx\nmx A %s\n' "$2"; }
# danehost CASE ADDRESS USAGE SELECTOR PEM [MATCHING]: mxhost plus its TLSA
# record (SHA-256 of the certificate or key in PEM, or all of it).
danehost() {
	mxhost "$1" "$2"
	echo "_25._tcp.mx TLSA $(tlsa "$3" "$4" "$5" "${6:-1}")"
}

# expire_tlsa_sigs SIGNED EXPIRED replaces the RRSIG of the one TLSA RRset
# in the signed zone file SIGNED with its RRSIG in EXPIRED, a signing of the
# same zone with the same key and an expired validity window.
expire_tlsa_sigs() {
	local sig='$4 == "RRSIG" && $5 == "TLSA"'
	[[ $(awk "$sig" "$1" | wc -l) == 1 && $(awk "$sig" "$2" | wc -l) == 1 ]] ||
		die "expire_tlsa_sigs: not one TLSA RRSIG in $1 and $2"
	{ awk "!($sig)" "$1" && awk "$sig" "$2"; } >"$1.new"
	mv "$1.new" "$1"
}

# zones writes and signs the whole tree, leaves first (a parent needs its
# children's DS records).
zones() {
	local z=$DIR/zones c=$DIR/certs sld name how

	for sld in "${SLDS[@]}"; do
		{
			soa c.ns.test.
			echo "@ NS c.ns.test."
		} >"$z/${sld%%:*}.test.zone"
	done
	danehost secure 127.53.1.1 3 1 "$c/secure.pem" >>"$z/secure.test.zone"
	danehost insecure 127.53.1.2 3 1 "$c/insecure.pem" >>"$z/insecure.test.zone"
	danehost expired 127.53.1.3 3 1 "$c/expired.pem" >>"$z/expired.test.zone"
	danehost wrongds 127.53.1.4 3 1 "$c/wrongds.pem" >>"$z/wrongds.test.zone"
	echo "@ MX 0 ." >>"$z/nullmx.test.zone"
	mxhost notlsa 127.53.1.5 >>"$z/notlsa.test.zone"
	echo "@ MX 10 mx.unsigned.test." >>"$z/unsignedmx.test.zone"
	{
		echo "mx A 127.53.1.6"
		echo "_25._tcp.mx TLSA $(tlsa 3 1 "$c/unsigned.pem")"
	} >>"$z/unsigned.test.zone"
	danehost ta 127.53.1.7 2 0 "$c/ca.pem" >>"$z/ta.test.zone"
	danehost tanochain 127.53.1.8 2 0 "$c/ca.pem" >>"$z/tanochain.test.zone"
	danehost stale 127.53.1.9 3 1 "$c/other.pem" >>"$z/stale.test.zone"
	danehost nostarttls 127.53.1.10 3 1 "$c/nostarttls.pem" >>"$z/nostarttls.test.zone"
	danehost expiredleaf 127.53.1.11 3 1 "$c/expiredleaf.pem" >>"$z/expiredleaf.test.zone"
	danehost tamismatch 127.53.1.12 2 0 "$c/ca.pem" >>"$z/tamismatch.test.zone"
	danehost pkix 127.53.1.13 1 1 "$c/pkix.pem" >>"$z/pkix.test.zone"
	danehost tlsaexpired 127.53.1.14 3 1 "$c/tlsaexpired.pem" >>"$z/tlsaexpired.test.zone"
	danehost large300 127.53.1.15 3 0 "$c/large300.pem" 0 >>"$z/large300.test.zone"

	local ds_lines=()
	for sld in "${SLDS[@]}"; do
		name=${sld%%:*} how=${sld#*:}
		case $how in
		unsigned)
			cp "$z/$name.test.zone" "$z/$name.test.signed"
			;;
		signed)
			keygen "$name.test." "$name.test"
			sign "$name.test" "$name.test." "$name.test"
			ds_lines+=("$(ds "$name.test")")
			;;
		expired)
			keygen "$name.test." "$name.test"
			sign "$name.test" "$name.test." "$name.test" -i 20200101 -e 20200201
			ds_lines+=("$(ds "$name.test")")
			;;
		wrongds) # signed with one key; the DS in test. is of another
			keygen "$name.test." "$name.test"
			keygen "$name.test." "$name.test.other"
			sign "$name.test" "$name.test." "$name.test"
			ds_lines+=("$(ds "$name.test.other")")
			;;
		tlsaexpired) # signed, then the TLSA RRset's RRSIG swapped for one
			# from a signing that expired in 2020; MX, A, NSEC stay valid
			keygen "$name.test." "$name.test"
			sign "$name.test" "$name.test." "$name.test" -i 20200101 -e 20200201
			mv "$z/$name.test.signed" "$z/$name.test.expired"
			sign "$name.test" "$name.test." "$name.test"
			expire_tlsa_sigs "$z/$name.test.signed" "$z/$name.test.expired"
			ds_lines+=("$(ds "$name.test")")
			;;
		esac
	done

	# The TLD test. on b.ns.test. (127.53.0.2).
	keygen test. test
	{
		soa b.ns.test.
		echo "@ NS b.ns.test."
		echo "a.ns A $ROOT_IP"
		echo "b.ns A $TLD_IP"
		echo "c.ns A $SLD_IP"
		for sld in "${SLDS[@]}"; do echo "${sld%%:*} NS c.ns.test."; done
		printf '%s\n' "${ds_lines[@]}"
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

# postfix_start writes a Postfix instance of our own (postfix/conf, its
# queue in postfix/spool) with one smtpd per LISTENERS entry on its own
# IP:25, starts it and records its master's PID. It also writes what
# posttls-finger needs: ptf/main.cf and resolv.conf naming Unbound.
postfix_start() {
	local p=$DIR/postfix l ip name send opts
	mkdir -p "$p/conf" "$p/spool" "$p/data" "$DIR/ptf"
	chown postfix "$p/data"
	cat >"$p/conf/main.cf" <<-EOF
		compatibility_level = 3.6
		queue_directory = $p/spool
		data_directory = $p/data
		mail_owner = postfix
		setgid_group = postdrop
		myhostname = realnet.test
		mydomain = realnet.test
		mydestination =
		inet_interfaces = all
		inet_protocols = ipv4
		maillog_file = $DIR/log/postfix.log
		maillog_file_prefixes = $DIR
		smtpd_tls_security_level = may
		smtpd_tls_loglevel = 1
	EOF
	{
		for l in "${LISTENERS[@]}"; do
			IFS=: read -r ip name send <<<"$l"
			case $send in
			chain) opts="-o smtpd_tls_chain_files=$DIR/certs/$name.key,$DIR/certs/$name.chain.pem" ;;
			leaf) opts="-o smtpd_tls_chain_files=$DIR/certs/$name.key,$DIR/certs/$name.pem" ;;
			none) opts="-o smtpd_tls_security_level=none" ;;
			esac
			echo "$ip:25 inet n - n - - smtpd $opts"
		done
		cat <<-EOF
			postlog unix-dgram n - n - 1 postlogd
			qmgr unix n - n 300 1 qmgr
			tlsmgr unix - - n 1000? 1 tlsmgr
			anvil unix - - n - 1 anvil
			bounce unix - - n - 0 bounce
			defer unix - - n - 0 bounce
			trace unix - - n - 0 bounce
			verify unix - - n - 1 verify
			proxymap unix - - n - - proxymap
			rewrite unix - - n - - trivial-rewrite
			cleanup unix n - n - 0 cleanup
		EOF
	} >"$p/conf/master.cf"
	postfix -c "$p/conf" start >>"$DIR/log/postfix-start.log" 2>&1 || die "postfix start failed: $(tail -3 "$DIR/log/postfix.log" 2>/dev/null)"
	local i pid=
	for ((i = 0; i < 100; i++)); do
		[[ -s $p/spool/pid/master.pid ]] && pid=$(tr -d ' \n' <"$p/spool/pid/master.pid") && [[ -n $pid ]] && break
		sleep 0.1
	done
	[[ -n $pid ]] || die "postfix: no master.pid; see $DIR/log/postfix.log"
	echo "$pid" >"$DIR/run/postfix.pid"
	for l in "${LISTENERS[@]}"; do
		ip=${l%%:*}
		for ((i = 0; i < 100; i++)); do
			(exec 3<>"/dev/tcp/$ip/25") 2>/dev/null && break
			sleep 0.1
		done
		((i < 100)) || die "postfix: nothing listens on $ip:25; see $DIR/log/postfix.log"
	done

	printf 'compatibility_level = 3.6\nsmtp_tls_loglevel = 1\n' >"$DIR/ptf/main.cf"
	printf 'nameserver %s\noptions edns0 trust-ad\n' "$RESOLVER_IP" >"$DIR/resolv.conf"
}

# finger DOMAIN... runs `posttls-finger -c -l dane $FINGER_OPTS DOMAIN` for
# each domain in a private mount namespace whose /etc/resolv.conf names
# Unbound (the machine's own file is not touched). FINGER_OPTS=-v shows the
# DNS and TLSA decisions.
finger() {
	local d
	for d in "$@"; do
		echo "== $d"
		MAIL_CONFIG=$DIR/ptf unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && shift 2 && exec timeout 60 posttls-finger -c -l dane "$@"' \
			sh "$DIR/resolv.conf" "$d" ${FINGER_OPTS:-} "$d" 2>&1 || true
	done
}

up() {
	stop
	install
	mkdir -p "$DIR"
	rm -rf "$DIR"/{conf,keys,zones,certs,log,run,unbound,postfix,ptf} "$DIR"/nsd-*
	mkdir -p "$DIR"/{conf,keys,zones,certs,log,run}
	cp "$HERE/cases.txt" "$DIR/cases.txt"
	log "certificates and keys"
	certs
	zones
	local x sld=()
	for x in "${SLDS[@]}"; do
		sld+=("${x%%:*}.test.:${x%%:*}.test.signed")
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
	log "starting Postfix"
	postfix_start
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
finger)
	shift
	finger "$@"
	;;
*) die "usage: $0 up|down|status|finger DOMAIN... (state in \$REALNET_DIR, default /tmp/danescan-realnet)" ;;
esac
