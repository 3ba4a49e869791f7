package runtime

import "time"

// limiter keeps a socket's outgoing frames within the exchange's message
// limit. It allows at most n frames in any window of length per, by
// remembering when each of the last n frames went out: a frame waits until
// the n-th previous one is a full window old.
//
// This is a token bucket of n tokens where each token comes back exactly one
// window after it was spent. A classic bucket (refill n/s continuously, burst
// n) can put nearly 2n frames into one second, which the exchange punishes by
// closing the connection, so it is not used.
//
// Only the socket's writer goroutine uses a limiter.
type limiter struct {
	per  time.Duration
	sent []time.Time // ring of the last n send times
	next int
}

func newLimiter(n int, per time.Duration) *limiter {
	if n <= 0 {
		return &limiter{}
	}
	return &limiter{per: per, sent: make([]time.Time, n)}
}

// wait blocks until one more frame may go out and records it as sent. It
// returns false if stop is closed first.
func (l *limiter) wait(stop <-chan struct{}) bool {
	if len(l.sent) == 0 {
		return true
	}
	if oldest := l.sent[l.next]; !oldest.IsZero() {
		if d := time.Until(oldest.Add(l.per)); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-stop:
				t.Stop()
				return false
			}
		}
	}
	l.sent[l.next] = time.Now()
	l.next = (l.next + 1) % len(l.sent)
	return true
}
