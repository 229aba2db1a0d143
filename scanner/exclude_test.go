package scanner

import (
	"net/netip"
	"strings"
	"testing"
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
