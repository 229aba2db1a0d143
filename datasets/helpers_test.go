package datasets

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files and SCHEMA.md")

// diff returns "" when want and got are deeply equal, else a line diff of
// their JSON forms in (-want +got) style.
func diff(want, got any) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	w, g := pretty(want), pretty(got)
	if w == g {
		return fmt.Sprintf("(-want +got): equal as JSON, different in Go:\n-%#v\n+%#v", want, got)
	}
	return "(-want +got):\n" + lineDiff(strings.Split(w, "\n"), strings.Split(g, "\n"))
}

// pretty returns v as indented JSON, or in Go syntax if it does not marshal.
func pretty(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

// lineDiff returns the lines of a and b with "-" for lines only in a, "+"
// for lines only in b and " " for common lines (longest common subsequence).
func lineDiff(a, b []string) string {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			out.WriteString("  " + a[i] + "\n")
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			out.WriteString("+ " + b[j] + "\n")
			j++
		default:
			out.WriteString("- " + a[i] + "\n")
			i++
		}
	}
	return out.String()
}

// golden compares got with the file at path, or rewrites the file with
// -update.
func golden(t *testing.T, path string, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./datasets -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s is out of date (run go test ./datasets -update) (-want +got):\n%s",
			path, lineDiff(strings.Split(string(want), "\n"), strings.Split(got, "\n")))
	}
}
