package analysis

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/danescan/danescan/datasets"
)

// noTLSAFixture is a domain whose only MX host has no TLSA records (a
// secure denial): DANE does not apply to it.
func noTLSAFixture(name string) *fixture {
	f := goodFixture(name)
	f.h.TLSA.Records, f.h.TLSA.Failure, f.h.TLSA.DNSSECReason = nil, "nodata", "nsec_denial"
	f.h.TLSAState, f.h.DANEStatus, f.h.DANEReason = datasets.TLSAStateNoTLSA, datasets.DANENotApplicable, f.eps[0].Address+": "
	f.eps[0].TLSAState, f.eps[0].DANEStatus, f.eps[0].TLSAUnusable = datasets.TLSAStateNoTLSA, datasets.DANENotApplicable, nil
	f.d.MXHostsWithTLSA, f.d.TLSAAllMX, f.d.DANE, f.d.MXHostsPassing = 0, false, datasets.DANENone, 0
	f.d.DANEReason = f.h.Host + ": " + string(datasets.DANENotApplicable)
	return f
}

// tlsaFailedFixture is a domain whose only MX host's TLSA RRset is bogus
// (an expired signature, two records): tlsa_state unusable, and its
// endpoint says tlsa_lookup_failed, or not_applicable as scans before that
// status wrote (legacy).
func tlsaFailedFixture(name string, legacy bool) *fixture {
	f := goodFixture(name)
	status := datasets.DANETLSALookupFailed
	if legacy {
		status = datasets.DANENotApplicable
	}
	f.h.TLSA.DNSSEC, f.h.TLSA.DNSSECReason = datasets.DNSSECBogus, "signature_expired"
	f.h.TLSAState, f.h.DANEStatus, f.h.DANEReason = datasets.TLSAStateUnusable, status, f.eps[0].Address+": signature_expired"
	f.eps[0].TLSAState, f.eps[0].DANEStatus, f.eps[0].DANEReason, f.eps[0].TLSAUnusable = datasets.TLSAStateUnusable, status, "signature_expired", nil
	f.d.MXHostsWithTLSA, f.d.TLSAAllMX, f.d.DANE, f.d.MXHostsPassing = 0, false, datasets.DANENone, 0
	f.d.DANEReason = f.h.Host + ": " + string(status) + " signature_expired"
	return f
}

// TestTLSALookupFailedIsFailing analyses a well-run DANE domain, a domain
// without TLSA and a domain whose only MX host's TLSA lookup is bogus: the
// last is counted as failing DANE in the funnel, in every counting unit
// and in its provider's state, never as having no DANE.
func TestTLSALookupFailedIsFailing(t *testing.T) {
	wantFunnel := []Stage{
		{"domains scanned", 3},
		{"resolved", 3},
		{"with MX (null MX apart)", 3},
		{"MX RRset secure", 3},
		{"every MX host with secure TLSA or a failed TLSA lookup", 2},
		{"every MX endpoint passing DANE", 1},
		{"(beside) some but not all MX hosts with secure TLSA or a failed TLSA lookup", 0},
		{"(beside) a failed TLSA lookup at some MX host (DANE senders defer)", 1},
		{"(beside) DANE-passing MX hosts behind an insecure MX RRset", 0},
		{"(beside) null MX", 0},
	}
	wantUnits := []UnitCount{
		{Unit: "domain", Failing: 1, Applicable: 2, Percent: 50},
		{Unit: "mx_host", Failing: 1, Applicable: 2, Percent: 50},
		{Unit: "endpoint", Failing: 1, Applicable: 2, Percent: 50},
		{Unit: "tlsa_rrset", Failing: 1, Applicable: 2, Percent: 50},
		{Unit: "record", Failing: 2, Applicable: 4, Percent: 50},
	}
	wantStates := map[string]string{
		"good.example":    "every MX host passes DANE",
		"no-tlsa.example": "no DANE",
		"failed.example":  "TLSA lookup fails, DANE fails",
	}
	for _, tc := range []struct {
		name   string
		legacy bool
	}{
		{"tlsa_lookup_failed", false},
		{"not_applicable before that status", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFixtures(t, dir, []*fixture{goodFixture("good.example"), noTLSAFixture("no-tlsa.example"), tlsaFailedFixture("failed.example", tc.legacy)},
				fixtureManifest("fixture", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)))
			a, err := Analyze(context.Background(), []string{dir})
			if err != nil {
				t.Fatal(err)
			}
			r := a.Report
			if d := diff(wantFunnel, r.Funnel); d != "" {
				t.Errorf("funnel %s", d)
			}
			if d := diff(wantUnits, r.Units); d != "" {
				t.Errorf("units %s", d)
			}
			states := map[string]string{}
			for _, p := range r.Providers {
				states[p.Provider] = p.State
			}
			if d := diff(wantStates, states); d != "" {
				t.Errorf("provider states %s", d)
			}
			var unusable []string
			for _, x := range a.Findings {
				if x.Check == "tlsa-lookup-unusable" {
					unusable = append(unusable, x.Host+" "+x.Evidence)
				}
			}
			if d := diff([]string{"mx.failed.example bogus signature_expired"}, unusable); d != "" {
				t.Errorf("tlsa-lookup-unusable findings %s", d)
			}
		})
	}
}

// diff returns "" when want and got are deeply equal, else the first line
// where their indented JSON forms differ, in (-want +got) style.
func diff(want, got any) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	w, _ := json.MarshalIndent(want, "", "  ")
	g, _ := json.MarshalIndent(got, "", "  ")
	return "(-want +got): " + firstDiff(string(w), string(g))
}

// TestTLSALookupFailedChanges analyses two scans of a domain whose MX
// host's TLSA lookup fails in one of them: the host newly fails DANE when
// the lookup breaks, and is fixed when it passes again.
func TestTLSALookupFailedChanges(t *testing.T) {
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	good := func() *fixture { return goodFixture("failed.example") }
	failed := func() *fixture { return tlsaFailedFixture("failed.example", false) }
	for _, tc := range []struct {
		name     string
		old, cur func() *fixture
		want     Changes
	}{
		{"lookup breaks", good, failed, Changes{From: "old", To: "new", LostDANE: 1, NewFailingHosts: 1,
			GainedExamples: []string{}, LostExamples: []string{"failed.example"}, NewFailingExamples: []string{"mx.failed.example"}, FixedExamples: []string{}}},
		{"lookup mended", failed, good, Changes{From: "old", To: "new", GainedDANE: 1, FixedHosts: 1,
			GainedExamples: []string{"failed.example"}, LostExamples: []string{}, NewFailingExamples: []string{}, FixedExamples: []string{"mx.failed.example"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, cur := tc.old(), tc.cur()
			old.scan("old")
			cur.scan("new")
			oldDir, curDir := t.TempDir(), t.TempDir()
			writeFixtures(t, oldDir, []*fixture{old}, fixtureManifest("old", t0))
			writeFixtures(t, curDir, []*fixture{cur}, fixtureManifest("new", t0.AddDate(0, 1, 0)))
			a, err := Analyze(context.Background(), []string{curDir, oldDir})
			if err != nil {
				t.Fatal(err)
			}
			if a.Report.Changes == nil {
				t.Fatal("no changes in a report of two scans")
			}
			if d := diff(tc.want, *a.Report.Changes); d != "" {
				t.Errorf("changes %s", d)
			}
		})
	}
}
