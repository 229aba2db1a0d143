package datasets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// entry is an Entry in comparable form.
type entry struct {
	Line   int64
	Raw    string
	Rank   int64 // -1 for nil
	Domain string
	Err    string
}

// readAll reads every entry of the input at path and returns them with
// the reader's summary and the error that ended reading (nil at EOF).
func readAll(t *testing.T, path string, opts InputOptions) ([]entry, InputSummary, error) {
	t.Helper()
	r, err := OpenInputWith(path, opts)
	if err != nil {
		t.Fatalf("OpenInputWith(%s): %v", path, err)
	}
	defer r.Close()
	var got []entry
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return got, r.Summary(), nil
		}
		if err != nil {
			return got, r.Summary(), err
		}
		if e.File != path {
			t.Errorf("entry file = %q, want %q", e.File, path)
		}
		g := entry{Line: e.Line, Raw: e.Raw, Rank: -1, Domain: e.Domain}
		if e.Rank != nil {
			g.Rank = *e.Rank
		}
		if e.Err != nil {
			g.Err = e.Err.Error()
			if e.Domain != "" {
				t.Errorf("line %d: Domain %q set beside Err %v", e.Line, e.Domain, e.Err)
			}
		}
		got = append(got, g)
	}
}

// fileSum returns the hex SHA-256 and size of the file at path.
func fileSum(t *testing.T, path string) (string, int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), int64(len(data))
}

// writeTemp writes data to name in a new temporary directory and returns
// its path.
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestInputFormats(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		opts       InputOptions
		want       []entry
		wantFormat Format
		wantLines  int64
	}{
		{
			name:       "plain with BOM, CRLF and comments",
			path:       "testdata/plain.txt",
			wantFormat: FormatPlain,
			wantLines:  11,
			want: []entry{
				{Line: 2, Raw: "example.com", Rank: -1, Domain: "example.com"},
				{Line: 4, Raw: "Example.ORG.", Rank: -1, Domain: "example.org"},
				{Line: 6, Raw: "bücher.de", Rank: -1, Domain: "xn--bcher-kva.de"},
				{Line: 8, Raw: "exa mple.com", Rank: -1, Err: `"exa mple.com": character ' ' is not allowed in a host name (letters, digits and hyphens only)`},
				{Line: 9, Raw: "xn--bcher-kva.ch", Rank: -1, Domain: "xn--bcher-kva.ch"},
				{Line: 10, Raw: "1.2.3.4", Rank: -1, Err: `"1.2.3.4" is an IP address, not a domain name`},
				{Line: 11, Raw: "last.example", Rank: -1, Domain: "last.example"},
			},
		},
		{
			name:       "gzip",
			path:       "testdata/list.txt.gz",
			wantFormat: FormatPlain,
			wantLines:  3,
			want: []entry{
				{Line: 2, Raw: "example.com", Rank: -1, Domain: "example.com"},
				{Line: 3, Raw: "example.net", Rank: -1, Domain: "example.net"},
			},
		},
		{
			name:       "Tranco CSV",
			path:       "testdata/tranco.csv",
			wantFormat: FormatCSV,
			wantLines:  9,
			want: []entry{
				{Line: 1, Raw: "google.com", Rank: 1, Domain: "google.com"},
				{Line: 2, Raw: "Facebook.COM", Rank: 2, Domain: "facebook.com"},
				{Line: 3, Raw: "3,", Rank: 3, Err: "missing domain"},
				{Line: 4, Raw: "bad-rank.com", Rank: -1, Err: `rank "x" is not a number`},
				{Line: 5, Raw: "under_score.example", Rank: 4, Err: `"under_score.example": character '_' is not allowed in a host name (letters, digits and hyphens only)`},
				{Line: 7, Raw: "quoted.example", Rank: 5, Domain: "quoted.example"},
				{Line: 8, Raw: "no-comma-line", Rank: -1, Err: "not a rank,domain line"},
				{Line: 9, Raw: "münchen.de", Rank: 6, Domain: "xn--mnchen-3ya.de"},
			},
		},
		{
			name:       "zone: delegations only, once each",
			path:       "testdata/example.zone",
			wantFormat: FormatZone,
			wantLines:  22,
			want: []entry{
				{Line: 9, Raw: "nic.example.", Rank: -1, Domain: "nic.example"},
				{Line: 12, Raw: "alpha.example.", Rank: -1, Domain: "alpha.example"},
				{Line: 17, Raw: "Beta.example.", Rank: -1, Domain: "beta.example"},
				{Line: 21, Raw: "deep.gamma.example.", Rank: -1, Domain: "deep.gamma.example"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, sum, err := readAll(t, tt.path, tt.opts)
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if d := diff(tt.want, got); d != "" {
				t.Errorf("entries %s", d)
			}
			sha, size := fileSum(t, tt.path)
			want := InputSummary{Path: tt.path, Format: tt.wantFormat, SHA256: sha, Bytes: size, Lines: tt.wantLines}
			if d := diff(want, sum); d != "" {
				t.Errorf("Summary %s", d)
			}
		})
	}
}

