package datasets

import "time"

// SchemaVersion is the version of the table layout. It is written into the
// Parquet key-value metadata of every part (key "danescan.schema_version")
// and into manifest.json. Bump it whenever a column is added, removed,
// renamed or changes type or meaning.
const SchemaVersion = "3"

// Table names: one folder per table below the dataset directory.
const (
	TableDomains   = "domains"
	TableMXHosts   = "mx_hosts"
	TableEndpoints = "endpoints"
	TableFindings  = "findings"
)

// DANEStatus is a value of the endpoints table's dane_status column and of
// mx_hosts' dane_status: what a DANE sender (RFC 7672 §2.2, §3) makes of
// one endpoint, or of a host when every endpoint agrees (the first that
// does not pass otherwise). DANEStatuses lists the values.
type DANEStatus string

// Values of DANEStatus.
const (
	// DANEPass: a usable TLSA record (usage 2 or 3) authenticated the chain.
	DANEPass DANEStatus = "pass"
	// DANEFail: usable records exist and none matched; dane_reason says
	// why (no_match, ta_not_in_chain, name_mismatch, expired,
	// chain_invalid, no_chain).
	DANEFail DANEStatus = "fail"
	// DANENoUsable: TLSA records exist but none is usable on port 25
	// (only PKIX usages, undefined parameters, bad lengths): TLS is
	// mandatory but unauthenticated (RFC 7672 §2.2).
	DANENoUsable DANEStatus = "no_usable_records"
	// DANETransportFailed: the host has secure TLSA records and the probe
	// did not get a TLS session (dane_reason is the probe's failure
	// class); a DANE sender treats this as a delivery failure.
	DANETransportFailed DANEStatus = "transport_failed"
	// DANETLSALookupFailed: the host's TLSA lookup is bogus or
	// indeterminate (tlsa_state unusable; dane_reason is the TLSA RRset's
	// dnssec_reason): a DANE sender must not deliver to the host and
	// defers (RFC 7672 §2.2), so this is a DANE failure, unlike a host
	// without TLSA.
	DANETLSALookupFailed DANEStatus = "tlsa_lookup_failed"
	// DANENotApplicable: DANE does not apply to the host (its tlsa_state
	// is no_tlsa or skipped; with --dnssec=false: no TLSA records).
	DANENotApplicable DANEStatus = "not_applicable"
	// DANENotProbed: the endpoint was not probed (excluded, special_purpose, interrupted).
	DANENotProbed DANEStatus = "not_probed"
)

// DANEStatuses returns the values of DANEStatus.
func DANEStatuses() []DANEStatus {
	return []DANEStatus{DANEPass, DANEFail, DANENoUsable, DANETransportFailed, DANETLSALookupFailed, DANENotApplicable, DANENotProbed}
}

// DANECoverage is a value of the domains table's dane column: how many of
// the domain's MX hosts pass.
type DANECoverage string

// Values of DANECoverage.
const (
	DANEAll  DANECoverage = "all"
	DANESome DANECoverage = "some"
	DANENone DANECoverage = "none"
)

// DNSSEC status values of the <prefix>_dnssec columns: the four statuses
// of RFC 4035 §4.3 as danescan's own validator decides them, and
// DNSSECNotValidated when the scan ran without validation or the lookup was
// not made. The scanner never guesses a status.
const (
	DNSSECNotValidated  = "not_validated"
	DNSSECSecure        = "secure"
	DNSSECInsecure      = "insecure"
	DNSSECBogus         = "bogus"
	DNSSECIndeterminate = "indeterminate"
)

// TLSAState is a value of the mx_hosts table's tlsa_state column: what a
// DANE sender makes of the host's TLSA lookup (RFC 7672 §2.2); empty when
// the scan ran without DNSSEC validation. TLSAStates lists the values.
type TLSAState string

// Values of TLSAState.
const (
	TLSAStateDANE     TLSAState = "dane"
	TLSAStateNoTLSA   TLSAState = "no_tlsa"
	TLSAStateUnusable TLSAState = "unusable"
	TLSAStateSkipped  TLSAState = "skipped"
)

// TLSAStates returns the values of TLSAState.
func TLSAStates() []TLSAState {
	return []TLSAState{TLSAStateDANE, TLSAStateNoTLSA, TLSAStateUnusable, TLSAStateSkipped}
}

