package starttls

import (
	"encoding/binary"
	"net"
)

// recorder is a net.Conn that keeps a copy of the first max bytes read,
// so that the Certificate message of a TLS 1.2 handshake can be recovered
// when crypto/tls rejects it before VerifyPeerCertificate sees it.
type recorder struct {
	net.Conn
	max int
	buf []byte
	off bool
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	if !r.off && n > 0 {
		r.buf = append(r.buf, p[:min(n, r.max-len(r.buf))]...)
		if len(r.buf) >= r.max {
			r.off = true
		}
	}
	return n, err
}

// stop ends recording and drops what was recorded.
func (r *recorder) stop() { r.off, r.buf = true, nil }

// tls12Chain extracts the certificate list of the first Certificate
// handshake message (type 11, RFC 5246 §7.4.2) from the plaintext records
// in b, the bytes the server sent from its first TLS record on. It returns
// nil if there is none (TLS 1.3 encrypts it) or it is truncated.
func tls12Chain(b []byte) [][]byte {
	// Concatenate the fragments of handshake records (content type 22)
	// until the first other record (ChangeCipherSpec, alert).
	var hs []byte
	for len(b) >= 5 && b[0] == 22 {
		n := int(binary.BigEndian.Uint16(b[3:5]))
		if len(b) < 5+n {
			hs = append(hs, b[5:]...)
			break
		}
		hs = append(hs, b[5:5+n]...)
		b = b[5+n:]
	}
	for len(hs) >= 4 {
		typ, n := hs[0], int(hs[1])<<16|int(hs[2])<<8|int(hs[3])
		if len(hs) < 4+n {
			return nil
		}
		body := hs[4 : 4+n]
		hs = hs[4+n:]
		if typ != 11 {
			continue
		}
		if len(body) < 3 {
			return nil
		}
		list := body[3:]
		if l := int(body[0])<<16 | int(body[1])<<8 | int(body[2]); l < len(list) {
			list = list[:l]
		}
		var chain [][]byte
		for len(list) >= 3 {
			m := int(list[0])<<16 | int(list[1])<<8 | int(list[2])
			if len(list) < 3+m {
				break
			}
			chain = append(chain, append([]byte(nil), list[3:3+m]...))
			list = list[3+m:]
		}
		return chain
	}
	return nil
}
