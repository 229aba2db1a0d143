package starttls

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"reflect"
	"strings"
	"syscall"
)

// Failure is the failure class of a probe: [Result.Failure] is exactly one
// of the constants below, or "" when the probe succeeded. The list is
// closed; [Failures] returns it.
type Failure string

// The failure vocabulary.
const (
	// FailureConfig: the Config was invalid (an unknown SigAlgs mode);
	// nothing was sent.
	FailureConfig Failure = "config_error"
	// FailureConnectRefused: the TCP connection was refused (RST to the SYN).
	FailureConnectRefused Failure = "connect_refused"
	// FailureConnectTimeout: the TCP connection was not established within
	// Config.ConnectTimeout (or the ctx deadline).
	FailureConnectTimeout Failure = "connect_timeout"
	// FailureUnreachable: the network or host is unreachable (ENETUNREACH,
	// EHOSTUNREACH, EADDRNOTAVAIL), for example no IPv6 route.
	FailureUnreachable Failure = "unreachable"
	// FailureConnectFailed: the dial failed for another reason (a Dial that
	// refuses the address, a resolver error ...); Err has the detail.
	FailureConnectFailed Failure = "connect_failed"
	// FailureBannerTimeout: the greeting was not complete within
	// Config.BannerTimeout.
	FailureBannerTimeout Failure = "banner_timeout"
	// FailureBannerRejected: the greeting was not 2yz (554, 421 ...);
	// ReplyCode and ReplyText hold it.
	FailureBannerRejected Failure = "banner_rejected"
	// FailureEHLOTimeout: the EHLO reply was not complete within
	// Config.EHLOTimeout.
	FailureEHLOTimeout Failure = "ehlo_timeout"
	// FailureEHLORejected: EHLO got a non-2yz reply; HELO is not tried, as
	// it cannot lead to STARTTLS.
	FailureEHLORejected Failure = "ehlo_rejected"
	// FailureSTARTTLSNotOffered: the EHLO reply has no STARTTLS keyword.
	FailureSTARTTLSNotOffered Failure = "starttls_not_offered"
	// FailureSTARTTLSTimeout: the STARTTLS reply was not complete within
	// Config.STARTTLSTimeout.
	FailureSTARTTLSTimeout Failure = "starttls_timeout"
	// FailureSTARTTLSRejected: STARTTLS got a non-2yz reply (454 TLS not
	// available, 5xx ...); ReplyCode and ReplyText hold it.
	FailureSTARTTLSRejected Failure = "starttls_rejected"
	// FailureTLSHandshakeTimeout: the TLS handshake did not finish within
	// Config.HandshakeTimeout.
	FailureTLSHandshakeTimeout Failure = "tls_handshake_timeout"
	// FailureTLSHandshakeFailed: the TLS handshake failed: an alert from the
	// server (Alert, AlertText), garbage instead of a ServerHello, no common
	// version or cipher suite. A hang-up without an alert mid-handshake is
	// connection_reset (see "Hang-ups" below).
	FailureTLSHandshakeFailed Failure = "tls_handshake_failed"
	// FailureTLSCertificateUnparsable: the server's Certificate message
	// held a certificate that is not valid DER X.509. With TLS 1.2 the raw
	// chain is still recovered into Result.Chain.
	FailureTLSCertificateUnparsable Failure = "tls_certificate_unparsable"
	// FailureLineTooLong: a reply line exceeded Config.MaxLineBytes.
	FailureLineTooLong Failure = "line_too_long"
	// FailureTooManyLines: a reply had more than Config.MaxReplyLines lines.
	FailureTooManyLines Failure = "too_many_lines"
	// FailureTranscriptTooLong: the server sent more than
	// Config.MaxTranscriptBytes of SMTP replies in total.
	FailureTranscriptTooLong Failure = "transcript_too_long"
	// FailureProtocolError: a reply that is not SMTP: no three-digit code,
	// a bad separator, codes that change within a reply, or data sent
	// after the STARTTLS reply before the handshake. Err holds the
	// offending bytes, escaped.
	FailureProtocolError Failure = "protocol_error"
	// FailureConnectionClosed: the server hung up in the middle of the
	// SMTP dialogue: a FIN while the greeting was read, or a FIN or RST
	// once one of our commands was written (see "Hang-ups" below).
	FailureConnectionClosed Failure = "connection_closed"
	// FailureConnectionReset: the server reset the connection (RST) before
	// we wrote anything (while the greeting was read), the server hung up
	// (FIN or RST) during the TLS handshake without sending an alert, or
	// another I/O error occurred on the established connection before TLS.
	FailureConnectionReset Failure = "connection_reset"
	// FailureCanceled: ctx was canceled before the probe finished.
	FailureCanceled Failure = "canceled"
)

