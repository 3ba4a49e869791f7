package runtime

import (
	"sync"
	"time"
)

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
// Only the socket's writer goroutine waits on a limiter; Stats counts its
// recent frames.
type limiter struct {
	mu   sync.Mutex // guards sent and next against recent
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
	l.mu.Lock()
	oldest := l.sent[l.next]
	l.mu.Unlock()
	if !oldest.IsZero() {
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
	l.mu.Lock()
	l.sent[l.next] = time.Now()
	l.next = (l.next + 1) % len(l.sent)
	l.mu.Unlock()
	return true
}

// written moves the time of the frame wait last let out to now, once it is
// written: a writer descheduled between wait and the end of its write (for
// 100 ms and more on a loaded machine) would otherwise send that frame
// later than recorded, and the frame n places after it, waiting for the
// recorded time plus the window, would reach the server less than a window
// after it.
func (l *limiter) written() {
	if len(l.sent) == 0 {
		return
	}
	l.mu.Lock()
	l.sent[(l.next+len(l.sent)-1)%len(l.sent)] = time.Now()
	l.mu.Unlock()
}

// recent returns how many frames went out within the last d, counting at
// most the limit's n (the most it remembers); 0 without a limit.
func (l *limiter) recent(d time.Duration) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	since, n := time.Now().Add(-d), 0
	for _, t := range l.sent {
		if t.After(since) {
			n++
		}
	}
	return n
}