// RRset is the evidence of one DNS lookup: what was asked, what the resolver
// answered, and the failure class when the lookup did not produce an answer.
// It is flattened into columns named <prefix>_<column>, where the prefix is
// the col tag of the field that holds it.
type RRset struct {
	QName            string   `col:"qname" doc:"the name queried (lowercase, no trailing dot); after a CNAME the original name, the chain is in _cnames"`
	Rcode            string   `col:"rcode" doc:"the DNS rcode of the final answer (NOERROR, NXDOMAIN, SERVFAIL, REFUSED ...); empty when no answer arrived"`
	AD               bool     `col:"ad" doc:"the AD (authentic data) bit of the resolver's answer, as the resolver set it; a cross-check, not danescan's own verdict"`
	TTL              int64    `col:"ttl" doc:"the smallest TTL of the answer records of the queried type, in seconds; 0 when there are none"`
	Records          []string `col:"records" doc:"the records of the queried type in presentation form, rdata only (e.g. '10 mx.example.net.' or '3 1 1 <hex>'); at most 100 records are kept (failure oversized when more arrived), each cut after 4096 bytes and then ending in '...(cut)' (the error column says how many were cut)"`
	CNAMEs           []string `col:"cnames" doc:"the CNAME chain followed from the queried name, one target per hop, in order (no trailing dots)"`
	Failure          string   `col:"failure" values:"nodata,nxdomain,servfail,refused,formerr,notimp,rcode_other,timeout,network,mismatch,malformed,truncated_tcp_failed,oversized,cname_loop,cname_too_long,canceled,skipped" doc:"failure class of the lookup, empty when an answer with records arrived: nodata, nxdomain, servfail, refused, formerr, notimp, rcode_other, timeout, network, mismatch, malformed, truncated_tcp_failed, oversized, cname_loop, cname_too_long, canceled, skipped"`
	Error            string   `col:"error" doc:"human-readable detail of the failure (empty when none)"`
	DNSSEC           string   `col:"dnssec" values:"not_validated,secure,insecure,bogus,indeterminate" doc:"DNSSEC status of the answer as danescan validated it in-process from the trust anchors (RFC 4035 section 4.3; the CNAME chain and a NODATA or NXDOMAIN denial included, the weakest link decides): secure, insecure (a proven unsigned delegation above it), bogus (signed but does not validate), indeterminate (the proof could not be fetched, or no trust anchor covers the name); not_validated when the scan ran with --dnssec=false or the lookup was not made"`
	DNSSECReason     string   `col:"dnssec_reason" values:"nsec_denial,nsec3_denial,no_ds,nsec3_opt_out,unsupported_algorithm,unsupported_digest,nsec3_iterations,signature_expired,signature_not_yet_valid,no_rrsig,rrsig_unknown_key,signature_invalid,dnskey_not_signed_by_ds,ds_mismatch,no_dnskey,nsec_proof,nsec3_proof,malformed,cname_loop,zone_cut_loop,lookup_failed,no_trust_anchor" doc:"reason for the DNSSEC status from a closed vocabulary: empty for a secure answer; nsec_denial, nsec3_denial (secure denials); no_ds, nsec3_opt_out, unsupported_algorithm, unsupported_digest, nsec3_iterations (insecure); signature_expired, signature_not_yet_valid, no_rrsig, rrsig_unknown_key, signature_invalid, dnskey_not_signed_by_ds, ds_mismatch, no_dnskey, nsec_proof, nsec3_proof, malformed, cname_loop, zone_cut_loop (bogus); lookup_failed, no_trust_anchor (indeterminate); empty while not_validated"`
	DNSSECAlgorithms []int32  `col:"dnssec_algorithms" doc:"the DNSSEC algorithm numbers of the RRSIGs that the validation used or tried for this answer (5 and 7 are RSA/SHA-1, deprecated by RFC 8624; 8 RSA/SHA-256, 10 RSA/SHA-512, 13 and 14 ECDSA P-256 and P-384, 15 Ed25519); empty while not_validated or without signatures"`
	Transport        string   `col:"transport" values:"udp,tcp" doc:"transport of the final answer: udp or tcp; empty when none arrived"`
	Attempts         int32    `col:"attempts" doc:"number of queries sent for this lookup, retries and TCP fallback included"`
}

