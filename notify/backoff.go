package notify

import (
	"errors"
	"math/rand/v2"
	"time"
)

// RetryAfter is implemented by notifier errors that know when to try again,
// such as Slack's 429 with a Retry-After header.
type RetryAfter interface {
	RetryAfter() time.Duration
}

// baseBackoff is the wait after the first failed attempt.
const baseBackoff = time.Second

// Backoff returns the wait before retrying after the given failed attempt
// (1-based): 1 s, 2 s, 4 s, … capped at max, each shortened by up to a fifth
// at random so replicas that failed together do not retry together.
func Backoff(attempt int, max time.Duration) time.Duration {
	d := baseBackoff
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	if d <= 0 {
		return 0
	}
	return d - rand.N(d/5+1)
}

// retryAfter returns the wait err asks for, if it asks.
func retryAfter(err error) (time.Duration, bool) {
	var ra RetryAfter
	if errors.As(err, &ra) {
		if d := ra.RetryAfter(); d > 0 {
			return d, true
		}
	}
	return 0, false
}
