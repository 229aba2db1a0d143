package datasets

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Format is the format of an input list.
type Format string

// Input formats. FormatAuto detects the format from the file name and, failing
// that, from the first line that is neither blank nor a comment.
const (
	FormatAuto  Format = ""
	FormatPlain Format = "plain" // one name per line, '#' comments
	FormatCSV   Format = "csv"   // rank,domain lines (Tranco, Umbrella)
	FormatZone  Format = "zone"  // an RFC 1035 master file; the domains are the delegations
)

// ParseFormat returns the Format named by s ("", "auto", "plain", "csv" or
// "zone", in any case). It returns an error for any other name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case FormatAuto, "auto":
		return FormatAuto, nil
	case FormatPlain, FormatCSV, FormatZone:
		return f, nil
	}
	return "", fmt.Errorf("unknown input format %q (want auto, plain, csv or zone)", s)
}

// MaxLineLength is the longest input line, in bytes, that is parsed; longer
// lines yield an Entry with an error and a truncated Raw.
const MaxLineLength = 4096

// MaxLineRead is the longest line, in bytes, that is read past (as an
// Entry with an error); a longer one (say /dev/zero, or a binary file)
// ends the reading of its input with an error, so that memory and time
// stay bounded whatever the input.
const MaxLineRead = 1 << 20

// errLineTooLong is the Entry.Err of a line longer than MaxLineLength.
var errLineTooLong = fmt.Errorf("line too long (more than %d bytes)", MaxLineLength)

// Entry is one name read from an input list.
type Entry struct {
	// File is the input path as given ("-" for stdin).
	File string
	// Line is the 1-based line number; for zone files the line where the
	// first NS record of the delegation ends.
	Line int64
	// Raw is the name as written, whitespace and comments trimmed (invalid
	// UTF-8 replaced by U+FFFD, at most MaxLineLength bytes). For a CSV line
	// it is the domain field, or the whole line when that is missing; for a
	// zone file the owner name as the parser expanded it.
	Raw string
	// Rank is the rank of a CSV top list; nil for other formats and when
	// the rank field is not a number.
	Rank *int64
	// Domain is the normalised name (see NormalizeDomain), or "" when Err is
	// set.
	Domain string
	// Err says why Raw is not a valid domain name; nil when Domain is set.
	Err error
}

// Input describes an input file as listed in manifest.json: the path as
// given, the format read (detected or chosen), and the SHA-256, size and
// line count of the file. In the manifest written when a scan starts, a
// stream whose format is to be detected has an empty Format: it is not
// read before the scan.
type Input struct {
	Path   string `json:"path"`
	Format Format `json:"format"`
	// SHA256 is the hex SHA-256 of the file's bytes as stored (for a .gz
	// file: of the compressed bytes); empty when the scan stopped before
	// the end of the input.
	SHA256 string `json:"sha256"`
	// Bytes is the size of the file as stored (read so far, when the scan
	// stopped before its end).
	Bytes int64 `json:"bytes"`
	// Lines is the number of lines of the (decompressed) text (read so
	// far, when the scan stopped before its end).
	Lines int64 `json:"lines"`
}

// InputSummary is what InputReader.Summary returns: an Input, ready for
// Manifest.Inputs.
type InputSummary = Input

// InputOptions tunes OpenInputWith. The zero value detects the format.
type InputOptions struct {
	// Format of the input; FormatAuto detects it.
	Format Format
	// Origin is the zone's origin for zone files that do not start with
	// $ORIGIN and have relative names; it also marks the zone apex, whose
	// own NS records are not delegations.
	Origin string
}