// Domain is one row of the domains table: exactly one row per distinct input
// domain, and one per input line that is not a valid domain name.
type Domain struct {
	ScanID          string       `col:"scan_id" doc:"the scan's identifier, as in manifest.json"`
	InputFile       string       `col:"input_file" doc:"the input the name came from, as given on the command line ('-' for stdin)"`
	InputLine       int64        `col:"input_line" doc:"1-based line number in the input (for zone files: the line of the first NS record of the delegation)"`
	Input           string       `col:"input" doc:"the name as written in the input, whitespace trimmed"`
	Rank            *int64       `col:"rank" doc:"rank from a CSV top list (Tranco, Umbrella); null for other formats"`
	Domain          string       `col:"domain" doc:"the normalised name: lowercase A-labels, no trailing dot; empty when the input is not a valid domain name"`
	Failure         string       `col:"failure" doc:"domain-level failure class, empty when the mail routing was determined: invalid_name, nxdomain, no_mail (neither MX nor address records), or the failure class of the MX lookup (servfail, timeout, ...), interrupted"`
	Error           string       `col:"error" doc:"human-readable detail of the failure"`
	MXKind          string       `col:"mx_kind" values:"mx,null_mx,mixed_null_mx,implicit,none,unknown" doc:"how mail is routed: mx (MX records), null_mx (RFC 7505 'MX 0 .' alone), mixed_null_mx (a null MX beside other MX records; the others are scanned), implicit (no MX, the domain's own address records, RFC 5321 section 5.1), none (no MX and no address), unknown (the lookup failed)"`
	MX              RRset        `col:"mx" doc:"the MX lookup of the domain"`
	MXHosts         []string     `col:"mx_hosts" doc:"the MX host names in order of preference, deduplicated, no trailing dot; for implicit MX the domain (or its canonical name)"`
	MXHostCount     int32        `col:"mx_host_count" doc:"number of MX hosts (length of mx_hosts)"`
	MXSecure        bool         `col:"mx_secure" doc:"the mail routing is DNSSEC-secure, the first condition of DANE for SMTP (RFC 7672 section 2.2.1): the MX RRset is secure, or for an implicit MX the domain's address records are secure (addresses_secure of its mx_hosts row); false when the scan ran without DNSSEC validation"`
	MXHostsWithTLSA int32        `col:"mx_hosts_with_tlsa" doc:"number of MX hosts that have TLSA records at their TLSA base domain; with DNSSEC validation only the hosts whose tlsa_state is dane (secure TLSA records reached through secure address records) count"`
	TLSAAllMX       bool         `col:"tlsa_all_mx" doc:"true when there is at least one MX host and every one is counted in mx_hosts_with_tlsa; with DNSSEC validation, DANE protects the domain's mail when both mx_secure and tlsa_all_mx hold (RFC 7672 section 2.2.1)"`
	MTASTS          RRset        `col:"mta_sts" doc:"the TXT lookup at _mta-sts.<domain> (RFC 8461)"`
	MTASTSPublished bool         `col:"mta_sts_published" doc:"exactly one TXT record at _mta-sts.<domain> starts with 'v=STSv1' (RFC 8461 section 3.1)"`
	TLSRPT          RRset        `col:"tlsrpt" doc:"the TXT lookup at _smtp._tls.<domain> (RFC 8460)"`
	TLSRPTPublished bool         `col:"tlsrpt_published" doc:"exactly one TXT record at _smtp._tls.<domain> starts with 'v=TLSRPTv1' (RFC 8460 section 3)"`
	DANE            DANECoverage `col:"dane" values:"all,some,none" doc:"DANE across the domain's MX hosts, from their mx_hosts.dane_status: all (every MX host passes on every address), some (at least one host passes, not all), none (no host passes); DANE protects the domain's mail when dane is all and, with DNSSEC validation, mx_secure holds (MX hosts that pass behind an insecure MX RRset are a category of their own, RFC 7672 section 2.2.1); empty when no MX host was probed (--no-smtp, no MX host with an address)"`
	DANEReason      string       `col:"dane_reason" doc:"when dane is not all: the first MX host in preference order that does not pass, as '<host>: <dane_status>[ <dane_reason>]'"`
	MXHostsPassing  int32        `col:"mx_hosts_passing" doc:"number of MX hosts whose dane_status is pass"`
	ScannedAt       time.Time    `col:"scanned_at" doc:"when the scan of this domain started (UTC, microseconds)"`
	DurationMS      int64        `col:"duration_ms" doc:"wall-clock time spent on this domain, in milliseconds (shared MX host lookups included when this domain waited for them)"`
}

