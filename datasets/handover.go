package datasets

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// TableHandover is the table of SMTP work handed over from a DNS shard to
// the probe shards (danescan scan --smtp-handover).
const TableHandover = "handover"

// Values of Manifest.Step: which step of a scan split into DNS, probe and
// merge steps wrote a dataset. A dataset of a whole scan, or the final
// dataset of one shard, has no step.
const (
	// StepDNS: danescan scan --smtp-handover, the DNS work of one shard:
	// domains and mx_hosts rows without DANE verdicts, and the handover
	// table; no SMTP connection was made.
	StepDNS = "dns"
	// StepProbe: danescan probe, the SMTP work of one address shard:
	// endpoints rows only.
	StepProbe = "probe"
)

// Handover is one row of the handover table: one SMTP endpoint that the
// DNS shard would have probed (an MX host's address, in one certificate
// type mode), with everything its DANE verdict needs, so that the probe
// shard that owns the address (ShardOf(address, N)) can probe and judge it
// without DNS. The TLSA records are kept as received, in wire form: the
// verdict never reads the presentation form of mx_hosts.tlsa_records,
// which is cut after 4096 bytes.
type Handover struct {
	ScanID         string    `col:"scan_id" doc:"the scan's identifier, as in manifest.json"`
	Host           string    `col:"host" doc:"the MX host name, as in mx_hosts.host"`
	TLSABaseDomain string    `col:"tlsa_base_domain" doc:"the host's TLSA base domain (mx_hosts.tlsa_base_domain), sent as SNI"`
	Address        string    `col:"address" doc:"the IP address to probe (IPv4 dotted, IPv6 RFC 5952); the probe shard of the endpoint is ShardOf(address, N)"`
	SigAlgs        string    `col:"sigalgs" doc:"the handshake to make: any, ecdsa or rsa (as endpoints.sigalgs)"`
	Position       int32     `col:"position" doc:"the endpoint's place in the host's order, from 0: addresses in the order of mx_hosts.addresses (at most 16), certificate type modes within each; the host's dane_status is that of the first endpoint in this order that does not pass"`
	Endpoints      int32     `col:"endpoints" doc:"the number of endpoints of the host (its handover rows, and its endpoints rows once probed)"`
	Validating     bool      `col:"validating" doc:"the DNS shard validated DNSSEC: the verdict applies DANE when tlsa_state is dane; without validation, when TLSA records exist"`
	TLSAState      TLSAState `col:"tlsa_state" values:"dane,no_tlsa,unusable,skipped" doc:"the host's tlsa_state (dane, no_tlsa, unusable, skipped); empty without DNSSEC validation"`
	TLSADNSSEC     string    `col:"tlsa_dnssec" values:"not_validated,secure,insecure,bogus,indeterminate" doc:"the DNSSEC status of the host's TLSA lookup (mx_hosts.tlsa_dnssec): secure, insecure, bogus, indeterminate; not_validated or empty when the DNS shard did not validate"`
	TLSADNSSECWhy  string    `col:"tlsa_dnssec_reason" values:"nsec_denial,nsec3_denial,no_ds,nsec3_opt_out,unsupported_algorithm,unsupported_digest,nsec3_iterations,signature_expired,signature_not_yet_valid,no_rrsig,rrsig_unknown_key,signature_invalid,dnskey_not_signed_by_ds,ds_mismatch,no_dnskey,nsec_proof,nsec3_proof,malformed,cname_loop,zone_cut_loop,lookup_failed,no_trust_anchor" doc:"the reason for that status (mx_hosts.tlsa_dnssec_reason), the dane_reason of a tlsa_lookup_failed verdict: nsec_denial, nsec3_denial, no_ds, nsec3_opt_out, unsupported_algorithm, unsupported_digest, nsec3_iterations, signature_expired, signature_not_yet_valid, no_rrsig, rrsig_unknown_key, signature_invalid, dnskey_not_signed_by_ds, ds_mismatch, no_dnskey, nsec_proof, nsec3_proof, malformed, cname_loop, zone_cut_loop, lookup_failed, no_trust_anchor; empty for a secure answer and without validation"`
	TLSAWire       [][]byte  `col:"tlsa_wire" doc:"the host's TLSA records as received, each in DNS wire form (RFC 1035 section 3.2.1: owner, type, class, TTL, RDLENGTH, RDATA; names uncompressed), in the order of mx_hosts.tlsa_records"`
	Failure        string    `col:"failure" values:"excluded,special_purpose" doc:"the decision taken before any connection: empty when the endpoint is to be probed; excluded (--exclude) or special_purpose (a special-purpose address --allow does not name): the probe shard writes its endpoints row, not_probed, without connecting"`
	Error          string    `col:"error" doc:"the detail of that decision, as endpoints.error"`
}

// EachPart calls fn with the rows of each part of the named table of the
// dataset in datasetDir, one part at a time in name order, so that a table
// larger than memory can be read through. A dataset without the table's
// folder has no rows. It returns the first error of reading a part (as
// ReadTable) or of fn; fn may keep the rows it is given.
func EachPart[T any](datasetDir, table string, fn func(rows []T) error) error {
	p, err := planFor[T](table)
	if err != nil {
		return fmt.Errorf("read table: %w", err)
	}
	dir := filepath.Join(datasetDir, table)
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read table %s: %w", table, err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && isPartName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for _, name := range names {
		rows, err := readPart[T](filepath.Join(dir, name), p, nil)
		if err != nil {
			return fmt.Errorf("read table %s: %w", table, err)
		}
		if err := fn(rows); err != nil {
			return err
		}
	}
	return nil
}
