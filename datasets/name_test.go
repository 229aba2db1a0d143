package datasets

import (
	"strings"
	"testing"
)

func TestNormalizeDomain(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	tests := []struct {
		in      string
		want    string
		wantErr string // substring of the error; "" for no error
	}{
		{in: "Example.COM.", want: "example.com"},
		{in: "bücher.de", want: "xn--bcher-kva.de"},
		{in: "BÜCHER.de", want: "xn--bcher-kva.de"},
		{in: "xn--bcher-kva.de", want: "xn--bcher-kva.de"},
		{in: "XN--BCHER-KVA.DE", want: "xn--bcher-kva.de"},
		{in: "  a.b \r", want: "a.b"},
		{in: "com", want: "com"},
		{in: "ab--cd.example", want: "ab--cd.example"},
		{in: "3com.com", want: "3com.com"},
		{in: "例え.テスト", want: "xn--r8jz45g.xn--zckzah"},
		{in: long63 + ".com", want: long63 + ".com"},
		{in: strings.Repeat("a.", 126) + "b", want: strings.Repeat("a.", 126) + "b"},
		{in: "", wantErr: "empty name"},
		{in: " \t ", wantErr: "empty name"},
		{in: ".", wantErr: "root"},
		{in: "a..b", wantErr: "empty label"},
		{in: ".a.b", wantErr: "empty label"},
		{in: "a.b..", wantErr: "empty label"},
		{in: "-a.com", wantErr: "starts with a hyphen"},
		{in: "a-.com", wantErr: "ends with a hyphen"},
		{in: "1.2.3.4", wantErr: "IP address"},
		{in: "::1", wantErr: "IP address"},
		{in: "[2001:db8::1]", wantErr: "IP address"},
		{in: "1.2.3", wantErr: "last label is numeric"},
		{in: "a" + long63 + ".com", wantErr: "more than 63"},
		{in: strings.Repeat("a.", 127) + "b", wantErr: "more than 253"},
		{in: "exa mple.com", wantErr: `character ' '`},
		{in: "*.example.com", wantErr: `character '*'`},
		{in: "_dmarc.example.com", wantErr: `character '_'`},
		{in: "a/b.com", wantErr: `character '/'`},
		{in: "xn--zz.com", wantErr: "not a valid A-label"},
		{in: "bü cher.de", wantErr: "not a valid internationalised domain name"},
		{in: "ex\x00ample.com", wantErr: `character '\x00'`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeDomain(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("NormalizeDomain(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				if got != "" {
					t.Errorf("NormalizeDomain(%q) returned %q with its error, want \"\"", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}