// MXHost is one row of the mx_hosts table: one row per distinct MX host name
// seen in the scan, however many domains use it.
type MXHost struct {
	ScanID          string     `col:"scan_id" doc:"the scan's identifier, as in manifest.json"`
	Host            string     `col:"host" doc:"the MX host name as the MX record names it: lowercase, no trailing dot"`
	Failure         string     `col:"failure" doc:"host-level failure class, empty when at least one address was found: invalid_name, no_address, or the failure class of the address lookups (servfail, timeout, ...), interrupted"`
	Error           string     `col:"error" doc:"human-readable detail of the failure"`
	A               RRset      `col:"a" doc:"the A lookup of the host"`
	AAAA            RRset      `col:"aaaa" doc:"the AAAA lookup of the host"`
	Addresses       []string   `col:"addresses" doc:"the IPv4 and IPv6 addresses of the host, IPv4 first, deduplicated"`
	AddressesSecure bool       `col:"addresses_secure" doc:"the A and AAAA RRsets that the host's addresses came from are all DNSSEC-secure (RFC 7672 section 2.2): the condition for looking up TLSA at all; false when there is no address or the scan ran without DNSSEC validation"`
	Canonical       string     `col:"canonical" doc:"the CNAME-expanded name of the host when the address lookup followed a CNAME chain; empty otherwise"`
	TLSABaseDomain  string     `col:"tlsa_base_domain" doc:"the TLSA base domain chosen per RFC 7672 section 2.2.2 and RFC 7671 section 7: the CNAME-expanded name when it has TLSA records, else the host name; with DNSSEC validation the expanded name is tried only when the address lookup's CNAME chain is secure"`
	TLSACandidates  []string   `col:"tlsa_candidates" doc:"the TLSA query names tried, in order (the expanded name first when the host is an alias)"`
	TLSA            RRset      `col:"tlsa" doc:"the TLSA lookup at _25._tcp.<tlsa_base_domain>; with DNSSEC validation a DANE sender makes it only when addresses_secure (RFC 7672 section 2.2); danescan makes it anyway, at the host name, and records it with its DNSSEC status (tlsa_state skipped); failure skipped when the host has no address. Verdicts use the records as received: a record cut in tlsa_records (after 4096 bytes) is whole for them"`
	TLSAState       TLSAState  `col:"tlsa_state" values:"dane,no_tlsa,unusable,skipped" doc:"what a DANE sender makes of the host's TLSA lookup (RFC 7672 section 2.2): dane (secure TLSA records: DANE applies), no_tlsa (a secure denial, or TLSA records that are insecure, which senders ignore), unusable (the TLSA lookup is bogus or indeterminate: a DANE sender must defer delivery, unlike no_tlsa; its endpoints say tlsa_lookup_failed), skipped (the address records are not secure, so a DANE sender does not use TLSA, or the host has no address); empty when the scan ran without DNSSEC validation"`
	DANEStatus      DANEStatus `col:"dane_status" values:"pass,fail,no_usable_records,transport_failed,tlsa_lookup_failed,not_applicable,not_probed" doc:"the host's DANE verdict from its endpoints rows (every address, every certificate type probed): pass when every endpoint passes, otherwise the status of the first endpoint that does not (fail, no_usable_records, transport_failed, tlsa_lookup_failed, not_applicable, not_probed); empty when the host was not probed (--no-smtp, no address)"`
	DANEReason      string     `col:"dane_reason" doc:"the dane_reason of that endpoint, prefixed with its address"`
	Endpoints       int32      `col:"endpoints" doc:"number of endpoints rows of the host"`
	ScannedAt       time.Time  `col:"scanned_at" doc:"when the probe of this host started (UTC, microseconds)"`
	DurationMS      int64      `col:"duration_ms" doc:"wall-clock time spent on this host's lookups, in milliseconds"`
}

