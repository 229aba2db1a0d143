package scanner

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/dane"
	"github.com/danescan/danescan/scanner/dnssec"
	"github.com/danescan/danescan/scanner/lookup"
	"github.com/danescan/danescan/scanner/starttls"
)

// strs turns the values of a vocabulary type into strings.
func strs[T ~string](vs ...T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// TestVocabularies ties each closed vocabulary of the dataset to the Go
// type that produces it: the values a column's values tag lists (and its
// documentation names) are exactly those its producer can write. A value
// added to a probe without the column's documentation, or documented but
// never produced, fails here.
func TestVocabularies(t *testing.T) {
	dnsFailures := append(strs(lookup.Failures()...), string(FailOversized), string(FailSkipped))
	var dnssecReasons []string
	for _, r := range dnssec.Reasons() {
		if r != dnssec.ReasonNone {
			dnssecReasons = append(dnssecReasons, string(r))
		}
	}
	want := map[string][]string{
		// The flattened lookups: <prefix>_failure and so on, every table.
		"*_failure":       dnsFailures,
		"*_dnssec":        append([]string{datasets.DNSSECNotValidated}, strs(dnssec.Statuses()...)...),
		"*_dnssec_reason": dnssecReasons,
		"*_transport":     {"udp", "tcp"},

		"domains.mx_kind":            {KindMX, KindNullMX, KindMixedNullMX, KindImplicit, KindNone, KindUnknown},
		"domains.dane":               strs(datasets.DANEAll, datasets.DANESome, datasets.DANENone),
		"mx_hosts.tlsa_state":        strs(datasets.TLSAStates()...),
		"mx_hosts.dane_status":       strs(datasets.DANEStatuses()...),
		"endpoints.tlsa_state":       strs(datasets.TLSAStates()...),
		"endpoints.dane_status":      strs(datasets.DANEStatuses()...),
		"endpoints.failure":          append(strs(starttls.Failures()...), FailExcluded, FailSpecialPurpose, FailInterrupted),
		"endpoints.stage":            strs(starttls.Stages()...),
		"endpoints.dane_near_miss":   strs(dane.NearMisses()...),
		"endpoints.tlsa_unusable":    strs(dane.Unusables()...),
		"endpoints.dane_reason(doc)": append(strs(dane.Reasons()...), "tlsa_lookup_failed"),
		"handover.tlsa_state":        strs(datasets.TLSAStates()...),
		"handover.failure":           {FailExcluded, FailSpecialPurpose},
	}
	covered := map[string]bool{}
	for _, table := range datasets.Tables() {
		for _, col := range table.Columns {
			key := table.Name + "." + col.Name
			w, ok := want[key]
			if !ok {
				for pattern, v := range want {
					if suffix, isPattern := strings.CutPrefix(pattern, "*"); isPattern && lookupColumn(col.Name, suffix) {
						key, w, ok = pattern, v, true
						break
					}
				}
			}
			if !ok {
				if col.Values != nil {
					t.Errorf("%s.%s has a values tag that no test ties to a Go vocabulary", table.Name, col.Name)
				}
				continue
			}
			covered[key] = true
			t.Run(table.Name+"."+col.Name, func(t *testing.T) {
				if d := setDiff(w, col.Values); d != "" {
					t.Errorf("values tag against the Go vocabulary (-go +tag):\n%s", d)
				}
				for _, v := range w {
					if !mentions(col.Doc, v) {
						t.Errorf("the documentation does not name %q: %s", v, col.Doc)
					}
				}
			})
		}
	}
	// dane_reason mixes three vocabularies (dane reasons, probe failures,
	// DNSSEC reasons); its documentation must name dane's.
	for _, table := range datasets.Tables() {
		for _, col := range table.Columns {
			if table.Name+"."+col.Name != "endpoints.dane_reason" {
				continue
			}
			covered["endpoints.dane_reason(doc)"] = true
			for _, v := range want["endpoints.dane_reason(doc)"] {
				if !mentions(col.Doc, v) {
					t.Errorf("endpoints.dane_reason does not name %q", v)
				}
			}
		}
	}
	for key := range want {
		if !covered[key] {
			t.Errorf("no column matched %s", key)
		}
	}
}

// lookupColumn reports whether col is the column suffix (e.g. "_failure")
// of a flattened lookup (mx_failure, tlsa_failure ...).
func lookupColumn(col, suffix string) bool {
	prefix, ok := strings.CutSuffix(col, suffix)
	return ok && slices.Contains([]string{"mx", "mta_sts", "tlsrpt", "a", "aaaa", "tlsa"}, prefix)
}

// mentions reports whether doc names v as a word.
func mentions(doc, v string) bool {
	return regexp.MustCompile(`(^|[^a-z0-9_])` + regexp.QuoteMeta(v) + `($|[^a-z0-9_])`).MatchString(doc)
}

// setDiff lists the values only in want (-) or only in got (+).
func setDiff(want, got []string) string {
	var b strings.Builder
	for _, w := range want {
		if !slices.Contains(got, w) {
			fmt.Fprintf(&b, "- %s\n", w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			fmt.Fprintf(&b, "+ %s\n", g)
		}
	}
	return b.String()
}
