package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner"
)

func TestProgressTotal(t *testing.T) {
	tests := []struct {
		name string
		p    progress
		size int64
		want int64
	}{
		{"stream being read", progress{entries: 500, bytesRead: 8000, done: 100}, -1, -1},
		{"stream read", progress{readDone: true, entries: 500, bytesRead: 8000, done: 400}, -1, 500},
		{"file not read yet", progress{}, 1000, 1},
		{"file a quarter read", progress{entries: 40, bytesRead: 250, done: 10}, 1000, 160},
		{"estimate below done", progress{entries: 40, bytesRead: 1000, done: 40}, 1000, 41},
		{"file grown while read", progress{entries: 40, bytesRead: 2000, done: 10}, 1000, 40},
		{"file read", progress{readDone: true, entries: 90, bytesRead: 1000, done: 90}, 1000, 90},
		{"reading stopped early", progress{readDone: true, entries: 50, bytesRead: 500, done: 50}, 1000, 100},
		{"empty file", progress{readDone: true}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.total(tt.size); got != tt.want {
				t.Errorf("%+v.total(%d) = %d, want %d", tt.p, tt.size, got, tt.want)
			}
		})
	}
}

func TestInputSize(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.txt", []byte("a.test\n"))
	b := writeFile(t, dir, "b.txt", []byte("b.test\nc.test\n"))
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		paths []string
		want  int64
	}{
		{"regular files", []string{a, b}, 7 + 14},
		{"stdin", []string{a, "-"}, -1},
		{"fifo, not opened", []string{fifo, a}, -1},
		{"missing", []string{filepath.Join(dir, "nope")}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var inputs []scanner.Input
			for _, p := range tt.paths {
				inputs = append(inputs, scanner.Input{Path: p})
			}
			if got := inputSize(inputs); got != tt.want {
				t.Errorf("inputSize(%q) = %d, want %d", tt.paths, got, tt.want)
			}
		})
	}
}

// TestScanStreams scans inputs that can be read only once, with the
// progress on: a pipe named as a shell's <(...) names it, and a FIFO.
// Every line must get its row (the progress once read a first pass of its
// own, leaving the scan an empty pipe or a FIFO without a writer).
func TestScanStreams(t *testing.T) {
	t.Parallel()
	w, addr := startLab(t, 100)
	lines := w.InputLines()
	plain := []byte(strings.Join(lines, "\n") + "\n")
	gz := gzipBytes(t, plain)
	// pipe returns a pipe's reading end as a shell's <(...) names it, and
	// writes data to it.
	pipe := func(t *testing.T, dir string, data []byte) string {
		r, wr, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		go func() {
			wr.Write(data)
			wr.Close()
		}()
		return fmt.Sprintf("/dev/fd/%d", r.Fd())
	}
	// fifo makes a FIFO in dir and writes data to it once it is opened.
	fifo := func(t *testing.T, dir string, data []byte) string {
		p := filepath.Join(dir, "fifo")
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
		go func() {
			// Blocks until the scan opens the FIFO.
			if wr, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
				wr.Write(data)
				wr.Close()
			}
		}()
		return p
	}
	tests := []struct {
		name  string
		input func(t *testing.T, dir string, data []byte) string // returns the path to scan
		data  []byte
	}{
		{"pipe as /dev/fd/N", pipe, plain},
		{"gzip through a pipe", pipe, gz},
		{"fifo", fifo, plain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			in := tt.input(t, tmp, tt.data)
			out := filepath.Join(tmp, "out")
			flags := slices.DeleteFunc(fastScanFlags(addr), func(s string) bool { return s == "--quiet" })
			args := append([]string{"scan", in, "--out", out}, flags...)
			type result struct {
				code           int
				stdout, stderr string
			}
			ran := make(chan result, 1) // written once by the goroutine, read below
			go func() {
				var r result
				r.code, r.stdout, r.stderr = runCLI(t, args...)
				ran <- r
			}()
			var r result
			select {
			case r = <-ran:
			case <-time.After(2 * time.Minute):
				t.Fatalf("run(%q) still running after 2 minutes: is it waiting for a second writer?", args)
			}
			if r.code != exitOK {
				t.Fatalf("run(%q) = %d; want %d\nstderr:\n%s", args, r.code, exitOK, r.stderr)
			}
			rows := checkDomainRows(t, out, expect(lines, nil))
			checkManifest(t, out, datasets.Input{Path: in, Format: datasets.FormatPlain, SHA256: sha256Hex(tt.data)}, len(rows))
		})
	}
}