// Endpoint is one row of the endpoints table: one SMTP endpoint (an MX
// host's address on port 25) probed with STARTTLS once per scan, however
// many domains share the host, and the DANE verdict on what it presented
// (RFC 7672 §3, RFC 7671). With --sigalgs both a host has one row per
// address and certificate type.
type Endpoint struct {
	ScanID          string     `col:"scan_id" doc:"the scan's identifier, as in manifest.json"`
	Host            string     `col:"host" doc:"the MX host name, as in mx_hosts.host"`
	TLSABaseDomain  string     `col:"tlsa_base_domain" doc:"the TLSA base domain (mx_hosts.tlsa_base_domain), sent as SNI (RFC 7672 section 8.1) and matched against the certificate names for DANE-TA"`
	Address         string     `col:"address" doc:"the IP address probed (IPv4 dotted, IPv6 RFC 5952)"`
	Port            int32      `col:"port" doc:"the TCP port (25)"`
	SigAlgs         string     `col:"sigalgs" doc:"the handshake made: any (the client's defaults, TLS 1.0 to 1.3), ecdsa or rsa (TLS 1.2 with only ECDHE_ECDSA or only RSA cipher suites, which makes the server present that certificate type; --sigalgs both)"`
	TLSAState       TLSAState  `col:"tlsa_state" values:"dane,no_tlsa,unusable,skipped" doc:"the host's tlsa_state (dane, no_tlsa, unusable, skipped), copied: the verdict applies DANE only when it is dane, and says tlsa_lookup_failed when it is unusable (or, without DNSSEC validation, when TLSA records exist)"`
	Failure         string     `col:"failure" values:"config_error,connect_refused,connect_timeout,unreachable,connect_failed,banner_timeout,banner_rejected,ehlo_timeout,ehlo_rejected,starttls_not_offered,starttls_timeout,starttls_rejected,tls_handshake_timeout,tls_handshake_failed,tls_certificate_unparsable,line_too_long,too_many_lines,transcript_too_long,protocol_error,connection_closed,connection_reset,canceled,excluded,special_purpose,interrupted" doc:"probe failure class, empty when the TLS handshake completed: config_error (an invalid --sigalgs mode; nothing was sent), connect_refused, connect_timeout, unreachable, connect_failed, banner_timeout, banner_rejected, ehlo_timeout, ehlo_rejected, starttls_not_offered, starttls_timeout, starttls_rejected, tls_handshake_timeout, tls_handshake_failed, tls_certificate_unparsable, line_too_long, too_many_lines, transcript_too_long, protocol_error, connection_closed, connection_reset, canceled (package starttls), excluded (--exclude), special_purpose (a private, loopback, link-local, documentation ... address of the RFC 6890 registries that --allow does not name: not connected to), interrupted"`
	Stage           string     `col:"stage" values:"config,connect,banner,ehlo,starttls,handshake,quit" doc:"the stage the probe ended in: config, connect, banner, ehlo, starttls, handshake, quit; empty when excluded"`
	Error           string     `col:"error" doc:"human-readable detail of the failure"`
	Banner          []string   `col:"banner" doc:"the 220 greeting's lines, text after the code, invalid UTF-8 and control characters escaped as \\xNN"`
	BannerCode      int32      `col:"banner_code" doc:"the greeting's reply code; 0 when none arrived"`
	EHLO            []string   `col:"ehlo" doc:"the EHLO reply's lines (before STARTTLS)"`
	Extensions      []string   `col:"extensions" doc:"the EHLO keywords, upper case (e.g. STARTTLS, PIPELINING, SIZE)"`
	STARTTLSOffered bool       `col:"starttls_offered" doc:"the EHLO reply listed STARTTLS (RFC 3207)"`
	ReplyCode       int32      `col:"reply_code" doc:"the code of the reply that refused (421, 454, 5xx ...); 0 when none did"`
	ReplyText       string     `col:"reply_text" doc:"the text of that reply, lines joined with newlines"`
	TLSVersion      string     `col:"tls_version" doc:"the TLS version negotiated (e.g. TLS 1.3); empty without a handshake"`
	CipherSuite     string     `col:"cipher_suite" doc:"the cipher suite negotiated, IANA name"`
	TLSGroup        string     `col:"tls_group" doc:"the key exchange group (e.g. X25519, X25519MLKEM768, P-256)"`
	TLSAlert        string     `col:"tls_alert" doc:"the TLS alert the server sent when the handshake failed (e.g. handshake failure (40))"`
	Chain           [][]byte   `col:"chain" doc:"the certificate chain as presented, DER, leaf first, in the server's order (at most 32 certificates kept; chain_length counts them all)"`
	ChainLength     int32      `col:"chain_length" doc:"number of certificates the server presented"`
	DANEStatus      DANEStatus `col:"dane_status" values:"pass,fail,no_usable_records,transport_failed,tlsa_lookup_failed,not_applicable,not_probed" doc:"the DANE verdict on this endpoint: pass, fail, no_usable_records, transport_failed, tlsa_lookup_failed, not_applicable, not_probed (see the constants in datasets/rows.go)"`
	DANEReason      string     `col:"dane_reason" doc:"for fail: no_match (no usage-3 record matches the leaf), ta_not_in_chain (a usage-2 record's trust anchor is not among the certificates sent), name_mismatch (DANE-TA leaf names neither the TLSA base domain nor the MX host), expired (DANE-TA: leaf or intermediate outside its validity dates), chain_invalid (DANE-TA: no signature path from the anchor to the leaf), no_chain; for transport_failed: the probe's failure class; for tlsa_lookup_failed: the TLSA RRset's dnssec_reason (signature_expired, lookup_failed ...)"`
	DANEMatchRecord int32      `col:"dane_match_record" doc:"index in mx_hosts.tlsa_records of the record that matched; -1 when none"`
	DANEMatchUsage  int32      `col:"dane_match_usage" doc:"usage of that record (2 DANE-TA, 3 DANE-EE); -1 when none"`
	DANEDepth       int32      `col:"dane_depth" doc:"chain position of the certificate that matched (0 the leaf; for DANE-TA the trust anchor's position); -1 when none"`
	NearMiss        string     `col:"dane_near_miss" values:"wrong_usage,wrong_selector,wrong_matching_type,ta_found,wrong_depth,wrong_fields,empty_hash,none" doc:"when nothing matched, the nearest miss (after Lee et al., USENIX Security 2022): wrong_usage, wrong_selector, wrong_matching_type (the data matches a presented certificate with that one field changed), ta_found (a DANE-TA anchor was in the chain but a later check failed), wrong_depth (a usage-3 record names a certificate above the leaf), wrong_fields (two or more fields off), empty_hash (the hash of empty input), none (no relation to any presented certificate: stale or wrong data); empty when a record matched or no chain was seen"`
	NearMissRecord  int32      `col:"dane_near_miss_record" doc:"index in mx_hosts.tlsa_records of the near-miss record; -1 when none"`
	NearMissParams  string     `col:"dane_near_miss_params" doc:"the usage, selector and matching type under which that record's data would have matched, e.g. '3 1 1'; empty when none"`
	TLSAUnusable    []string   `col:"tlsa_unusable" values:"pkix_usage,undefined_usage,undefined_selector,undefined_matching_type,bad_hex,empty_data,bad_length" doc:"per TLSA record (parallel to mx_hosts.tlsa_records), empty when usable on port 25, else why not: pkix_usage, undefined_usage, undefined_selector, undefined_matching_type, bad_hex, empty_data, bad_length; empty list when DANE was not checked"`
	PKIXValid       bool       `col:"pkix_valid" doc:"information beside DANE: the chain verifies against the system roots for the MX host name (WebPKI rules, at scan time)"`
	PKIXReason      string     `col:"pkix_reason" doc:"why not: no_chain, malformed, no_roots, unknown_authority, name_mismatch, expired (or not yet valid), invalid"`
	LeafDaysLeft    *int64     `col:"leaf_days_left" doc:"days until the leaf certificate expires, negative when expired; null without a parsable leaf"`
	LeafKeyType     string     `col:"leaf_key_type" doc:"the leaf's public key type: rsa, ecdsa, ed25519, other; empty without a parsable leaf"`
	LeafKeyBits     int32      `col:"leaf_key_bits" doc:"the leaf key's size in bits (RSA modulus, ECDSA curve)"`
	ScannedAt       time.Time  `col:"scanned_at" doc:"when the probe started (UTC, microseconds)"`
	DurationMS      int64      `col:"duration_ms" doc:"wall-clock time of the probe, in milliseconds, waits for politeness limits excluded"`
	HandshakeMS     int64      `col:"handshake_ms" doc:"time of the TLS handshake, in milliseconds; 0 without one"`
}

// Finding is one row of the findings table that danescan analyze writes:
// one check that fired for one domain, MX host, endpoint or TLSA record.
type Finding struct {
	ScanID   string `col:"scan_id" doc:"the scan the finding is about"`
	Check    string `col:"check" doc:"the check's id (analysis/checks/<check>.sql; the report's catalogue lists them)"`
	Severity string `col:"severity" doc:"delivery_fails (a DANE sender does not deliver or cannot route the mail), weakens_security (mail flows but DANE does not protect all of it), advice (an operator tip)"`
	Unit     string `col:"unit" doc:"what the finding counts: domain, mx_host, endpoint or record"`
	Domain   string `col:"domain" doc:"the domain, for domain findings; empty otherwise (join mx_hosts through domains.mx_hosts)"`
	Host     string `col:"host" doc:"the MX host, for host, endpoint and record findings"`
	Address  string `col:"address" doc:"the address, for endpoint findings"`
	Evidence string `col:"evidence" doc:"what the check saw (a reason, the record, the TTL ...)"`
}
