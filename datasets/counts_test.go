package datasets

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCountsOldManifests reads manifests written by danescan before Counts
// was a struct (testdata/manifest-*.json: a lab scan with DNSSEC and SMTP,
// a DNS-only one, and a checkpoint of the first written while it ran),
// writes them again and wants the same bytes, and checks that the counts
// land in their fields.
func TestCountsOldManifests(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, c Counts)
	}{
		{"manifest-lab.json", func(t *testing.T, c Counts) {
			if c.Totals == nil || c.DNSSECWork == nil || c.SMTPWork == nil {
				t.Fatalf("Totals, DNSSECWork, SMTPWork = %v, %v, %v; want all set", c.Totals, c.DNSSECWork, c.SMTPWork)
			}
			got := []int64{c.Domains, c.Entries, c.DNSSECVerifications, c.EndpointsProbed, c.RowsDomains, c.TLSAAllMX,
				c.Failures["timeout"], c.DANE[string(DANEAll)], c.HostsTLSA[string(TLSAStateDANE)], c.HostsDANE[string(DANEPass)], c.EndpointFailures["banner_timeout"], c.EndpointsDANE[string(DANENotApplicable)]}
			want := []int64{297, 300, 1395, 168, 298, 73, 1, 59, 40, 25, 1, 106}
			if d := diff(want, got); d != "" {
				t.Errorf("counts %s", d)
			}
			if c.Other != nil {
				t.Errorf("Other = %v; every name is known", c.Other)
			}
		}},
		{"manifest-dns-only.json", func(t *testing.T, c Counts) {
			if c.Totals == nil || c.DNSSECWork != nil || c.SMTPWork != nil {
				t.Errorf("Totals, DNSSECWork, SMTPWork = %v, %v, %v; want only Totals", c.Totals, c.DNSSECWork, c.SMTPWork)
			}
		}},
		{"manifest-checkpoint.json", func(t *testing.T, c Counts) {
			if c.Totals != nil || c.DNSSECWork != nil || c.SMTPWork != nil || c.RowsDomains != 298 {
				t.Errorf("Totals, DNSSECWork, SMTPWork = %v, %v, %v, rows_domains %d; want only rows", c.Totals, c.DNSSECWork, c.SMTPWork, c.RowsDomains)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			old, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, ManifestName), old, 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := ReadManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, m.Counts)
			again := t.TempDir()
			if err := WriteManifest(again, m); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(again, ManifestName))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(old) {
				t.Errorf("written again (-want +got):\n%s", lineDiff(strings.Split(string(old), "\n"), strings.Split(string(got), "\n")))
			}
		})
	}
}

func TestCountsJSON(t *testing.T) {
	tests := []struct {
		name   string
		counts Counts
		json   string
	}{
		{"zero: a new scan's first manifest", Counts{}, `{}`},
		{
			"totals are written when zero, counts of rows are not",
			Counts{Totals: &Totals{Entries: 2, Domains: 1, Invalid: 1}, RowsDomains: 2},
			`{"dns_queries":0,"domains":1,"duplicates":0,"entries":2,"excluded":0,"input_errors":0,"input_lines":0,"invalid":1,"rows_domains":2}`,
		},
		{
			"work of DNSSEC and SMTP",
			Counts{DNSSECWork: &DNSSECWork{DNSSECVerifications: 5}, SMTPWork: &SMTPWork{}},
			`{"dnssec_cache_hits":0,"dnssec_cache_misses":0,"dnssec_signature_hits":0,"dnssec_verifications":5,"endpoints_probed":0}`,
		},
		{
			"by value, a value new in its vocabulary included",
			Counts{
				Failures: map[string]int64{"timeout": 2}, DANE: map[string]int64{string(DANENone): 1},
				HostFailures: map[string]int64{"servfail": 1}, HostsTLSA: map[string]int64{string(TLSAStateUnusable): 1},
				HostsDANE:        map[string]int64{string(DANETLSALookupFailed): 3},
				EndpointFailures: map[string]int64{"excluded": 1}, EndpointsDANE: map[string]int64{string(DANENotProbed): 1},
			},
			`{"dane_none":1,"endpoint_dane_not_probed":1,"endpoint_failure_excluded":1,"failure_timeout":2,"host_failure_servfail":1,"hosts_dane_tlsa_lookup_failed":3,"hosts_tlsa_unusable":1}`,
		},
		{"names of another version", Counts{Other: map[string]int64{"future_count": 7}, TLSRPT: 1}, `{"future_count":7,"tlsrpt":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.counts)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.json {
				t.Errorf("Marshal (-want +got):\n-%s\n+%s", tt.json, b)
			}
			var back Counts
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if d := diff(tt.counts, back); d != "" {
				t.Errorf("Unmarshal %s", d)
			}
		})
	}
}
