package datasets

import "time"

// SchemaVersion is the version of the table layout. It is written into the
// Parquet key-value metadata of every part (key "danescan.schema_version")
// and into manifest.json. Bump it whenever a column is added, removed,
// renamed or changes type or meaning.
const SchemaVersion = "2"

// Table names: one folder per table below the dataset directory.
const (
	TableDomains = "domains"
	TableMXHosts = "mx_hosts"
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

// Values of the mx_hosts table's tlsa_state column (RFC 7672 §2.2); empty
// when the scan ran without DNSSEC validation.
const (
	TLSAStateDANE     = "dane"
	TLSAStateNoTLSA   = "no_tlsa"
	TLSAStateUnusable = "unusable"
	TLSAStateSkipped  = "skipped"
)

// RRset is the evidence of one DNS lookup: what was asked, what the resolver
// answered, and the failure class when the lookup did not produce an answer.
// It is flattened into columns named <prefix>_<column>, where the prefix is
// the col tag of the field that holds it.
type RRset struct {
	QName            string   `col:"qname" doc:"the name queried (lowercase, no trailing dot); after a CNAME the original name, the chain is in _cnames"`
	Rcode            string   `col:"rcode" doc:"the DNS rcode of the final answer (NOERROR, NXDOMAIN, SERVFAIL, REFUSED ...); empty when no answer arrived"`
	AD               bool     `col:"ad" doc:"the AD (authentic data) bit of the resolver's answer, as the resolver set it; a cross-check, not danescan's own verdict"`
	TTL              int64    `col:"ttl" doc:"the smallest TTL of the answer records of the queried type, in seconds; 0 when there are none"`
	Records          []string `col:"records" doc:"the records of the queried type in presentation form, rdata only (e.g. '10 mx.example.net.' or '3 1 1 <hex>'); at most 100 records are kept (failure oversized when more arrived), each cut after 4096 bytes"`
	CNAMEs           []string `col:"cnames" doc:"the CNAME chain followed from the queried name, one target per hop, in order (no trailing dots)"`
	Failure          string   `col:"failure" doc:"failure class of the lookup, empty when an answer with records arrived: nodata, nxdomain, servfail, refused, formerr, notimp, rcode_other, timeout, network, mismatch, malformed, truncated_tcp_failed, oversized, cname_loop, cname_too_long, canceled, skipped"`
	Error            string   `col:"error" doc:"human-readable detail of the failure (empty when none)"`
	DNSSEC           string   `col:"dnssec" doc:"DNSSEC status of the answer as danescan validated it in-process from the trust anchors (RFC 4035 section 4.3; the CNAME chain and a NODATA or NXDOMAIN denial included, the weakest link decides): secure, insecure (a proven unsigned delegation above it), bogus (signed but does not validate), indeterminate (the proof could not be fetched, or no trust anchor covers the name); not_validated when the scan ran with --dnssec=false or the lookup was not made"`
	DNSSECReason     string   `col:"dnssec_reason" doc:"reason for the DNSSEC status from a closed vocabulary: empty for a secure answer; nsec_denial, nsec3_denial (secure denials); no_ds, nsec3_opt_out, unsupported_algorithm, unsupported_digest, nsec3_iterations (insecure); signature_expired, signature_not_yet_valid, no_rrsig, rrsig_unknown_key, signature_invalid, dnskey_not_signed_by_ds, ds_mismatch, no_dnskey, nsec_proof, nsec3_proof, malformed, cname_loop, zone_cut_loop (bogus); lookup_failed, no_trust_anchor (indeterminate); empty while not_validated"`
	DNSSECAlgorithms []int32  `col:"dnssec_algorithms" doc:"the DNSSEC algorithm numbers of the RRSIGs that the validation used or tried for this answer (5 and 7 are RSA/SHA-1, deprecated by RFC 8624; 8 RSA/SHA-256, 10 RSA/SHA-512, 13 and 14 ECDSA P-256 and P-384, 15 Ed25519); empty while not_validated or without signatures"`
	Transport        string   `col:"transport" doc:"transport of the final answer: udp or tcp; empty when none arrived"`
	Attempts         int32    `col:"attempts" doc:"number of queries sent for this lookup, retries and TCP fallback included"`
}

// Domain is one row of the domains table: exactly one row per distinct input
// domain, and one per input line that is not a valid domain name.
type Domain struct {
	ScanID          string    `col:"scan_id" doc:"the scan's identifier, as in manifest.json"`
	InputFile       string    `col:"input_file" doc:"the input the name came from, as given on the command line ('-' for stdin)"`
	InputLine       int64     `col:"input_line" doc:"1-based line number in the input (for zone files: the line of the first NS record of the delegation)"`
	Input           string    `col:"input" doc:"the name as written in the input, whitespace trimmed"`
	Rank            *int64    `col:"rank" doc:"rank from a CSV top list (Tranco, Umbrella); null for other formats"`
	Domain          string    `col:"domain" doc:"the normalised name: lowercase A-labels, no trailing dot; empty when the input is not a valid domain name"`
	Failure         string    `col:"failure" doc:"domain-level failure class, empty when the mail routing was determined: invalid_name, nxdomain, no_mail (neither MX nor address records), or the failure class of the MX lookup (servfail, timeout, ...), interrupted"`
	Error           string    `col:"error" doc:"human-readable detail of the failure"`
	MXKind          string    `col:"mx_kind" doc:"how mail is routed: mx (MX records), null_mx (RFC 7505 'MX 0 .' alone), mixed_null_mx (a null MX beside other MX records; the others are scanned), implicit (no MX, the domain's own address records, RFC 5321 section 5.1), none (no MX and no address), unknown (the lookup failed)"`
	MX              RRset     `col:"mx" doc:"the MX lookup of the domain"`
	MXHosts         []string  `col:"mx_hosts" doc:"the MX host names in order of preference, deduplicated, no trailing dot; for implicit MX the domain (or its canonical name)"`
	MXHostCount     int32     `col:"mx_host_count" doc:"number of MX hosts (length of mx_hosts)"`
	MXSecure        bool      `col:"mx_secure" doc:"the mail routing is DNSSEC-secure, the first condition of DANE for SMTP (RFC 7672 section 2.2.1): the MX RRset is secure, or for an implicit MX the domain's address records are secure (addresses_secure of its mx_hosts row); false when the scan ran without DNSSEC validation"`
	MXHostsWithTLSA int32     `col:"mx_hosts_with_tlsa" doc:"number of MX hosts that have TLSA records at their TLSA base domain; with DNSSEC validation only the hosts whose tlsa_state is dane (secure TLSA records reached through secure address records) count"`
	TLSAAllMX       bool      `col:"tlsa_all_mx" doc:"true when there is at least one MX host and every one is counted in mx_hosts_with_tlsa; with DNSSEC validation, DANE protects the domain's mail when both mx_secure and tlsa_all_mx hold (RFC 7672 section 2.2.1)"`
	MTASTS          RRset     `col:"mta_sts" doc:"the TXT lookup at _mta-sts.<domain> (RFC 8461)"`
	MTASTSPublished bool      `col:"mta_sts_published" doc:"exactly one TXT record at _mta-sts.<domain> starts with 'v=STSv1' (RFC 8461 section 3.1)"`
	TLSRPT          RRset     `col:"tlsrpt" doc:"the TXT lookup at _smtp._tls.<domain> (RFC 8460)"`
	TLSRPTPublished bool      `col:"tlsrpt_published" doc:"exactly one TXT record at _smtp._tls.<domain> starts with 'v=TLSRPTv1' (RFC 8460 section 3)"`
	ScannedAt       time.Time `col:"scanned_at" doc:"when the scan of this domain started (UTC, microseconds)"`
	DurationMS      int64     `col:"duration_ms" doc:"wall-clock time spent on this domain, in milliseconds (shared MX host lookups included when this domain waited for them)"`
}

// MXHost is one row of the mx_hosts table: one row per distinct MX host name
// seen in the scan, however many domains use it.
type MXHost struct {
	ScanID          string    `col:"scan_id" doc:"the scan's identifier, as in manifest.json"`
	Host            string    `col:"host" doc:"the MX host name as the MX record names it: lowercase, no trailing dot"`
	Failure         string    `col:"failure" doc:"host-level failure class, empty when at least one address was found: invalid_name, no_address, or the failure class of the address lookups (servfail, timeout, ...), interrupted"`
	Error           string    `col:"error" doc:"human-readable detail of the failure"`
	A               RRset     `col:"a" doc:"the A lookup of the host"`
	AAAA            RRset     `col:"aaaa" doc:"the AAAA lookup of the host"`
	Addresses       []string  `col:"addresses" doc:"the IPv4 and IPv6 addresses of the host, IPv4 first, deduplicated"`
	AddressesSecure bool      `col:"addresses_secure" doc:"the A and AAAA RRsets that the host's addresses came from are all DNSSEC-secure (RFC 7672 section 2.2): the condition for looking up TLSA at all; false when there is no address or the scan ran without DNSSEC validation"`
	Canonical       string    `col:"canonical" doc:"the CNAME-expanded name of the host when the address lookup followed a CNAME chain; empty otherwise"`
	TLSABaseDomain  string    `col:"tlsa_base_domain" doc:"the TLSA base domain chosen per RFC 7672 section 2.2.2 and RFC 7671 section 7: the CNAME-expanded name when it has TLSA records, else the host name; with DNSSEC validation the expanded name is tried only when the address lookup's CNAME chain is secure"`
	TLSACandidates  []string  `col:"tlsa_candidates" doc:"the TLSA query names tried, in order (the expanded name first when the host is an alias)"`
	TLSA            RRset     `col:"tlsa" doc:"the TLSA lookup at _25._tcp.<tlsa_base_domain>; with DNSSEC validation it is made only when addresses_secure (otherwise failure skipped, RFC 7672 section 2.2)"`
	TLSAState       string    `col:"tlsa_state" doc:"what a DANE sender makes of the host's TLSA lookup (RFC 7672 section 2.2): dane (secure TLSA records: DANE applies), no_tlsa (a secure denial, or TLSA records that are insecure, which senders ignore), unusable (the TLSA lookup is bogus or indeterminate: a DANE sender must defer delivery, unlike no_tlsa), skipped (the address records are not secure, so TLSA is not looked up); empty when the scan ran without DNSSEC validation"`
	ScannedAt       time.Time `col:"scanned_at" doc:"when the probe of this host started (UTC, microseconds)"`
	DurationMS      int64     `col:"duration_ms" doc:"wall-clock time spent on this host's lookups, in milliseconds"`
}
