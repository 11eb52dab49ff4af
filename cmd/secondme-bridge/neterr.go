package main

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
)

// Kinds of network failure, as check and probe name them.
const (
	netNoAnswer = "no answer"          // the server accepted nothing or said nothing in time
	netRefused  = "connection refused" // nothing listens there
	netNoHost   = "unknown host"       // DNS has no such name
	netTLS      = "TLS failure"        // the certificate or handshake failed
	netOther    = "network error"
)

// netErrorKind classifies a failed HTTP request (nil: not a network error:
// the server answered).
func netErrorKind(err error) string {
	var dnsErr *net.DNSError
	var uerr *url.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, syscall.ECONNREFUSED):
		return netRefused
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return netNoHost
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), isTimeout(err):
		return netNoAnswer
	case errors.As(err, &uerr) && strings.Contains(uerr.Err.Error(), "tls:"),
		strings.Contains(err.Error(), "x509:"):
		return netTLS
	default:
		return netOther
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// describeNetError says what happened in words an operator acts on:
// "no answer within the timeout (...)" or "connection refused (...)".
func describeNetError(err error) string {
	switch netErrorKind(err) {
	case netRefused:
		return "connection refused: nothing listens at that address (" + err.Error() + ")"
	case netNoAnswer:
		return "no answer within the timeout: the host or a firewall drops the connection, or the server hangs (" + err.Error() + ")"
	case netNoHost:
		return "unknown host: DNS has no such name (" + err.Error() + ")"
	case netTLS:
		return "TLS failure (" + err.Error() + ")"
	default:
		return err.Error()
	}
}

// oneLine squeezes s onto one short line (for a body quoted in an error).
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
