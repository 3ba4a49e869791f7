package runtime

import (
	"net/url"
	"sync"
	"time"
)

// budget keeps new connections within the exchange's connection-attempt
// limit (Limits.ConnectionAttempts per ConnectionWindow, per client IP). It
// is shared by every Conn of the process that connects to the same host, so
// that many Conns, many sockets and reconnect storms after a network blip
// stay within it together. Like limiter, it allows at most n attempts in any
// window: an attempt waits until the n-th previous one is a window old.
type budget struct {
	mu   sync.Mutex
	n    int
	per  time.Duration
	sent []time.Time // ring of the last n attempt times (future ones are reservations)
	next int
}

var (
	budgetsMu sync.Mutex
	budgets   = map[string]*budget{}
)

// budgetFor returns the process-wide budget of the host of base; nil (no
// limit) when n is 0.
func budgetFor(base string, n int, per time.Duration) *budget {
	if n <= 0 || per <= 0 {
		return nil
	}
	host := base
	if u, err := url.Parse(base); err == nil {
		host = u.Host
	}
	per = per * (100 + limiterMargin) / 100 // as for control messages: jitter cannot squeeze in one more
	budgetsMu.Lock()
	defer budgetsMu.Unlock()
	b := budgets[host]
	if b == nil || b.n != n || b.per != per {
		b = &budget{n: n, per: per, sent: make([]time.Time, n)}
		budgets[host] = b
	}
	return b
}

// reserve books the next attempt and returns how long to wait for it.
func (b *budget) reserve() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	at := now
	if oldest := b.sent[b.next]; !oldest.IsZero() && oldest.Add(b.per).After(at) {
		at = oldest.Add(b.per)
	}
	b.sent[b.next] = at
	b.next = (b.next + 1) % len(b.sent)
	return at.Sub(now)
}

// wait blocks until one more connection attempt is allowed, or stop is
// closed (then it returns ErrClosed). A nil budget never waits.
func (b *budget) wait(stop <-chan struct{}) error {
	if b == nil {
		return nil
	}
	d := b.reserve()
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-stop:
		return ErrClosed
	}
}