// Failures returns the closed failure vocabulary, in a fixed order, without
// the empty success value. The caller owns the slice.
func Failures() []Failure {
	return []Failure{
		FailureConfig,
		FailureConnectRefused, FailureConnectTimeout, FailureUnreachable, FailureConnectFailed,
		FailureBannerTimeout, FailureBannerRejected,
		FailureEHLOTimeout, FailureEHLORejected,
		FailureSTARTTLSNotOffered, FailureSTARTTLSTimeout, FailureSTARTTLSRejected,
		FailureTLSHandshakeTimeout, FailureTLSHandshakeFailed, FailureTLSCertificateUnparsable,
		FailureLineTooLong, FailureTooManyLines, FailureTranscriptTooLong, FailureProtocolError,
		FailureConnectionClosed, FailureConnectionReset,
		FailureCanceled,
	}
}

// Stage is a stage of a probe, as recorded in [Result.Stage] and
// [Error.Stage].
type Stage string

// The stages of a probe, in order; [Stages] returns them.
const (
	StageConfig    Stage = "config"
	StageConnect   Stage = "connect"
	StageBanner    Stage = "banner"
	StageEHLO      Stage = "ehlo"
	StageSTARTTLS  Stage = "starttls"
	StageHandshake Stage = "handshake"
	StageQUIT      Stage = "quit"
)

// Stages returns the stages in the order a probe passes them.
func Stages() []Stage {
	return []Stage{StageConfig, StageConnect, StageBanner, StageEHLO, StageSTARTTLS, StageHandshake, StageQUIT}
}

// Error is the error [Probe] returns: the stage that failed, its failure
// string from the vocabulary and the underlying cause (a *textproto.Error
// for a refusing reply, a *net.OpError, a crypto/tls error ...).
type Error struct {
	Stage   Stage
	Failure Failure
	Err     error
}

