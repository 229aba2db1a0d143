package starttls

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// reply is one SMTP reply (RFC 5321 §4.2): a three-digit code and the text
// of each line. Lines are the whole lines as received, without CRLF,
// escaped (see escape); Text is the part after the code and separator.
type reply struct {
	Code  int
	Lines []string
	Text  []string
}

// budget is an io.Reader that fails with errTranscriptTooLong once n bytes
// have been read. It sits under the bufio.Reader, so the transcript limit
// holds however the server splits its writes.
type budget struct {
	r io.Reader
	n int64 // bytes still allowed
}

func (b *budget) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errTranscriptTooLong
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	return n, err
}

// replyReader reads SMTP replies with limits. Memory is bounded by the
// bufio buffer plus maxLine per line and maxLines lines per reply.
type replyReader struct {
	br       *bufio.Reader
	maxLine  int // bytes per line, without the line ending
	maxLines int // lines per reply
}

// newReplyReader returns a replyReader on b. The bufio.Reader is sized so
// that a maximal line fits.
func newReplyReader(b *budget, maxLine, maxLines int) *replyReader {
	return &replyReader{br: bufio.NewReaderSize(b, min(maxLine+2, 64<<10)), maxLine: maxLine, maxLines: maxLines}
}

// readLine returns one line without its LF or CRLF. On error it returns the
// partial line read so far (at most maxLine bytes).
func (r *replyReader) readLine() ([]byte, error) {
	var line []byte
	for {
		frag, err := r.br.ReadSlice('\n')
		if len(line)+len(frag) > r.maxLine+2 {
			keep := min(len(frag), max(r.maxLine-len(line), 0))
			line = append(line, frag[:keep]...)
			return line[:min(len(line), r.maxLine)], errLineTooLong
		}
		line = append(line, frag...)
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return line[:min(len(line), r.maxLine)], err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) > r.maxLine {
		return line[:r.maxLine], errLineTooLong
	}
	return line, nil
}

// readReply reads one whole, possibly multi-line, reply. On error it
// returns the lines read so far, including a partial last line, so that
// they can be recorded.
func (r *replyReader) readReply() (reply, error) {
	var rep reply
	for {
		line, err := r.readLine()
		if len(line) > 0 || err == nil {
			rep.Lines = append(rep.Lines, escape(line))
		}
		if err != nil {
			return rep, err
		}
		code, more, text, err := parseLine(line)
		if err != nil {
			return rep, err
		}
		if rep.Code == 0 {
			rep.Code = code
		} else if code != rep.Code {
			return rep, protocolErrorf("reply code changed from %d to %d within a reply", rep.Code, code)
		}
		rep.Text = append(rep.Text, text)
		if !more {
			return rep, nil
		}
		if len(rep.Lines) >= r.maxLines {
			return rep, errTooManyLines
		}
	}
}

// parseLine splits a reply line into its code, whether more lines follow
// ("ddd-") and its escaped text. RFC 5321 §4.2 also allows a bare code.
func parseLine(line []byte) (code int, more bool, text string, err error) {
	if len(line) < 3 {
		return 0, false, "", protocolErrorf("short reply line \"%s\"", escape(line))
	}
	for i, c := range line[:3] {
		if c < '0' || c > '9' || i == 0 && (c < '2' || c > '5') {
			return 0, false, "", protocolErrorf("bad reply code in \"%s\"", escape(line[:min(len(line), 64)]))
		}
		code = code*10 + int(c-'0')
	}
	if len(line) == 3 {
		return code, false, "", nil
	}
	switch line[3] {
	case '-':
		more = true
	case ' ':
	default:
		return 0, false, "", protocolErrorf("bad separator after reply code in \"%s\"", escape(line[:min(len(line), 64)]))
	}
	return code, more, escape(line[4:]), nil
}

// escape returns b as a string, with every byte that is not valid UTF-8,
// and every control character other than TAB, written as \xNN. It is lossy
// (a literal "\x41" in the input reads the same as an escaped byte), which
// is acceptable for evidence meant for people and string columns.
func escape(b []byte) string {
	clean := utf8.Valid(b)
	for _, c := range b {
		if c < 0x20 && c != '\t' || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return string(b)
	}
	const hex = "0123456789abcdef"
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 || r < 0x20 && r != '\t' || r == 0x7f {
			sb.WriteString(`\x`)
			sb.WriteByte(hex[b[0]>>4])
			sb.WriteByte(hex[b[0]&0xf])
			b = b[1:]
			continue
		}
		sb.Write(b[:n])
		b = b[n:]
	}
	return sb.String()
}
