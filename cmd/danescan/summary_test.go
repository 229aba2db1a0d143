package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/danescan/danescan/datasets"
)

// TestPrintSummary prints the summary of manifests written by a lab scan
// (testdata/manifest-*.json) and compares it with what danescan printed
// for them when the counts were a map (testdata/manifest-*.summary, the
// peak RSS line left out).
func TestPrintSummary(t *testing.T) {
	for _, name := range []string{"manifest-lab", "manifest-dns-only"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, datasets.ManifestName), data, 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := datasets.ReadManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata", name+".summary"))
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			printSummary(&b, m, "lab-out", 2*time.Second)
			got := regexp.MustCompile(`(?m)^  peak RSS.*\n`).ReplaceAllString(b.String(), "")
			if got != string(want) {
				t.Errorf("summary (-want +got):\n-%s\n+%s", strings.ReplaceAll(string(want), "\n", "\n-"), strings.ReplaceAll(got, "\n", "\n+"))
			}
		})
	}
}