// InputReader streams the entries of one input list; it never holds the
// whole file in memory. It is not safe for concurrent use. The caller must
// call Close.
type InputReader struct {
	path   string
	opts   InputOptions // as given, for detect
	format Format
	file   *os.File  // nil for stdin, which is not closed
	raw    *digest   // of the bytes read from the file as stored
	tee    io.Reader // the file, hashed into raw as it is read
	gz     *gzip.Reader
	br     *bufio.Reader // decompressed text; nil until detect has run
	buf    []byte        // the current line
	lines  int64         // lines read (plain, csv)
	err    error         // sticky error of Next

	// csv
	sawData bool // a significant line was read (so a header is no more possible)

	// zone
	zp        *dns.ZoneParser
	zc        *lineCounter
	apex      string // lowercase FQDN; "." when unknown
	lastOwner string // lowercase owner of the last NS record
}

// OpenInput opens the input list at path ("-" for stdin) in the given format
// (FormatAuto to detect it); see OpenInputWith.
func OpenInput(path string, format Format) (*InputReader, error) {
	return OpenInputWith(path, InputOptions{Format: format})
}

// OpenInputWith opens the input list at path ("-" for stdin). Gzip input is
// decompressed transparently (a .gz extension or the gzip magic bytes).
// With FormatAuto the format comes from the extension once .gz is stripped
// (.csv: csv; .zone, .db: zone), else from the first line that is neither
// blank nor a comment: "<digits>," means csv (as does a header such as
// "rank,domain"), a $ORIGIN or $TTL directive or an SOA or NS record means
// zone, and anything else plain. It returns an error naming the path when
// the file cannot be opened or, for a regular file, is not valid gzip.
// A stream (stdin, a pipe, a FIFO, a device) is not read before the first
// call of Next, which does the detection and returns those errors: opening
// never waits for a producer. The caller must call Close.
func OpenInputWith(path string, opts InputOptions) (*InputReader, error) {
	format, err := ParseFormat(string(opts.Format))
	if err != nil {
		return nil, fmt.Errorf("open input %s: %w", path, err)
	}
	r := &InputReader{path: path, opts: opts, format: format}
	var src *os.File
	if path == "-" {
		src = os.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open input %s: %w", path, unwrapPath(err))
		}
		r.file, src = f, f
	}
	fi, err := src.Stat()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("open input %s: %w", path, unwrapPath(err))
	}
	if fi.IsDir() {
		r.Close()
		return nil, fmt.Errorf("open input %s: is a directory", path)
	}
	r.raw = newDigest()
	r.tee = io.TeeReader(src, r.raw)
	if !fi.Mode().IsRegular() {
		return r, nil
	}
	if err := r.detect(); err != nil {
		r.Close()
		return nil, fmt.Errorf("open input %s: %w", path, err)
	}
	return r, nil
}

// detect reads the head of the input, no further than its first
// significant line, and sets up decompression, the format and the zone
// parser.
func (r *InputReader) detect() error {
	rb := bufio.NewReaderSize(r.tee, 64<<10)
	name := strings.ToLower(filepath.Base(r.path))
	magic, err := rb.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	var text io.Reader = rb
	if strings.HasSuffix(name, ".gz") || bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		r.gz, err = gzip.NewReader(rb)
		if err != nil {
			return fmt.Errorf("read gzip header: %w", err)
		}
		text = r.gz
		name = strings.TrimSuffix(name, ".gz")
	}
	br := bufio.NewReaderSize(text, 64<<10)
	head, err := peekHead(br)
	if err != nil {
		return err
	}
	format := r.format
	if format == FormatAuto {
		switch filepath.Ext(name) {
		case ".csv":
			format = FormatCSV
		case ".zone", ".db":
			format = FormatZone
		default:
			format = sniff(head)
		}
	}
	if format == FormatZone {
		origin := r.opts.Origin
		if origin == "" {
			origin = originFromHead(head)
		}
		r.apex = "."
		if origin != "" {
			origin = dns.Fqdn(strings.ToLower(origin))
			if _, ok := dns.IsDomainName(origin); !ok {
				return fmt.Errorf("bad zone origin %q", origin)
			}
			r.apex = origin
		}
		if bytes.HasPrefix(head, bom) {
			br.Discard(len(bom))
		}
		r.zc = &lineCounter{br: br}
		parserOrigin := ""
		if r.opts.Origin != "" {
			parserOrigin = r.apex
		}
		r.zp = dns.NewZoneParser(r.zc, parserOrigin, r.path)
	}
	r.format, r.br = format, br
	return nil
}

