package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestReplaceOnFile (issue 11, defect 8): an --out that is a file is
// refused with one clear line and exit 2, with and without --replace, and
// the file is left alone.
func TestReplaceOnFile(t *testing.T) {
	dir := t.TempDir()
	list := writeFile(t, dir, "list.txt", []byte("example.com\n"))
	file := writeFile(t, dir, "out-file", []byte("not a dataset\n"))
	for _, replace := range []bool{false, true} {
		t.Run(fmt.Sprintf("replace=%v", replace), func(t *testing.T) {
			args := append([]string{"scan", list, "--out", file}, fastScanFlags("127.0.0.1:1")...)
			if replace {
				args = append(args, "--replace")
			}
			code, _, stderr := runCLI(t, args...)
			line := strings.TrimSpace(stderr)
			if code != exitUsage || strings.Contains(line, "\n") || !strings.Contains(line, file+" is not a directory") || strings.Contains(line, "unlinkat") {
				t.Errorf("exit %d, stderr %q; want %d and one line saying %s is not a directory", code, stderr, exitUsage, file)
			}
			if data, err := os.ReadFile(file); err != nil || string(data) != "not a dataset\n" {
				t.Errorf("the file was changed: %q, %v", data, err)
			}
		})
	}
}
