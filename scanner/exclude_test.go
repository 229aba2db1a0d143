package scanner

import (
	"context"
	"maps"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestParseExclude(t *testing.T) {
	x, err := ParseExclude(strings.NewReader(`# never touch
192.0.2.0/24
2001:db8::1   # one address
198.51.100.7
Example.ORG.
`))
	if err != nil {
		t.Fatal(err)
	}
	if x.Len() != 4 {
		t.Errorf("Len = %d, want 4", x.Len())
	}
	addrs := []struct {
		addr string
		want bool
	}{
		{"192.0.2.200", true}, {"192.0.3.1", false}, {"2001:db8::1", true}, {"2001:db8::2", false},
		{"198.51.100.7", true}, {"198.51.100.8", false}, {"::ffff:192.0.2.9", true},
	}
	for _, tc := range addrs {
		if got := x.Address(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("Address(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
	names := []struct {
		name string
		want bool
	}{
		{"example.org", true}, {"mx.example.org", true}, {"example.com", false}, {"notexample.org", false}, {"org", false},
	}
	for _, tc := range names {
		if got := x.Name(tc.name); got != tc.want {
			t.Errorf("Name(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
	var none *Exclude
	if none.Address(netip.MustParseAddr("192.0.2.1")) || none.Name("example.org") || none.Len() != 0 {
		t.Error("a nil Exclude excludes something")
	}
}

func TestParseExcludeErrors(t *testing.T) {
	_, err := ParseExclude(strings.NewReader("192.0.2.0/24\nnot a name!\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("ParseExclude of a bad line = %v, want an error naming line 2", err)
	}
}

// TestExcludedDomain scans a list that names an excluded domain (and a
// name below it): each gets its row with failure excluded and is never
// looked up, and the scan goes on with the other names. It crashed the
// scan before (the row of an invalid name was reused, with no error).
func TestExcludedDomain(t *testing.T) {
	f := newFakeResolver(t, `
ok.test. 300 IN MX 10 mx.ok.test.
mx.ok.test. 300 IN A 192.0.2.1
`)
	addr := f.start(t)
	x, err := ParseExclude(strings.NewReader("secret.test\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Resolvers: []string{addr}, Workers: 4, Timeout: 200 * time.Millisecond, Retries: -1, Exclude: x}
	var mem memSink
	list := writeFile(t, "list.txt", "ok.test\nsecret.test\nmail.secret.test\n")
	man, err := scanMemory(context.Background(), cfg, []Input{{Path: list}}, nil, &mem)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	got := map[string]string{}
	for _, d := range mem.domains {
		got[d.Domain] = d.Failure + " " + d.Error
	}
	want := map[string]string{
		"ok.test":          " ",
		"secret.test":      FailExcluded + " excluded by the exclusion list: not looked up",
		"mail.secret.test": FailExcluded + " excluded by the exclusion list: not looked up",
	}
	if !maps.Equal(got, want) {
		t.Errorf("rows (failure error) = %q, want %q", got, want)
	}
	if man.Counts.Excluded != 2 {
		t.Errorf("manifest excluded = %d, want 2", man.Counts.Excluded)
	}
	f.asked.Range(func(name, _ any) bool {
		if strings.HasSuffix(name.(string), "secret.test.") {
			t.Errorf("an excluded name was looked up: %s", name)
		}
		return true
	})
}

// An IPv4-mapped prefix excludes the IPv4 addresses it maps (found by
// FuzzParseExclude: Address unmaps the address, so the prefix as written
// matched nothing).
func TestParseExcludeMappedPrefix(t *testing.T) {
	x, err := ParseExclude(strings.NewReader("::ffff:192.0.2.0/120\n::ffff:198.51.100.7/128\n"))
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{
		"192.0.2.1": true, "::ffff:192.0.2.255": true, "198.51.100.7": true,
		"192.0.3.1": false, "198.51.100.8": false, "::192.0.2.1": false,
	} {
		if got := x.Address(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Address(%s) = %v, want %v", addr, got, want)
		}
	}
}
