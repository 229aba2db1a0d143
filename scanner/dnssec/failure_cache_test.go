package dnssec

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestFailureCache: when the DS lookup of a zone fails, the RRsets below
// it do not each ask again for FailureTTL (RFC 9520), the failure is asked
// again once FailureTTL passed, a negative FailureTTL turns the cache off,
// and a walk cut short by its ctx is not remembered.
func TestFailureCache(t *testing.T) {
	goodDS := query{"good.test.", dns.TypeDS}
	names := []query{{"www.good.test.", dns.TypeA}, {"www.good.test.", dns.TypeAAAA}, {"alias.good.test.", dns.TypeA}}
	validate := func(t *testing.T, w *world, v *Validator, ctx context.Context, q query) Result {
		t.Helper()
		msg, err := w.Fetch(context.Background(), q.name, q.qtype)
		if err != nil {
			t.Fatal(err)
		}
		return v.Validate(ctx, q.name, q.qtype, msg)
	}
	tests := []struct {
		name    string
		ttl     time.Duration
		advance time.Duration // clock moved between the validations
		want    int           // DS lookups of good.test. for the three names
	}{
		{name: "default TTL", want: 1},
		{name: "expired between the names", ttl: time.Second, advance: 2 * time.Second, want: 3},
		// The alias walks twice: for its CNAME and for the target.
		{name: "caching off", ttl: -1, want: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.fail[goodDS] = true
			clock := testNow
			v := w.validator()
			v.FailureTTL, v.Clock = tt.ttl, func() time.Time { return clock }
			for _, q := range names {
				if r := validate(t, w, v, t.Context(), q); r.Status != Indeterminate || r.Reason != ReasonLookupFailed {
					t.Fatalf("%s: %s/%s, want indeterminate/lookup_failed", q.name, r.Status, r.Reason)
				}
				clock = clock.Add(tt.advance)
			}
			if got := w.count(goodDS); got != tt.want {
				t.Errorf("%d DS lookups, want %d", got, tt.want)
			}
		})
	}
	t.Run("ctx ended", func(t *testing.T) {
		w := newWorld(t)
		w.fail[goodDS] = true
		v := w.validator()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		validate(t, w, v, ctx, names[0])
		delete(w.fail, goodDS)
		if r := validate(t, w, v, t.Context(), names[0]); r.Status != Secure {
			t.Errorf("after a canceled walk: %s/%s (%s), want secure", r.Status, r.Reason, r.Detail)
		}
	})
	t.Run("recovers after the TTL", func(t *testing.T) {
		w := newWorld(t)
		w.fail[goodDS] = true
		clock := testNow
		v := w.validator()
		v.Clock = func() time.Time { return clock }
		validate(t, w, v, t.Context(), names[0])
		delete(w.fail, goodDS)
		if r := validate(t, w, v, t.Context(), names[0]); r.Status != Indeterminate {
			t.Errorf("within the TTL: %s, want the cached indeterminate", r.Status)
		}
		clock = clock.Add(DefaultFailureTTL)
		if r := validate(t, w, v, t.Context(), names[0]); r.Status != Secure {
			t.Errorf("after the TTL: %s/%s, want secure", r.Status, r.Reason)
		}
	})
}