// peekHead returns what sniff and originFromHead need of br, without
// consuming it: the text up to the end of the first line that is neither
// blank, a comment nor a $TTL directive, or less at the end of the input,
// or a full buffer. It reads no more than that, so that a stream whose
// producer is slow gets its first lines scanned as they come.
func peekHead(br *bufio.Reader) ([]byte, error) {
	for {
		head, _ := br.Peek(br.Buffered())
		if headDecided(head) || len(head) == br.Size() {
			return head, nil
		}
		if _, err := br.Peek(len(head) + 1); err != nil {
			if errors.Is(err, io.EOF) {
				head, _ = br.Peek(br.Buffered())
				return head, nil
			}
			return nil, err
		}
	}
}

// headDecided reports whether head holds a whole first significant line.
func headDecided(head []byte) bool {
	head = bytes.TrimPrefix(head, bom)
	for l := range bytes.Lines(head) {
		if !bytes.HasSuffix(l, []byte("\n")) {
			return false
		}
		s := strings.TrimSpace(string(l))
		if s == "" || s[0] == '#' || s[0] == ';' || strings.HasPrefix(strings.ToUpper(s), "$TTL") {
			continue
		}
		return true
	}
	return false
}

var bom = []byte("\xef\xbb\xbf")

// csvLine matches the start of a rank,domain line.
var csvLine = regexp.MustCompile(`^"?\d+"?,`)

// sniff returns the format suggested by the first significant line of head.
func sniff(head []byte) Format {
	head = bytes.TrimPrefix(head, bom)
	for l := range bytes.Lines(head) {
		s := strings.TrimSpace(string(l))
		if s == "" || s[0] == '#' || s[0] == ';' {
			continue
		}
		upper := strings.ToUpper(s)
		switch {
		case csvLine.MatchString(s):
			return FormatCSV
		case strings.HasPrefix(upper, "$ORIGIN") || strings.HasPrefix(upper, "$TTL"):
			return FormatZone
		case isZoneRecord(s):
			return FormatZone
		case strings.Contains(s, ",") && !strings.Contains(s, "."):
			return FormatCSV // a header such as "rank,domain"
		}
		return FormatPlain
	}
	return FormatPlain
}

// isZoneRecord reports whether s looks like an SOA or NS record in master
// file syntax: a type token after the first, followed by data.
func isZoneRecord(s string) bool {
	f := strings.Fields(s)
	for i := 1; i < len(f)-1; i++ {
		if strings.EqualFold(f[i], "SOA") || strings.EqualFold(f[i], "NS") {
			return true
		}
	}
	return false
}

// originFromHead returns the argument of a $ORIGIN directive that comes
// before the first record in head, or "".
func originFromHead(head []byte) string {
	head = bytes.TrimPrefix(head, bom)
	for l := range bytes.Lines(head) {
		s := strings.TrimSpace(string(l))
		if s == "" || s[0] == ';' {
			continue
		}
		f := strings.Fields(s)
		switch strings.ToUpper(f[0]) {
		case "$ORIGIN":
			if len(f) > 1 {
				return f[1]
			}
			return ""
		case "$TTL":
			continue
		}
		return ""
	}
	return ""
}

// Format returns the format being read (detected or chosen); for a
// stream before the first call of Next, the format asked for.
func (r *InputReader) Format() Format { return r.format }

