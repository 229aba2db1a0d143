// Package starttls probes one SMTP server address the way a DANE client
// does: it reads the greeting, sends EHLO, asks for STARTTLS, completes the
// TLS handshake and records everything it saw on the way, successful or not.
//
// The SMTP dialogue follows RFC 5321 (greeting, EHLO, reply syntax of
// §4.2, QUIT) and RFC 3207 (the STARTTLS extension). The TLS handshake
// follows RFC 7672 §8.1: the client sends the TLSA base domain as SNI
// (server_name), and the certificate chain is captured exactly as
// presented, in order, as DER. Certificates are not verified here
// (InsecureSkipVerify is set): DANE and PKIX verdicts are computed from the
// raw chain by package dane, so that they can be recomputed later.
//
// [Probe] never sends MAIL FROM, RCPT TO or DATA: after the handshake it sends
// QUIT over TLS and closes. Every network step has its own timeout (see
// [Config]), and every reply is read with limits on the line length, the
// number of lines and the total transcript, so a hostile or broken server
// can neither hold a probe forever nor make it grow without bound.
//
// A failed probe still returns what it observed (banner, EHLO lines, the
// refusing reply, the TLS alert, the chain if one arrived) together with
// one failure string from a closed vocabulary (see failure.go and
// [Failures]); these strings become dataset columns.
//
// # Signature algorithm modes
//
// Servers often hold both an ECDSA and an RSA certificate, and real failures
// are often specific to one of them (one expired, one not matching the TLSA
// records). Go's crypto/tls client has no public setting for the
// signature_algorithms extension (checked in Go 1.26: no Config field and
// no GODEBUG). [Config.SigAlgs] therefore selects the certificate type
// through the cipher suite instead: in the "ecdsa" and "rsa" modes the
// handshake is limited to TLS 1.2 with only ECDHE_ECDSA, or only ECDHE_RSA
// and RSA key exchange, cipher suites. A TLS 1.2 server must then present a
// certificate of that type (RFC 5246 §7.4.2). The limitation: these two
// modes never negotiate TLS 1.3, so a server that only speaks TLS 1.3 fails
// them (tls_handshake_failed, usually with a protocol_version alert), and a
// server that picks its TLS 1.3 certificate differently from its TLS 1.2
// one is not observed in TLS 1.3. The default mode ("any") is an ordinary
// handshake that offers TLS 1.0 to 1.3. [ProbeAll] runs one probe, on its
// own connection, per mode; [SigAlgsModes] maps a command-line value such as
// "both" to modes.
//
// # Decisions where the RFCs leave room
//
//   - The greeting timeout defaults to 30 s, not the 5 minutes of RFC 5321
//     §4.5.3.2: a scanner touching millions of servers cannot wait that
//     long, and servers that delay their greeting by minutes are rare
//     (greet-pause tarpits use a few seconds).
//   - Like Postfix, any 2yz greeting, EHLO or STARTTLS reply is accepted, not
//     only 220/250/220; the code is recorded.
//   - A rejected EHLO is not retried with HELO (RFC 5321 §4.1.4 allows
//     it), because a HELO session cannot offer STARTTLS: ehlo_rejected.
//   - Reply lines may end in LF alone, a line may be a bare code ("250"),
//     and lines are accepted up to [Config.MaxLineBytes] (default 4096,
//     RFC 5321 §4.5.3.1.5 says 512). All lines of a reply must carry the
//     same code; otherwise it is a protocol_error.
//   - Invalid UTF-8 or control characters in reply text are not a failure
//     (the code decides); the lines are kept with each such byte written as
//     \xNN. A reply code that is not three ASCII digits 2-5xx is a
//     protocol_error.
//   - Bytes the server sends after its STARTTLS reply and before the TLS
//     handshake (a sign of plaintext injection, compare CVE-2011-0411) are
//     a protocol_error, not silently dropped.
//   - QUIT is best effort: its reply (or none) never makes a probe fail.
//   - An empty server name sends no SNI; so does an IP literal (crypto/tls).
//
// Probe starts no goroutines of its own. It uses context.AfterFunc to close
// the connection when ctx is done, which aborts any blocked read, write or
// handshake (the runtime runs that function in a goroutine only once ctx
// is done). A ctx deadline that ends a stage counts as that stage's
// timeout; a canceled ctx is "canceled".
package starttls
