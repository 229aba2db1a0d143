package dnssec

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// serverNames returns the names that exist in the test zone, empty
// non-terminals included.
func serverNames() []string {
	names := []string{"c.example.", "w.example."}
	for _, n := range exampleZone() {
		names = append(names, n.name)
	}
	return names
}

// serverClosestEncloser returns the closest encloser of qname in the test
// zone, as an authoritative server finds it.
func serverClosestEncloser(t *testing.T, qname string) string {
	t.Helper()
	names := serverNames()
	labels := dns.SplitDomainName(qname)
	for i := range labels {
		cand := dns.Fqdn(joinLabels(labels[i:]))
		if slices.Contains(names, cand) {
			return cand
		}
	}
	t.Fatalf("no closest encloser for %q", qname)
	return ""
}

// joinLabels joins labels into a name without the trailing dot.
func joinLabels(l []string) string { return strings.Join(l, ".") }

// nonexistentNames returns names that do not exist in the test zone and
// are neither below a delegation nor matched by the wildcard.
func nonexistentNames() []string {
	names := []string{"x.c.example.", "y.b.c.example.", "z.a.example.", "q.mail.example.", "p.q.c.example.", "0.example.", "zzzz.example.", "b.example.", "f.example.", "wwx.example.", "x.www.example."}
	for i := range 40 {
		names = append(names, fmt.Sprintf("n%d.example.", i), fmt.Sprintf("n%d.c.example.", i))
	}
	return names
}

// dropEach returns the proofs made by leaving out each distinct record of
// proof in turn.
func dropEach[T comparable](proof []T) [][]T {
	var out [][]T
	for i := range proof {
		if slices.Index(proof, proof[i]) != i {
			continue // a duplicate, dropped with its first occurrence
		}
		var rest []T
		for _, r := range proof {
			if r != proof[i] {
				rest = append(rest, r)
			}
		}
		out = append(out, rest)
	}
	return out
}

func TestDenialNSECServerProofs(t *testing.T) {
	chain := exampleNSECChain()
	zone := exampleZone()
	// cover returns the NSEC owned by the last zone name before name.
	cover := func(t *testing.T, name string) *dns.NSEC {
		t.Helper()
		owner := zone[len(zone)-1].name // wrap-around
		for _, n := range zone {
			if canonicalLess(n.name, name) {
				owner = n.name
			}
		}
		return chain[owner]
	}
	for _, q := range nonexistentNames() {
		t.Run(q, func(t *testing.T) {
			ce := serverClosestEncloser(t, q)
			proof := []*dns.NSEC{cover(t, q), cover(t, "*."+ce)}
			checkDenial(t, DenialNSEC("example.", q, dns.TypeA, dns.RcodeNameError, proof), Secure, ReasonNSECDenial, "example.")
			for _, rest := range dropEach(proof) {
				if got := DenialNSEC("example.", q, dns.TypeA, dns.RcodeNameError, rest); got.Status != Bogus {
					t.Errorf("proof without one record: %+v, want bogus", got)
				}
			}
			if got := DenialNSEC("example.", q, dns.TypeA, dns.RcodeSuccess, proof); got.Status != Bogus {
				t.Errorf("the NXDOMAIN proof taken as NODATA: %+v, want bogus", got)
			}
		})
	}
}

func TestDenialNSEC3ServerProofs(t *testing.T) {
	full := newTestNSEC3Chain(t, nsec3Options{})
	for _, q := range nonexistentNames() {
		t.Run(q, func(t *testing.T) {
			ce := serverClosestEncloser(t, q)
			labels := dns.SplitDomainName(q)
			nc := dns.Fqdn(joinLabels(labels[len(labels)-dns.CountLabel(ce)-1:]))
			proof := []*dns.NSEC3{full.match(t, ce), full.cover(t, nc), full.cover(t, "*."+ce)}
			checkDenial(t, DenialNSEC3("example.", q, dns.TypeA, dns.RcodeNameError, proof), Secure, ReasonNSEC3Denial, "example.")
			for _, rest := range dropEach(proof) {
				if got := DenialNSEC3("example.", q, dns.TypeA, dns.RcodeNameError, rest); got.Status != Bogus {
					t.Errorf("proof without one record: %+v, want bogus", got)
				}
			}
			if got := DenialNSEC3("example.", q, dns.TypeA, dns.RcodeSuccess, proof); got.Status != Bogus {
				t.Errorf("the NXDOMAIN proof taken as NODATA: %+v, want bogus", got)
			}
		})
	}
}

func TestDenialServerNoData(t *testing.T) {
	chain := exampleNSECChain()
	full := newTestNSEC3Chain(t, nsec3Options{})
	for _, n := range serverNames() {
		if n == "*.w.example." || n == "d.example." || n == "e.example." || n == "www.example." {
			continue // the wildcard, the delegations and the CNAME have their own cases
		}
		t.Run(n, func(t *testing.T) {
			// A type no name of the test zone has.
			checkDenial(t, DenialNSEC3("example.", n, dns.TypeSRV, dns.RcodeSuccess, []*dns.NSEC3{full.match(t, n)}), Secure, ReasonNSEC3Denial, "example.")
			if rr, ok := chain[n]; ok {
				checkDenial(t, DenialNSEC("example.", n, dns.TypeSRV, dns.RcodeSuccess, []*dns.NSEC{rr}), Secure, ReasonNSECDenial, "example.")
			}
			if got := DenialNSEC3("example.", n, dns.TypeSRV, dns.RcodeNameError, []*dns.NSEC3{full.match(t, n)}); got.Status != Bogus {
				t.Errorf("NXDOMAIN for an existing name: %+v, want bogus", got)
			}
		})
	}
}
