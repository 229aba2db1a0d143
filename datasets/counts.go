package datasets

import (
	"encoding/json"
	"reflect"
	"strings"
)

// Counts are a scan's counters, the "counts" object of manifest.json. On
// disk it is one flat object of integers, as in every manifest so far:
// the fields below under their JSON names, and the counts by value under
// "<prefix><value>" (for example "failure_timeout" for Failures["timeout"],
// "hosts_dane_pass" for HostsDANE["pass"]), so that a value new in a
// closed vocabulary is counted without a change here. The counts of rows
// are written only when not zero.
type Counts struct {
	// Totals is nil in the manifests written while the scan runs.
	*Totals
	// DNSSECWork is nil when the scan ran without DNSSEC validation, and
	// while it runs.
	*DNSSECWork
	// SMTPWork is nil when the scan ran without SMTP probes, and while it
	// runs.
	*SMTPWork

	// Domains rows.
	RowsDomains int64 `json:"rows_domains,omitempty"`
	WithMX      int64 `json:"with_mx,omitempty"`     // mx_kind mx or mixed_null_mx
	NullMX      int64 `json:"null_mx,omitempty"`     // mx_kind null_mx
	ImplicitMX  int64 `json:"implicit_mx,omitempty"` // mx_kind implicit
	MXSecure    int64 `json:"mx_secure,omitempty"`
	TLSAAllMX   int64 `json:"tlsa_all_mx,omitempty"`
	// TLSASomeMX counts domains with TLSA at some but not all MX hosts.
	TLSASomeMX int64 `json:"tlsa_some_mx,omitempty"`
	MTASTS     int64 `json:"mta_sts,omitempty"` // mta_sts_published
	TLSRPT     int64 `json:"tlsrpt,omitempty"`  // tlsrpt_published
	// Failures counts domains rows by failure class ("failure_<class>").
	Failures map[string]int64 `json:"-"`
	// DANE counts domains rows by dane: all, some, none ("dane_<value>").
	DANE map[string]int64 `json:"-"`

	// MX hosts rows.
	RowsMXHosts          int64 `json:"rows_mx_hosts,omitempty"`
	MXHostsWithTLSA      int64 `json:"mx_hosts_with_tlsa,omitempty"`
	HostsAddressesSecure int64 `json:"hosts_addresses_secure,omitempty"`
	// HostFailures counts mx_hosts rows by failure class
	// ("host_failure_<class>").
	HostFailures map[string]int64 `json:"-"`
	// HostsTLSA counts mx_hosts rows by tlsa_state ("hosts_tlsa_<state>").
	HostsTLSA map[string]int64 `json:"-"`
	// HostsDANE counts mx_hosts rows by dane_status
	// ("hosts_dane_<status>").
	HostsDANE map[string]int64 `json:"-"`

	// Endpoints rows.
	RowsEndpoints int64 `json:"rows_endpoints,omitempty"`
	// EndpointFailures counts endpoints rows by failure class
	// ("endpoint_failure_<class>").
	EndpointFailures map[string]int64 `json:"-"`
	// EndpointsDANE counts endpoints rows by dane_status
	// ("endpoint_dane_<status>").
	EndpointsDANE map[string]int64 `json:"-"`

	// RowsHandover counts the handover rows (scan --smtp-handover).
	RowsHandover int64 `json:"rows_handover,omitempty"`

	// Other holds the counts of a manifest read whose names this version
	// does not know (written by another version), so that they are
	// written again as they were.
	Other map[string]int64 `json:"-"`
}

// Totals are the counts of the whole scan, known when it ends.
type Totals struct {
	// InputLines is the number of lines of all inputs.
	InputLines int64 `json:"input_lines"`
	// Entries counts input entries read: valid, invalid and duplicate.
	Entries int64 `json:"entries"`
	// Domains counts the distinct valid names scanned.
	Domains     int64 `json:"domains"`
	Duplicates  int64 `json:"duplicates"`   // names seen before in the inputs
	Invalid     int64 `json:"invalid"`      // entries that are not valid names
	Excluded    int64 `json:"excluded"`     // names on the exclusion list
	InputErrors int64 `json:"input_errors"` // inputs not read to the end
	// OtherShards counts the entries read that belong to other shards of
	// a sharded scan (not in Entries).
	OtherShards int64 `json:"other_shards,omitempty"`
	DNSQueries  int64 `json:"dns_queries"` // DNS queries sent, retries included
}

// DNSSECWork counts the validator's work (see dnssec.Counters).
type DNSSECWork struct {
	DNSSECVerifications int64 `json:"dnssec_verifications"`
	DNSSECSignatureHits int64 `json:"dnssec_signature_hits"`
	DNSSECCacheHits     int64 `json:"dnssec_cache_hits"`
	DNSSECCacheMisses   int64 `json:"dnssec_cache_misses"`
}

// SMTPWork counts the SMTP probes.
type SMTPWork struct {
	EndpointsProbed int64 `json:"endpoints_probed"`
}

// countsFields is Counts without its JSON methods: the named fields.
type countsFields Counts

// byValue returns the counts by value with the prefix of their names. No
// prefix is the start of another or of a named field's name.
func (c *Counts) byValue() []struct {
	prefix string
	m      *map[string]int64
} {
	return []struct {
		prefix string
		m      *map[string]int64
	}{
		{"failure_", &c.Failures},
		{"dane_", &c.DANE},
		{"host_failure_", &c.HostFailures},
		{"hosts_tlsa_", &c.HostsTLSA},
		{"hosts_dane_", &c.HostsDANE},
		{"endpoint_failure_", &c.EndpointFailures},
		{"endpoint_dane_", &c.EndpointsDANE},
	}
}

// MarshalJSON writes c as one flat object with its names in order.
func (c Counts) MarshalJSON() ([]byte, error) {
	named, err := json.Marshal(countsFields(c))
	if err != nil {
		return nil, err
	}
	flat := map[string]int64{}
	if err := json.Unmarshal(named, &flat); err != nil {
		return nil, err
	}
	for _, g := range c.byValue() {
		for v, n := range *g.m {
			flat[g.prefix+v] = n
		}
	}
	for k, n := range c.Other {
		flat[k] = n
	}
	return json.Marshal(flat)
}

// UnmarshalJSON reads the flat object MarshalJSON writes, or that of any
// earlier version. Totals, DNSSECWork and SMTPWork are set when one of
// their names is present.
func (c *Counts) UnmarshalJSON(data []byte) error {
	var flat map[string]int64
	if err := json.Unmarshal(data, &flat); err != nil {
		return err
	}
	var named countsFields
	if err := json.Unmarshal(data, &named); err != nil {
		return err
	}
	*c = Counts(named)
	known := map[string]bool{}
	jsonNames(reflect.TypeFor[countsFields](), known)
next:
	for k, n := range flat {
		if known[k] {
			continue
		}
		for _, g := range c.byValue() {
			if v, ok := strings.CutPrefix(k, g.prefix); ok {
				if *g.m == nil {
					*g.m = map[string]int64{}
				}
				(*g.m)[v] = n
				continue next
			}
		}
		if c.Other == nil {
			c.Other = map[string]int64{}
		}
		c.Other[k] = n
	}
	return nil
}

// jsonNames adds the JSON names of the fields of struct type t, and of
// the structs it embeds, to names.
func jsonNames(t reflect.Type, names map[string]bool) {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		if f.Anonymous && tag == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			jsonNames(ft, names)
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		names[name] = true
	}
}
