package fallback

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/credmon/credmon/store"
)

// Unreachable reports whether err says the store could not be reached —
// network errors, timeouts, a dropped connection — rather than an answer
// (store.ErrNotFound, a lost lease) or the caller giving up
// (context.Canceled). It knows no driver: a driver whose client has outage
// errors of its own supplies a classifier that adds them (see
// redisstore.Unreachable) through Options.Unreachable.
func Unreachable(err error) bool {
	switch {
	case err == nil,
		errors.Is(err, store.ErrNotFound),
		errors.Is(err, context.Canceled):
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	for _, target := range []error{
		io.EOF, io.ErrUnexpectedEOF, context.DeadlineExceeded,
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE, syscall.ETIMEDOUT,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// Uncertain reports whether a call that failed with err, an outage error,
// may still have been carried out: anything but a connection that was
// never made (refused, or failing to dial). A driver whose client has
// errors that are clearly refusals adds them (see redisstore.Uncertain)
// through Options.Uncertain.
func Uncertain(err error) bool {
	if err == nil || errors.Is(err, syscall.ECONNREFUSED) {
		return false
	}
	var oe *net.OpError
	return !errors.As(err, &oe) || oe.Op != "dial"
}