// Next returns the next entry. Lines that are not valid names are entries
// too, with Err set. Next returns io.EOF at the end of the input, and an
// error naming the file for a read error, corrupt gzip data, or a zone file
// syntax error (which names the line as well); after an error every call
// returns it again.
func (r *InputReader) Next() (Entry, error) {
	if r.err != nil {
		return Entry{}, r.err
	}
	if r.br == nil {
		if err := r.detect(); err != nil {
			r.err = fmt.Errorf("open input %s: %w", r.path, unwrapPath(err))
			return Entry{}, r.err
		}
	}
	var e Entry
	var err error
	switch r.format {
	case FormatCSV:
		e, err = r.nextCSV()
	case FormatZone:
		e, err = r.nextZone()
	default:
		e, err = r.nextPlain()
	}
	if err != nil {
		r.err = r.finish(err)
		return Entry{}, r.err
	}
	return e, nil
}

// finish turns the error that ended reading into the one Next returns: at
// EOF it reads the rest of the raw file so the hash covers all of it.
func (r *InputReader) finish(err error) error {
	if errors.Is(err, io.EOF) {
		if _, err := io.Copy(io.Discard, r.tee); err != nil {
			return fmt.Errorf("read input %s: %w", r.path, unwrapPath(err))
		}
		return io.EOF
	}
	if pe := (*dns.ParseError)(nil); errors.As(err, &pe) {
		return fmt.Errorf("parse zone: %w", err) // pe names the file and line
	}
	return fmt.Errorf("read input %s: %w", r.path, unwrapPath(err))
}

