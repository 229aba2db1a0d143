package starttls

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func newTestReader(in io.Reader, maxLine, maxLines int, maxBytes int64) (*replyReader, *budget) {
	b := &budget{r: in, n: maxBytes}
	return newReplyReader(b, maxLine, maxLines), b
}

func TestReadReply(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		code    int
		text    []string
		lines   []string
		wantErr error
	}{
		{name: "single", in: "220 ready\r\n", code: 220, text: []string{"ready"}, lines: []string{"220 ready"}},
		{name: "multi", in: "250-a\r\n250-B c\r\n250 d\r\n", code: 250, text: []string{"a", "B c", "d"}, lines: []string{"250-a", "250-B c", "250 d"}},
		{name: "bare LF", in: "220 x\n", code: 220, text: []string{"x"}, lines: []string{"220 x"}},
		{name: "bare code", in: "250\r\n", code: 250, text: []string{""}, lines: []string{"250"}},
		{name: "empty text", in: "250 \r\n", code: 250, text: []string{""}, lines: []string{"250 "}},
		{name: "invalid UTF-8 kept escaped", in: "220 \xff\x01é\r\n", code: 220, text: []string{`\xff\x01é`}, lines: []string{`220 \xff\x01é`}},
		{name: "code changes", in: "250-a\r\n220 b\r\n", wantErr: errProtocol, lines: []string{"250-a", "220 b"}},
		{name: "no code", in: "hello\r\n", wantErr: errProtocol, lines: []string{"hello"}},
		{name: "short", in: "22\r\n", wantErr: errProtocol, lines: []string{"22"}},
		{name: "1yz", in: "150 x\r\n", wantErr: errProtocol, lines: []string{"150 x"}},
		{name: "bad separator", in: "220_x\r\n", wantErr: errProtocol, lines: []string{"220_x"}},
		{name: "eof mid-line", in: "220-a\r\n220 b", wantErr: io.ErrUnexpectedEOF, lines: []string{"220-a", "220 b"}},
		{name: "eof mid-reply", in: "220-a\r\n", wantErr: io.EOF, lines: []string{"220-a"}},
		{name: "line too long", in: "220 " + strings.Repeat("x", 100) + "\r\n", wantErr: errLineTooLong, lines: []string{"220 " + strings.Repeat("x", 60)}},
		{name: "line exactly at limit", in: "220 " + strings.Repeat("x", 60) + "\r\n", code: 220, text: []string{strings.Repeat("x", 60)}, lines: []string{"220 " + strings.Repeat("x", 60)}},
		{name: "too many lines", in: strings.Repeat("220-x\r\n", 6), wantErr: errTooManyLines, lines: slices.Repeat([]string{"220-x"}, 5)},
		{name: "five lines fit", in: strings.Repeat("220-x\r\n", 4) + "220 y\r\n", code: 220, text: []string{"x", "x", "x", "x", "y"}, lines: []string{"220-x", "220-x", "220-x", "220-x", "220 y"}},
		{name: "transcript too long", in: strings.Repeat("220-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n", 4), wantErr: errTranscriptTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rr, _ := newTestReader(strings.NewReader(tt.in), 64, 5, 128)
			rep, err := rr.readReply()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.lines != nil && !slices.Equal(rep.Lines, tt.lines) {
				t.Errorf("Lines = %q, want %q", rep.Lines, tt.lines)
			}
			if err != nil {
				return
			}
			if rep.Code != tt.code || !slices.Equal(rep.Text, tt.text) {
				t.Errorf("reply = %d %q, want %d %q", rep.Code, rep.Text, tt.code, tt.text)
			}
		})
	}
}

// infinite is an endless stream of one byte.
type infinite byte

func (b infinite) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func TestReadReplyEndlessLineIsBounded(t *testing.T) {
	rr, b := newTestReader(infinite('a'), 4096, 100, 1<<40)
	_, err := rr.readReply()
	if !errors.Is(err, errLineTooLong) {
		t.Fatalf("err = %v", err)
	}
	if read := int64(1<<40) - b.n; read > 2*4098 {
		t.Errorf("read %d bytes for a 4096-byte line limit", read)
	}
}

func TestReadReplyEndlessLinesAreBounded(t *testing.T) {
	rr, b := newTestReader(io.MultiReader(strings.NewReader("220-"), infinite('\n')), 4096, 100, 1<<40)
	_, err := rr.readReply()
	if !errors.Is(err, errProtocol) {
		t.Fatalf("err = %v", err)
	}
	if read := int64(1<<40) - b.n; read > 1<<16 {
		t.Errorf("read %d bytes", read)
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain":          "plain",
		"tab\tok":        "tab\tok",
		"caf\xc3\xa9":    "café",
		"\xff":           `\xff`,
		"a\x00b\x7f":     `a\x00b\x7f`,
		"\xe2\x82":       `\xe2\x82`,
		"\uFFFD literal": "\uFFFD literal",
	} {
		if got := escape([]byte(in)); got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseExtension(t *testing.T) {
	kw, params := ParseExtension("size 10240000")
	if kw != "SIZE" || !slices.Equal(params, []string{"10240000"}) {
		t.Errorf("ParseExtension = %q %q", kw, params)
	}
	if kw, _ := ParseExtension("  "); kw != "" {
		t.Errorf("empty line gives keyword %q", kw)
	}
}

// FuzzReadReply reads replies from arbitrary bytes with small limits: it
// must never panic, never read past the transcript budget, and keep every
// reply within the line limits.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{
		"220 ready\r\n",
		"220-a\r\n220 b\r\n250-x\r\n250 STARTTLS\r\n",
		"250\r\n",
		"554 \xff\x00\r\n",
		"220-a\n220_b\n",
		strings.Repeat("250-x\r\n", 10),
		"220 " + strings.Repeat("y", 80) + "\r\n",
	} {
		f.Add([]byte(s))
	}
	const maxLine, maxLines, maxBytes = 32, 4, 256
	f.Fuzz(func(t *testing.T, data []byte) {
		rr, b := newTestReader(bytes.NewReader(data), maxLine, maxLines, maxBytes)
		for range 100 {
			rep, err := rr.readReply()
			if len(rep.Lines) > maxLines {
				t.Fatalf("%d lines", len(rep.Lines))
			}
			for _, l := range rep.Lines {
				if len(l) > 4*maxLine {
					t.Fatalf("line of %d bytes (escaped)", len(l))
				}
			}
			if b.n < 0 {
				t.Fatalf("budget overdrawn: %d", b.n)
			}
			if err != nil {
				return
			}
			if rep.Code < 200 || rep.Code > 599 || len(rep.Text) != len(rep.Lines) || len(rep.Lines) == 0 {
				t.Fatalf("bad reply %+v", rep)
			}
		}
	})
}