// Error returns "starttls <stage>: <cause>".
func (e *Error) Error() string { return "starttls " + string(e.Stage) + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Sentinel causes produced by this package; classify maps them.
var (
	errLineTooLong       = errors.New("reply line too long")
	errTooManyLines      = errors.New("too many reply lines")
	errTranscriptTooLong = errors.New("transcript too long")
	errProtocol          = errors.New("protocol error")
	errNotOffered        = errors.New("STARTTLS not offered")
	errBadSigAlgs        = errors.New("unknown SigAlgs mode")
)

// # Hang-ups
//
// A peer that closes its socket while our data sits unread in its receive
// buffer, or that receives our data after it closed, makes its kernel
// answer with RST; whether we then read EOF (its FIN came first) or
// ECONNRESET depends on timing alone. So a FIN and an RST are told apart
// only where we had written nothing the peer could leave unread:
//
//   - banner (nothing written yet): EOF is connection_closed, ECONNRESET
//     connection_reset (a reset on accept, SO_LINGER 0; when the RST
//     arrives before the dial returns, the dial's ECONNRESET is reported
//     in this stage too, as the connection had been established);
//   - ehlo, starttls (our command was written): EOF, ECONNRESET, EPIPE and
//     ECONNABORTED are all connection_closed: the server hung up;
//   - handshake (our ClientHello was written): EOF, an unexpected EOF
//     inside a record, ECONNRESET, EPIPE and ECONNABORTED are all
//     connection_reset: the handshake was aborted without a TLS alert (a
//     server that refuses the handshake properly sends one, and that is
//     tls_handshake_failed);
//   - quit: errors are not recorded.
//
// A timeout and a canceled ctx take precedence over the hang-up.

// classify maps the error of a stage to the failure vocabulary. It is the
// only place that does. ctxErr is ctx.Err() at the time of the failure:
// a canceled ctx wins over whatever the closed connection reported, and a
// ctx deadline counts as the stage's own timeout.
func classify(stage Stage, err error, ctxErr error) Failure {
	if err == nil {
		return ""
	}
	if errors.Is(err, errBadSigAlgs) {
		return FailureConfig
	}
	if errors.Is(ctxErr, context.Canceled) || errors.Is(err, context.Canceled) {
		return FailureCanceled
	}
	timeout := errors.Is(ctxErr, context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		timeout = true
	}
	switch {
	case errors.Is(err, errLineTooLong):
		return FailureLineTooLong
	case errors.Is(err, errTooManyLines):
		return FailureTooManyLines
	case errors.Is(err, errTranscriptTooLong):
		return FailureTranscriptTooLong
	case errors.Is(err, errProtocol):
		return FailureProtocolError
	case errors.Is(err, errNotOffered):
		return FailureSTARTTLSNotOffered
	}
	var te *textproto.Error
	refused := errors.As(err, &te)
	closed := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
	reset := errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED)
	switch stage {
	case StageConnect:
		switch {
		case timeout:
			return FailureConnectTimeout
		case errors.Is(err, syscall.ECONNREFUSED):
			return FailureConnectRefused
		case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH),
			errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.ENETDOWN),
			errors.Is(err, syscall.EHOSTDOWN):
			return FailureUnreachable
		}
		return FailureConnectFailed
	case StageHandshake:
		switch {
		case timeout:
			return FailureTLSHandshakeTimeout
		case isUnparsable(err):
			return FailureTLSCertificateUnparsable
		case closed || reset:
			if _, _, alert := alertOf(err); !alert {
				return FailureConnectionReset
			}
		}
		return FailureTLSHandshakeFailed
	}
	switch {
	case timeout:
		switch stage {
		case StageBanner:
			return FailureBannerTimeout
		case StageEHLO:
			return FailureEHLOTimeout
		case StageSTARTTLS:
			return FailureSTARTTLSTimeout
		}
	case refused:
		switch stage {
		case StageBanner:
			return FailureBannerRejected
		case StageEHLO:
			return FailureEHLORejected
		case StageSTARTTLS:
			return FailureSTARTTLSRejected
		}
	case closed:
		return FailureConnectionClosed
	case reset && stage == StageBanner:
		return FailureConnectionReset
	case reset:
		return FailureConnectionClosed
	}
	// Anything else in the SMTP stages is an I/O error on an established
	// connection; the closest word is connection_reset.
	return FailureConnectionReset
}

// isUnparsable reports whether a handshake error is crypto/tls's
// "failed to parse certificate from server" (a plain errors.New string,
// so it is matched by text), or an x509 parse error.
func isUnparsable(err error) bool {
	return strings.Contains(err.Error(), "failed to parse certificate")
}

// alertOf returns the TLS alert the server sent, if err carries one.
// crypto/tls reports a received alert as *net.OpError{Op: "remote error"}
// whose Err is an unexported uint8 type; [tls.AlertError] is used over QUIC.
func alertOf(err error) (uint8, string, bool) {
	if a, ok := errors.AsType[tls.AlertError](err); ok {
		return uint8(a), a.Error(), true
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "remote error" && oe.Err != nil {
		v := reflect.ValueOf(oe.Err)
		if v.Kind() == reflect.Uint8 {
			a := tls.AlertError(v.Uint())
			return uint8(a), a.Error(), true
		}
	}
	return 0, "", false
}

// protocolErrorf returns an error wrapping errProtocol.
func protocolErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errProtocol}, args...)...)
}