// readLine returns the next line without its line ending (and without a
// BOM on the first line). Lines longer than MaxLineLength are truncated to
// it and reported with tooLong; a line longer than MaxLineRead is an
// error. It returns io.EOF when no line is left.
func (r *InputReader) readLine() (line []byte, tooLong bool, err error) {
	r.buf = r.buf[:0]
	n := 0
	for {
		frag, err := r.br.ReadSlice('\n')
		n += len(frag)
		if n > MaxLineRead {
			return nil, false, fmt.Errorf("line %d is longer than %d bytes: not a list of names", r.lines+1, MaxLineRead)
		}
		if room := MaxLineLength + 2 + len(bom) - len(r.buf); room > 0 {
			r.buf = append(r.buf, frag[:min(len(frag), room)]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, false, err
		}
		if n == 0 {
			return nil, false, io.EOF
		}
		break
	}
	r.lines++
	line = r.buf
	if r.lines == 1 {
		line = bytes.TrimPrefix(line, bom)
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > MaxLineLength {
		return line[:MaxLineLength], true, nil
	}
	return line, false, nil
}

// raw returns s as valid UTF-8, whitespace trimmed.
func rawString(b []byte) string {
	return strings.ToValidUTF8(strings.TrimSpace(string(b)), "\uFFFD")
}

// nextPlain reads a plain list: one name per line, '#' comments.
func (r *InputReader) nextPlain() (Entry, error) {
	for {
		line, tooLong, err := r.readLine()
		if err != nil {
			return Entry{}, err
		}
		if tooLong {
			return Entry{File: r.path, Line: r.lines, Raw: rawString(line), Err: errLineTooLong}, nil
		}
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		s := rawString(line)
		if s == "" {
			continue
		}
		e := Entry{File: r.path, Line: r.lines, Raw: s}
		e.Domain, e.Err = NormalizeDomain(s)
		return e, nil
	}
}

// nextCSV reads a rank,domain list. Fields may be double-quoted; fields
// after the second are ignored. Blank lines and lines starting with '#' are
// skipped, and so is a first line that looks like a header (its first field
// is not a number and it holds no dot, e.g. "rank,domain").
func (r *InputReader) nextCSV() (Entry, error) {
	for {
		line, tooLong, err := r.readLine()
		if err != nil {
			return Entry{}, err
		}
		if tooLong {
			r.sawData = true
			return Entry{File: r.path, Line: r.lines, Raw: rawString(line), Err: errLineTooLong}, nil
		}
		s := rawString(line)
		if s == "" || s[0] == '#' {
			continue
		}
		fields := strings.Split(s, ",")
		rankField := unquote(fields[0])
		rank, rankErr := strconv.ParseInt(rankField, 10, 64)
		if !r.sawData {
			r.sawData = true
			if rankErr != nil && len(fields) > 1 && !strings.Contains(s, ".") {
				continue // a header
			}
		}
		e := Entry{File: r.path, Line: r.lines, Raw: s}
		if len(fields) < 2 {
			e.Err = fmt.Errorf("not a rank,domain line")
			return e, nil
		}
		e.Raw = unquote(fields[1])
		if rankErr != nil || rank < 0 {
			e.Err = fmt.Errorf("rank %q is not a number", rankField)
			return e, nil
		}
		e.Rank = &rank
		if e.Raw == "" {
			e.Raw = s
			e.Err = fmt.Errorf("missing domain")
			return e, nil
		}
		e.Domain, e.Err = NormalizeDomain(e.Raw)
		return e, nil
	}
}

// unquote trims whitespace and one pair of double quotes around a field.
func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// nextZone returns the next delegation of a zone file: the owner of NS
// records strictly below the zone apex, once per run of NS records with
// the same owner. Glue, DS and all other records are skipped.
func (r *InputReader) nextZone() (Entry, error) {
	for {
		rr, ok := r.zp.Next()
		if !ok {
			if err := r.zp.Err(); err != nil {
				return Entry{}, err
			}
			return Entry{}, io.EOF
		}
		h := rr.Header()
		owner := strings.ToLower(h.Name)
		switch h.Rrtype {
		case dns.TypeSOA:
			if r.apex == "." {
				r.apex = owner
			}
			continue
		case dns.TypeNS:
		default:
			continue
		}
		if owner == r.lastOwner {
			continue
		}
		r.lastOwner = owner
		if owner == r.apex || !dns.IsSubDomain(r.apex, owner) {
			continue
		}
		e := Entry{File: r.path, Line: r.zc.line(), Raw: strings.ToValidUTF8(h.Name, "\uFFFD")}
		e.Domain, e.Err = NormalizeDomain(h.Name)
		return e, nil
	}
}

// Summary returns the path, format, SHA-256, size and line count of the
// input. SHA256, Bytes and Lines are complete once Next has returned io.EOF.
func (r *InputReader) Summary() InputSummary {
	s := r.Position()
	s.SHA256 = r.raw.sum()
	return s
}

// Position returns the Summary without the SHA-256 (cheap enough to call
// after every entry): the path, format, and the bytes and lines read so
// far.
func (r *InputReader) Position() InputSummary {
	lines := r.lines
	if r.zc != nil {
		lines = r.zc.line()
		if r.zc.n == 0 {
			lines = 0
		}
	}
	return InputSummary{Path: r.path, Format: r.format, Bytes: r.raw.n, Lines: lines}
}

// Close closes the input file (stdin is left open). It returns the error of
// closing the file.
func (r *InputReader) Close() error {
	if r.gz != nil {
		r.gz.Close()
	}
	if r.file != nil {
		err := r.file.Close()
		r.file = nil
		if err != nil {
			return fmt.Errorf("close input %s: %w", r.path, unwrapPath(err))
		}
	}
	return nil
}

// lineCounter hands bytes to the zone parser one at a time and counts the
// lines it has consumed.
type lineCounter struct {
	br       *bufio.Reader
	n        int64 // bytes read
	newlines int64
	last     byte
}

func (c *lineCounter) ReadByte() (byte, error) {
	b, err := c.br.ReadByte()
	if err != nil {
		return b, err
	}
	c.n++
	c.last = b
	if b == '\n' {
		c.newlines++
	}
	return b, nil
}

// Read lets lineCounter be an io.Reader; the zone parser uses ReadByte.
func (c *lineCounter) Read(p []byte) (int, error) {
	for i := range p {
		b, err := c.ReadByte()
		if err != nil {
			return i, err
		}
		p[i] = b
	}
	return len(p), nil
}

// line returns the number of the line of the last byte read: the line that
// a record just parsed ends on.
func (c *lineCounter) line() int64 {
	if c.last == '\n' {
		return c.newlines
	}
	return c.newlines + 1
}
