package orderbook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/marketwire/marketwire/runtime"
)

// Defaults of the options.
const (
	// DefaultBuffer is the most diff events buffered during a sync.
	DefaultBuffer = 16384
	// DefaultFirstWait is how long a sync waits for the first diff event
	// before it fetches the snapshot anyway.
	DefaultFirstWait = 2 * time.Second
	// DefaultRetryMin and DefaultRetryMax bound the delay between snapshot
	// attempts (and between resyncs that follow each other), which grows
	// by 1.6 per attempt with ±20 % jitter.
	DefaultRetryMin = 250 * time.Millisecond
	DefaultRetryMax = 10 * time.Second
	// stableAfter is how long a book must stay Synced for its next resync
	// to start at once rather than after a growing delay.
	stableAfter = 10 * time.Second
)

// Option configures Open.
type Option func(*options) error

type options struct {
	limit     int
	rest      string
	env       string
	fetcher   *Fetcher
	onUpdate  func(*Update)
	onEvent   func(Event)
	buffer    int
	firstWait time.Duration
	retryMin  time.Duration
	retryMax  time.Duration
	sub       []runtime.SubscribeOption

	snapSrc SnapshotFunc // Open: where snapshots come from instead of REST

	levels     int    // OpenSnapshot: levels per side
	snapStream string // OpenSnapshot: the snapshot stream's name
}

// WithLimit sets the levels per side of the REST snapshot (the Spec's limit
// values; the default is the smallest accepted limit of at least 1000).
// Levels deeper than the snapshot are unknown until a diff sets them.
func WithLimit(n int) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("orderbook: WithLimit: %d is not positive", n)
		}
		o.limit = n
		return nil
	}
}

// WithREST sets the REST base URL of the snapshot (such as the
// simulator's); by default the Spec's first host (production).
func WithREST(base string) Option {
	return func(o *options) error {
		if base == "" {
			return errors.New("orderbook: WithREST: empty URL")
		}
		o.rest = base
		return nil
	}
}

// WithEnvironment picks the Spec's REST host by name (production,
// testnet, demo); use the one the Conn was dialled for.
func WithEnvironment(name string) Option {
	return func(o *options) error {
		o.env = name
		return nil
	}
}

// WithFetcher makes the book fetch its snapshots through f, whose weight
// budget it shares with the other books using f. By default the books of
// one REST host share a process-wide Fetcher with the Spec's budget.
func WithFetcher(f *Fetcher) Option {
	return func(o *options) error {
		if f == nil {
			return errors.New("orderbook: WithFetcher: nil Fetcher")
		}
		o.fetcher = f
		return nil
	}
}

// OnUpdate sets a function called after each diff event is applied to a
// Synced book, in order, with the changed levels; the event that completes
// a sync is not reported (read the whole book after EventSynced). On a
// book kept from a snapshot stream (OpenSnapshot), each accepted message
// after the one that synced it is reported whole: Changes holds every
// level of the new book, FirstID and LastID its update id. It runs
// on the book's own goroutines, one call at a time, and must not call
// Close; the Update is valid only during the call.
func OnUpdate(fn func(*Update)) Option {
	return func(o *options) error {
		o.onUpdate = fn
		return nil
	}
}

// OnEvent sets a function called with each synchronisation Event, in
// order, one at a time, on the book's goroutines; it must not call Close.
func OnEvent(fn func(Event)) Option {
	return func(o *options) error {
		o.onEvent = fn
		return nil
	}
}

// WithBuffer sets the most diff events kept while a sync waits for its
// snapshot (default DefaultBuffer); beyond it the oldest are dropped and
// the sync starts over.
func WithBuffer(n int) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("orderbook: WithBuffer: %d is not positive", n)
		}
		o.buffer = n
		return nil
	}
}

// WithRetry sets the bounds of the delay between snapshot attempts and
// between resyncs that follow each other closely.
func WithRetry(minDelay, maxDelay time.Duration) Option {
	return func(o *options) error {
		if minDelay <= 0 || maxDelay < minDelay {
			return fmt.Errorf("orderbook: WithRetry: bad bounds %v, %v", minDelay, maxDelay)
		}
		o.retryMin, o.retryMax = minDelay, maxDelay
		return nil
	}
}

// WithFirstWait sets how long a sync waits for the first diff event before
// it fetches the snapshot (default DefaultFirstWait).
func WithFirstWait(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("orderbook: WithFirstWait: %v is negative", d)
		}
		o.firstWait = d
		return nil
	}
}

// WithSubscribeOptions passes options to the diff stream's Subscribe.
func WithSubscribeOptions(opts ...runtime.SubscribeOption) Option {
	return func(o *options) error {
		o.sub = append(o.sub, opts...)
		return nil
	}
}

// WithLevels sets the levels per side of a book kept from a snapshot
// stream (OpenSnapshot): one of the stream's SnapshotSpec.Levels; by
// default the most it offers.
func WithLevels(n int) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("orderbook: WithLevels: %d is not positive", n)
		}
		o.levels = n
		return nil
	}
}

// WithSnapshotStream makes OpenSnapshot use the Spec's snapshot stream of
// that schema name rather than the first.
func WithSnapshotStream(name string) Option {
	return func(o *options) error {
		if name == "" {
			return errors.New("orderbook: WithSnapshotStream: empty name")
		}
		o.snapStream = name
		return nil
	}
}

// SnapshotFunc returns a snapshot of symbol's book (see
// WithSnapshotSource): its LastUpdateID and its levels, exact, best first
// or in any order. limit is WithLimit's value, 0 when none was given (as
// many levels as the source has). An error is reported as
// EventSnapshotError and the call retried after a growing delay
// (WithRetry); it should return when ctx is done.
type SnapshotFunc func(ctx context.Context, symbol string, limit int) (*Snapshot, error)

// WithSnapshotSource makes Open take its snapshots from fn instead of the
// market's REST host: no Fetcher is used and WithFetcher, WithREST and
// WithEnvironment are refused. The sync algorithm is unchanged: the
// buffered diff events older than the snapshot are dropped, the first
// event after it must reach it, and a snapshot older than the buffered
// events (EventStaleSnapshot) is asked for again with the buffer kept.
// The Spec's limit values do not apply to WithLimit. A symbol in the
// returned Snapshot, when set, must be the book's (case aside).
func WithSnapshotSource(fn SnapshotFunc) Option {
	return func(o *options) error {
		if fn == nil {
			return errors.New("orderbook: WithSnapshotSource: nil function")
		}
		o.snapSrc = fn
		return nil
	}
}
