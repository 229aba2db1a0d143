package analysis

import (
	"context"
	"testing"
	"time"
)

// TestStaleAfterRollover analyses an endpoint that fails with no_match
// now, beside the previous scan of the same domain: only when it passed
// then with the same TLSA records and presents another leaf now is it
// stale_after_rollover, in the near misses and in the check.
func TestStaleAfterRollover(t *testing.T) {
	const recordB = "3 1 1 " + hexB
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		// prev changes the previous scan's fixture (nil: no previous
		// dataset); cur the latest one, which fails with no_match and
		// presents leafNew.
		prev, cur    func(f *fixture)
		wantEvidence []string
		wantNearMiss []NearMissCount
		wantExamples []string
	}{
		{
			name:         "rolled over",
			prev:         func(f *fixture) {},
			wantEvidence: []string{"192.0.2.1 passed in scan old with the same TLSA records (matched by " + recordB + "); another leaf certificate now"},
			wantNearMiss: []NearMissCount{{Reason: "no_match", NearMiss: "stale_after_rollover", Count: 1}},
			wantExamples: []string{"d.example"},
		},
		{
			name:         "rolled over, records in another order",
			prev:         func(f *fixture) {},
			cur:          func(f *fixture) { f.h.TLSA.Records = []string{f.h.TLSA.Records[1], f.h.TLSA.Records[0]} },
			wantEvidence: []string{"192.0.2.1 passed in scan old with the same TLSA records (matched by " + recordB + "); another leaf certificate now"},
			wantNearMiss: []NearMissCount{{Reason: "no_match", NearMiss: "stale_after_rollover", Count: 1}},
			wantExamples: []string{"d.example"},
		},
		{
			name:         "never matched",
			prev:         func(f *fixture) { f.fail("fail", "no_match") },
			wantNearMiss: []NearMissCount{{Reason: "no_match", NearMiss: "none", Count: 1}},
		},
		{
			name:         "TLSA records changed",
			prev:         func(f *fixture) {},
			cur:          func(f *fixture) { f.h.TLSA.Records = []string{"3 1 1 " + hexA, "3 1 1 " + hexA[2:] + "00"} },
			wantNearMiss: []NearMissCount{{Reason: "no_match", NearMiss: "none", Count: 1}},
		},
		{
			name:         "same leaf as before",
			prev:         func(f *fixture) { f.eps[0].Chain[0] = leafNew },
			wantNearMiss: []NearMissCount{{Reason: "no_match", NearMiss: "none", Count: 1}},
		},
		{
			name:         "another certificate type before",
			prev:         func(f *fixture) { f.eps[0].SigAlgs = "rsa" },
			wantNearMiss: []NearMissCount{{Reason: "no_match", NearMiss: "none", Count: 1}},
		},
		{
			name:         "single dataset",
			wantNearMiss: []NearMissCount{{Reason: "no_match", NearMiss: "none", Count: 1}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := goodFixture("d.example")
			cur.rollOver()
			if tc.cur != nil {
				tc.cur(cur)
			}
			cur.scan("new")
			dir := t.TempDir()
			writeFixtures(t, dir, []*fixture{cur}, fixtureManifest("new", t0.AddDate(0, 1, 0)))
			dirs := []string{dir}
			if tc.prev != nil {
				prev := cur.prev
				prev.eps[0].DANEMatchRecord = 1
				tc.prev(prev)
				prev.scan("old")
				prevDir := t.TempDir()
				writeFixtures(t, prevDir, []*fixture{prev}, fixtureManifest("old", t0))
				dirs = append(dirs, prevDir)
			}
			a, err := Analyze(context.Background(), dirs)
			if err != nil {
				t.Fatal(err)
			}
			var evidence []string
			for _, x := range a.Findings {
				if x.Check == "dane-stale-after-rollover" {
					evidence = append(evidence, x.Address+" "+x.Evidence)
				}
			}
			if d := diff(tc.wantEvidence, evidence); d != "" {
				t.Errorf("findings %s", d)
			}
			if d := diff(tc.wantNearMiss, a.Report.NearMisses); d != "" {
				t.Errorf("near misses %s", d)
			}
			examples := []string{}
			for _, c := range a.Report.Checks {
				if c.ID == "dane-stale-after-rollover" {
					examples = c.Examples
				}
			}
			if tc.wantExamples == nil {
				tc.wantExamples = []string{}
			}
			if d := diff(tc.wantExamples, examples); d != "" {
				t.Errorf("examples %s", d)
			}
		})
	}
}
