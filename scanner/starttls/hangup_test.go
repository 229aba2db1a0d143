package starttls

import (
	"net"
	"testing"
)

// abort closes the session's TCP connection with SO_LINGER 0: the kernel
// sends RST instead of FIN.
func (s *session) abort() {
	if tc, ok := s.conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	s.conn.Close()
}

// TestProbeHangups pins the hang-up rule of failure.go on real TCP: each
// case must end in the same class every time, whether the client's kernel
// saw the server's FIN or the RST that answers data the server left
// unread. Run it with -count=50 after touching classify.
func TestProbeHangups(t *testing.T) {
	tests := []struct {
		name    string
		handler func(s *session)
		failure Failure
		stage   Stage
	}{
		{
			name:    "reset on accept",
			handler: func(s *session) { s.abort() },
			failure: FailureConnectionReset, stage: StageBanner,
		},
		{
			name:    "close on accept",
			handler: func(s *session) {},
			failure: FailureConnectionClosed, stage: StageBanner,
		},
		{
			name:    "close mid-banner",
			handler: func(s *session) { s.conn.Write([]byte("220-mx.example.net\r\n220 pa")) },
			failure: FailureConnectionClosed, stage: StageBanner,
		},
		{
			// The EHLO may arrive before or after the close: FIN then
			// RST, or RST alone.
			name:    "close right after the banner",
			handler: func(s *session) { s.send("220 mx.example.net ESMTP") },
			failure: FailureConnectionClosed, stage: StageEHLO,
		},
		{
			name:    "reset after reading EHLO",
			handler: func(s *session) { s.send("220 mx.example.net ESMTP"); s.readLine(); s.abort() },
			failure: FailureConnectionClosed, stage: StageEHLO,
		},
		{
			name:    "reset after reading STARTTLS",
			handler: script{starttls: []string{"220 go ahead"}, afterSTARTTLS: func(s *session) {}}.run,
			// Replaced below: the STARTTLS reply is never sent.
			failure: FailureConnectionClosed, stage: StageSTARTTLS,
		},
		{
			name: "reset mid-handshake",
			handler: script{afterSTARTTLS: func(s *session) {
				s.r.Peek(5) // the ClientHello's record header
				s.abort()
			}}.run,
			failure: FailureConnectionReset, stage: StageHandshake,
		},
		{
			name: "close mid-handshake after reading the ClientHello",
			handler: script{afterSTARTTLS: func(s *session) {
				s.r.Peek(5)
				for s.r.Buffered() > 0 {
					s.r.Discard(s.r.Buffered())
				}
			}}.run,
			failure: FailureConnectionReset, stage: StageHandshake,
		},
		{
			name:    "server closes instead of ServerHello",
			handler: script{afterSTARTTLS: func(s *session) {}}.run,
			failure: FailureConnectionReset, stage: StageHandshake,
		},
	}
	// The STARTTLS case: read the command, then reset without replying.
	tests[5].handler = func(s *session) {
		s.send("220 mx.example.net ESMTP")
		s.readLine()
		s.send("250-mx.example.net", "250 STARTTLS")
		s.readLine()
		s.abort()
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, tt.handler)
			res, err := Probe(t.Context(), testConfig(), srv.addr, "mx.example.net")
			checkContract(t, res, err)
			srv.wait()
			if res.Failure != tt.failure || res.Stage != tt.stage {
				t.Fatalf("Failure, Stage = %q, %q (%v); want %q, %q", res.Failure, res.Stage, err, tt.failure, tt.stage)
			}
		})
	}
}
