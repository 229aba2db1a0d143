package datasets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzFormats are the formats FuzzInput chooses from by number.
var fuzzFormats = []Format{FormatAuto, FormatPlain, FormatCSV, FormatZone}

// maxFuzzEntries bounds the entries FuzzInput reads from one input: a
// zone file's $GENERATE makes thousands of records from one line.
const maxFuzzEntries = 100_000

// FuzzInput reads arbitrary bytes as an input list, in each format, plain
// and gzipped. Every entry must have either a normalised Domain (which
// NormalizeDomain gives for its Raw and keeps as it is) or an Err; Raw is
// valid UTF-8 and bounded; line numbers grow and stay within the file;
// ranks come only from CSV and are not negative; errors stick; at the end
// the summary holds the file's size, SHA-256 and line count; and the
// gzipped input reads the same as the plain one. Seeds are below and in
// testdata/fuzz/FuzzInput.
func FuzzInput(f *testing.F) {
	for _, name := range []string{"plain.txt", "tranco.csv", "example.zone"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(0), "", false)
	}
	f.Add([]byte("\xef\xbb\xbfExample.COM.\r\nbücher.de # IDN\n\n1.2.3.4\na..b\n_dmarc.example\n"), uint8(1), "", true)
	f.Add([]byte("rank,domain\n1,google.com\n\"2\",\"a.example\"\n-3,b.example\nx,c.example\n4,\n5\n"), uint8(2), "", false)
	f.Add([]byte("@ SOA ns h 1 2 3 4 5\n@ NS ns\nsub NS ns.sub\nsub NS ns2.sub\nns.sub A 192.0.2.1\n$GENERATE 1-3 d$ NS ns\n"), uint8(3), "nl.", false)
	f.Add([]byte(strings.Repeat("x", MaxLineLength+10)+"\nok.example\n"), uint8(0), "", false)
	f.Fuzz(func(t *testing.T, data []byte, format uint8, origin string, gz bool) {
		opts := InputOptions{Format: fuzzFormats[int(format)%len(fuzzFormats)], Origin: origin}
		dir := t.TempDir()
		plain := readInput(t, filepath.Join(dir, "input"), data, data, opts)
		if !gz || bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			return
		}
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(data)
		zw.Close()
		zipped := readInput(t, filepath.Join(dir, "input.gz"), b.Bytes(), data, opts)
		if d := diff(plain, zipped); d != "" {
			t.Fatalf("gzipped input reads differently (-plain +gzipped):\n%s", d)
		}
	})
}

// inputRead is what FuzzInput compares between the plain and the gzipped
// reading of an input.
type inputRead struct {
	Opened  bool
	Format  Format
	Entries []entry
	EOF     bool
	Lines   int64
}

// readInput writes stored to path, reads it as an input list whose text is
// text, checks the invariants of FuzzInput and returns what it read.
func readInput(t *testing.T, path string, stored, text []byte, opts InputOptions) inputRead {
	t.Helper()
	if err := os.WriteFile(path, stored, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenInputWith(path, opts)
	if err != nil {
		if !strings.HasPrefix(err.Error(), "open input "+path+": ") {
			t.Fatalf("open error does not name the input: %v", err)
		}
		return inputRead{}
	}
	defer r.Close()
	got := inputRead{Opened: true, Format: r.Format()}
	switch got.Format {
	case FormatPlain, FormatCSV, FormatZone:
	default:
		t.Fatalf("format %q", got.Format)
	}
	if opts.Format != FormatAuto && got.Format != opts.Format {
		t.Fatalf("format %q read as %q", opts.Format, got.Format)
	}
	var line int64
	for len(got.Entries) < maxFuzzEntries {
		e, err := r.Next()
		if err != nil {
			if e, again := r.Next(); e != (Entry{}) || again != err {
				t.Fatalf("error %v, then %+v, %v", err, e, again)
			}
			got.EOF = errors.Is(err, io.EOF)
			if !got.EOF && !strings.HasPrefix(err.Error(), "read input "+path) && !strings.HasPrefix(err.Error(), "parse zone: ") {
				t.Fatalf("error does not say what failed: %v", err)
			}
			break
		}
		checkEntry(t, path, got.Format, e)
		if e.Line < line {
			t.Fatalf("line %d after line %d", e.Line, line)
		}
		line = e.Line
		g := entry{Line: e.Line, Raw: e.Raw, Rank: -1, Domain: e.Domain}
		if e.Rank != nil {
			g.Rank = *e.Rank
		}
		if e.Err != nil {
			g.Err = e.Err.Error()
		}
		got.Entries = append(got.Entries, g)
	}
	if !got.EOF {
		return got
	}
	s := r.Summary()
	sum := sha256.Sum256(stored)
	if s.Path != path || s.Format != got.Format || s.Bytes != int64(len(stored)) || s.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("summary %+v of %d bytes", s, len(stored))
	}
	if line > s.Lines {
		t.Fatalf("an entry on line %d of %d", line, s.Lines)
	}
	if got.Format != FormatZone {
		lines := int64(bytes.Count(text, []byte("\n")))
		if len(text) > 0 && text[len(text)-1] != '\n' {
			lines++
		}
		if s.Lines != lines || int64(len(got.Entries)) > lines {
			t.Fatalf("%d entries, %d lines counted, %d in the text", len(got.Entries), s.Lines, lines)
		}
	}
	got.Lines = s.Lines
	return got
}

// checkEntry fails unless e is a well-formed entry of the input at path.
func checkEntry(t *testing.T, path string, format Format, e Entry) {
	t.Helper()
	if e.File != path || e.Line < 1 {
		t.Fatalf("entry of %s line %d", e.File, e.Line)
	}
	if !utf8.ValidString(e.Raw) || len(e.Raw) > 3*MaxLineLength {
		t.Fatalf("raw text %q (%d bytes)", e.Raw, len(e.Raw))
	}
	if (e.Domain == "") == (e.Err == nil) {
		t.Fatalf("entry with domain %q and error %v", e.Domain, e.Err)
	}
	if e.Err == nil {
		if d, err := NormalizeDomain(e.Raw); d != e.Domain || err != nil {
			t.Fatalf("raw %q gives domain %q, normalised %q, %v", e.Raw, e.Domain, d, err)
		}
		if d, err := NormalizeDomain(e.Domain); d != e.Domain || err != nil {
			t.Fatalf("domain %q normalises to %q, %v", e.Domain, d, err)
		}
	}
	if e.Rank != nil && (format != FormatCSV || *e.Rank < 0) {
		t.Fatalf("rank %d in a %s input", *e.Rank, format)
	}
}
