package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/danescan/danescan/datasets"
)

// TestScanDNSSECFlags checks --dnssec and --trust-anchor: what the manifest
// records, what the summary shows, and the errors before scanning.
func TestScanDNSSECFlags(t *testing.T) {
	t.Parallel()
	w, addr := startLab(t, 50)
	dir := t.TempDir()
	list := writeFile(t, dir, "list.txt", []byte(strings.Join(w.InputLines(), "\n")+"\n"))
	anchor := writeFile(t, dir, "anchor.txt", []byte("; a private root\n. 3600 IN DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n"))
	badAnchor := writeFile(t, dir, "bad.txt", []byte("example. 3600 IN A 192.0.2.1\n"))

	tests := []struct {
		name        string
		flags       []string
		wantEnabled bool
		wantSource  any // manifest config trust_anchors; nil: absent
		wantSummary bool
	}{
		{"default: on with the IANA root", nil, true, "iana-root", true},
		{"off", []string{"--dnssec=false"}, false, nil, false},
		{"private anchor", []string{"--trust-anchor", anchor}, true, anchor, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, "out", string(rune('a'+i)))
			args := append(append([]string{"scan", list, "--out", out}, fastScanFlags(addr)...), tt.flags...)
			code, stdout, stderr := runCLI(t, args...)
			if code != exitOK {
				t.Fatalf("run(%q) = %d; want %d\nstderr:\n%s", args, code, exitOK, stderr)
			}
			m, err := datasets.ReadManifest(out)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Config["dnssec_enabled"]; got != tt.wantEnabled {
				t.Errorf("dnssec_enabled = %v; want %v", got, tt.wantEnabled)
			}
			if got := m.Config["trust_anchors"]; got != tt.wantSource {
				t.Errorf("trust_anchors = %v; want %v", got, tt.wantSource)
			}
			if got := strings.Contains(stdout, "MX secure"); got != tt.wantSummary {
				t.Errorf("summary shows the DNSSEC counts: %v; want %v\n%s", got, tt.wantSummary, stdout)
			}
			hosts, err := datasets.ReadTable[datasets.MXHost](out, datasets.TableMXHosts)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hosts {
				validated := h.A.DNSSEC != datasets.DNSSECNotValidated
				if h.Failure == "" && validated != tt.wantEnabled {
					t.Errorf("%s: a_dnssec %q with dnssec_enabled %v", h.Host, h.A.DNSSEC, tt.wantEnabled)
				}
			}
		})
	}

	errTests := []struct {
		name  string
		flags []string
		want  string
	}{
		{"anchor file missing", []string{"--trust-anchor", filepath.Join(dir, "nope.txt")}, "danescan scan: --trust-anchor: open "},
		{"anchor file holds no anchor", []string{"--trust-anchor", badAnchor}, "danescan scan: --trust-anchor: trust anchors: line 1: A record is not a trust anchor"},
		{"anchor without validation", []string{"--dnssec=false", "--trust-anchor", anchor}, "danescan scan: --trust-anchor needs --dnssec"},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, "never")
			args := append(append([]string{"scan", list, "--out", out}, fastScanFlags(addr)...), tt.flags...)
			code, stdout, stderr := runCLI(t, args...)
			if code != exitUsage {
				t.Errorf("exit code %d; want %d", code, exitUsage)
			}
			if !strings.HasPrefix(stderr, tt.want) || strings.Count(stderr, "\n") != 1 || stdout != "" {
				t.Errorf("stderr = %q; want one line starting %q (stdout %q)", stderr, tt.want, stdout)
			}
			if _, err := datasets.ReadManifest(out); err == nil {
				t.Errorf("a dataset was written although the scan must not start")
			}
		})
	}
}
