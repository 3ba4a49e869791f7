package runtime

import (
	"errors"
	"math/rand/v2"
	"time"
)

// Backoff is a capped exponential reconnect delay with jitter. The first
// attempt after a clean drop waits only a random fraction Jitter of Initial;
// attempt n ≥ 1 (the n-th failure in a row) waits Initial × Factor^(n-1),
// capped at Max, moved by a random ±Jitter fraction, so that many clients do
// not reconnect in step.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	Factor  float64
	Jitter  float64 // 0.2 means ±20 %
}

// DefaultBackoff reconnects within 0.2 s after a clean drop, then waits 1 s,
// 1.6 s, 2.56 s, ... up to 30 s, each ±20 %.
var DefaultBackoff = Backoff{Initial: time.Second, Max: 30 * time.Second, Factor: 1.6, Jitter: 0.2}

func (b Backoff) validate() error {
	if b.Initial <= 0 || b.Max < b.Initial || b.Factor < 1 || b.Jitter < 0 || b.Jitter >= 1 {
		return errors.New("runtime: WithBackoff: want 0 < Initial <= Max, Factor >= 1, 0 <= Jitter < 1")
	}
	return nil
}

// Delay returns the wait before reconnect attempt n: 0 for the first after a
// clean drop, n for the attempt after n failures in a row.
func (b Backoff) Delay(n int) time.Duration {
	if n <= 0 {
		return time.Duration(b.Jitter * rand.Float64() * float64(b.Initial))
	}
	d := float64(b.Initial)
	for i := 1; i < n && d < float64(b.Max); i++ {
		d *= b.Factor
	}
	d = min(d, float64(b.Max))
	if b.Jitter > 0 {
		d *= 1 + b.Jitter*(2*rand.Float64()-1)
	}
	return time.Duration(d)
}