func TestZoneOrigin(t *testing.T) {
	zone := "@ 3600 IN SOA ns.example. h.example. 1 2 3 4 5\n" +
		"@ 3600 IN NS ns.example.\n" +
		"sub 3600 IN NS ns.other.\n" +
		"sub 3600 IN NS ns2.other.\n" +
		"other 3600 IN A 192.0.2.1\n" +
		"sub 3600 IN NS ns3.other.\n"
	path := writeTemp(t, "zonefile", []byte(zone))
	got, _, err := readAll(t, path, InputOptions{Format: FormatZone, Origin: "Example"})
	if err != nil {
		t.Fatal(err)
	}
	// Only consecutive NS records of one owner are merged; an A record in
	// between does not break the run.
	want := []entry{{Line: 3, Raw: "sub.example.", Rank: -1, Domain: "sub.example"}}
	if d := diff(want, got); d != "" {
		t.Errorf("entries %s", d)
	}
}

func TestZoneParseError(t *testing.T) {
	zone := "$ORIGIN example.\n$TTL 60\na NS ns.a\nb NS ns.b garbage\nc NS ns.c\n"
	path := writeTemp(t, "bad.zone", []byte(zone))
	got, _, err := readAll(t, path, InputOptions{})
	if err == nil {
		t.Fatal("no error for a broken zone")
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line: 4") {
		t.Errorf("error %q should name %s and line 4", err, path)
	}
	if len(got) != 1 || got[0].Domain != "a.example" {
		t.Errorf("entries before the error = %+v, want a.example", got)
	}
}

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		name string
		file string
		data []byte
		want Format
	}{
		{"plain by content", "list", []byte("# top\n\nexample.com\n"), FormatPlain},
		{"plain .txt", "list.txt", []byte("example.com\n"), FormatPlain},
		{"csv by extension", "list.csv", []byte("example.com\n"), FormatCSV},
		{"csv by content", "list", []byte("1,example.com\n"), FormatCSV},
		{"csv with header", "list", []byte("rank,domain\n1,example.com\n"), FormatCSV},
		{"csv quoted", "list", []byte("\"1\",\"example.com\"\n"), FormatCSV},
		{"zone by .zone", "x.zone", []byte("example.com\n"), FormatZone},
		{"not zone by db. prefix", "db.example", []byte("example.com\n"), FormatPlain},
		{"zone by .db suffix", "example.db", []byte("x\n"), FormatZone},
		{"zone by $ORIGIN", "list", []byte("; c\n$ORIGIN example.\n"), FormatZone},
		{"zone by $TTL", "list", []byte("$TTL 3600\n"), FormatZone},
		{"zone by SOA", "list", []byte("example. 3600 IN SOA ns. h. 1 2 3 4 5\n"), FormatZone},
		{"zone by NS", "list", []byte("example. NS ns.example.\n"), FormatZone},
		{"csv.gz by extension", "list.csv.gz", gzipped(t, "example.com\n"), FormatCSV},
		{"gzip by magic", "list", gzipped(t, "$ORIGIN example.\n"), FormatZone},
		{"BOM then csv", "list", []byte("\xef\xbb\xbf1,example.com\n"), FormatCSV},
		{"empty", "list", nil, FormatPlain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := OpenInput(writeTemp(t, tt.file, tt.data), FormatAuto)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got := r.Summary().Format; got != tt.want {
				t.Errorf("format = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPlainEdgeCases(t *testing.T) {
	long := strings.Repeat("a", MaxLineLength+10)
	tests := []struct {
		name      string
		data      string
		format    Format
		want      []entry
		wantLines int64
	}{
		{
			name:      "line too long does not stop reading",
			data:      "a.com\n" + long + "\nb.com",
			want:      []entry{{Line: 1, Raw: "a.com", Rank: -1, Domain: "a.com"}, {Line: 2, Raw: long[:MaxLineLength], Rank: -1, Err: errLineTooLong.Error()}, {Line: 3, Raw: "b.com", Rank: -1, Domain: "b.com"}},
			wantLines: 3,
		},
		{
			name:      "longest line allowed",
			data:      strings.Repeat("a", MaxLineLength) + "\r\n",
			want:      []entry{{Line: 1, Raw: strings.Repeat("a", MaxLineLength), Rank: -1, Err: "name is 4096 octets long, more than 253"}},
			wantLines: 1,
		},
		{
			name:      "invalid UTF-8 is replaced in Raw",
			data:      "ex\xffample.com\n",
			want:      []entry{{Line: 1, Raw: "ex\uFFFDample.com", Rank: -1, Err: "not a valid internationalised domain name"}},
			wantLines: 1,
		},
		{
			name:      "csv header skipped only on the first line",
			data:      "rank,domain\n1,a.com\nrank,domain\n",
			format:    FormatCSV,
			want:      []entry{{Line: 2, Raw: "a.com", Rank: 1, Domain: "a.com"}, {Line: 3, Raw: "domain", Rank: -1, Err: `rank "rank" is not a number`}},
			wantLines: 3,
		},
		{
			name:      "only comments",
			data:      "# nothing\n\n   \n",
			wantLines: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTemp(t, "list", []byte(tt.data))
			got, sum, err := readAll(t, path, InputOptions{Format: tt.format})
			if err != nil {
				t.Fatal(err)
			}
			// Errors from x/net/idna are long; compare a prefix.
			for i := range got {
				if i < len(tt.want) && tt.want[i].Err != "" && strings.Contains(got[i].Err, tt.want[i].Err) {
					got[i].Err = tt.want[i].Err
				}
			}
			if d := diff(tt.want, got); d != "" {
				t.Errorf("entries %s", d)
			}
			if sum.Lines != tt.wantLines {
				t.Errorf("Lines = %d, want %d", sum.Lines, tt.wantLines)
			}
		})
	}
}

func TestOpenInputErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.txt")
	tests := []struct {
		name   string
		path   string
		format Format
		want   string
		is     error
	}{
		{name: "missing file", path: missing, want: "open input " + missing + ": no such file or directory", is: fs.ErrNotExist},
		{name: "directory", path: t.TempDir(), want: "is a directory"},
		{name: "bad gzip", path: writeTemp(t, "list.gz", []byte("not gzip")), want: "read gzip header: unexpected EOF"},
		{name: "unknown format", path: "testdata/plain.txt", format: "json", want: `unknown input format "json"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenInput(tt.path, tt.format)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("OpenInput(%s) error = %v, want it to contain %q", tt.path, err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("OpenInput(%s) error = %v, want errors.Is %v", tt.path, err, tt.is)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr bool
	}{
		{"", FormatAuto, false},
		{"auto", FormatAuto, false},
		{"plain", FormatPlain, false},
		{"CSV", FormatCSV, false},
		{"zone", FormatZone, false},
		{"txt", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFormat(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("ParseFormat(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestEndlessLine (issue 11, defect 5): a line longer than MaxLineRead
// (here /dev/zero, one endless line) ends the reading of its input with an
// error naming the line, instead of reading for ever; a long line below it
// is an entry with an error and reading goes on.
func TestEndlessLine(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	r, err := OpenInput("/dev/zero", FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = r.Next()
	if err == nil || !strings.Contains(err.Error(), "line 1 is longer than") {
		t.Fatalf("Next = %v; want an error saying line 1 is too long", err)
	}
	if s := r.Summary(); s.Bytes > 2*MaxLineRead {
		t.Errorf("read %d bytes of an endless line; want about %d", s.Bytes, MaxLineRead)
	}

	long := strings.Repeat("a", MaxLineRead-1)
	got, _, err := readAll(t, writeTemp(t, "long.txt", []byte(long+"\nb.com\n")), InputOptions{})
	if err != nil || len(got) != 2 || got[0].Err != errLineTooLong.Error() || got[1].Domain != "b.com" {
		t.Errorf("a %d-byte line: %+v, %v; want an entry with %q, then b.com", len(long), got, err, errLineTooLong)
	}
}

// TestStreamLinesAsTheyCome (issue 11, defect 5): opening a stream reads
// nothing, and each line is returned as soon as it has arrived, without
// waiting for a buffer to fill or the producer to close.
func TestStreamLinesAsTheyCome(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	// The producer opens the FIFO (an open for reading waits for it),
	// sends one line at a time and closes when the test is done.
	lines := make(chan string)       // written below, read by the producer
	producerDone := make(chan error) // written by the producer when it has closed
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			producerDone <- err
			return
		}
		for l := range lines {
			if _, err := w.WriteString(l + "\n"); err != nil {
				break
			}
		}
		producerDone <- w.Close()
	}()
	r, err := OpenInput(fifo, FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, name := range []string{"a.example", "b.example", "c.example"} {
		lines <- name
		e, err := r.Next()
		if err != nil || e.Domain != name {
			t.Fatalf("Next = %+v, %v; want %s while the producer is still open", e, err, name)
		}
	}
	close(lines)
	if err := <-producerDone; err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next after the producer closed = %v; want io.EOF", err)
	}
	if s := r.Summary(); s.Format != FormatPlain || s.Lines != 3 {
		t.Errorf("summary %+v; want plain, 3 lines", s)
	}
}
