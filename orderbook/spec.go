package orderbook

import (
	"fmt"
	"strings"

	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/wire"
)

// Spec says how the local order book of one market is kept: where its REST
// depth snapshot is served, what it costs, and which diff stream follows it
// (Open), and which snapshot streams serve the top of the book whole
// (OpenSnapshot). A market with snapshot streams only has no Diff,
// DiffStream, Changes, Path, REST or Limits: Open refuses it.
// Each generated market package that has one exports it as its OrderBook
// variable, built from the schema's order_book block; nothing in it is
// written by hand.
type Spec struct {
	// Market is the market the diff stream is subscribed on.
	Market *runtime.Market
	// Diff is the schema name of the diff stream (for messages).
	Diff string
	// DiffStream returns the diff stream of a symbol, validated.
	DiffStream func(symbol string) (runtime.Stream, error)
	// Changes visits the changed levels of a value the diff stream decoded,
	// bids first, best or not, as received; it returns false when v is not
	// a diff event. A nil visit only checks that.
	Changes func(v any, visit func(bid bool, price, qty wire.Decimal)) bool
	// First is the rule the first event applied after a snapshot obeys.
	First FirstRule
	// Path is the REST path of the depth snapshot; its query takes symbol
	// and limit.
	Path string
	// REST holds the snapshot's base URLs, named like the market's
	// Endpoints (production, testnet, demo); the first is the default.
	REST []runtime.Endpoint
	// UpdateID is the member of the snapshot reply holding its update id.
	UpdateID string
	// Limits are the limit values the snapshot accepts and their weights.
	Limits Limits
	// WeightPerMinute is the request weight one IP may use per minute on
	// the REST host (the exchange's REQUEST_WEIGHT limit); 0 when the
	// schema states none.
	WeightPerMinute int
	// Snapshots are the market's snapshot streams (partial depth): each
	// message holds the top levels of both sides whole. OpenSnapshot keeps
	// a Book from one of them; the first is the default.
	Snapshots []SnapshotSpec
}

// SnapshotSpec is a stream whose every message is the top of the book,
// both sides whole, with an update id that never goes backwards: a
// partial-depth stream. It is generated from a snapshot of the schema's
// order_book block.
type SnapshotSpec struct {
	// Name is the stream's schema name.
	Name string
	// Levels are the levels per side the stream offers, ascending.
	Levels []int
	// Stream returns the stream of a symbol at levels per side, validated.
	Stream func(symbol string, levels int) (runtime.Stream, error)
	// Read visits the levels of a value the stream decoded, bids first, as
	// received, and returns its update id; ok is false when v is not one of
	// its messages. A nil visit only reads the id.
	Read func(v any, visit func(bid bool, price, qty wire.Decimal)) (id int64, ok bool)
}

// FirstRule says which events a snapshot with update id L makes stale and
// which event must come first after it.
type FirstRule uint8

const (
	// FirstNext: events with u <= L are stale; the first applied event
	// holds L+1 (U <= L+1 <= u). For streams whose ids are consecutive.
	FirstNext FirstRule = iota + 1
	// FirstCovering: events with u < L are stale; the first applied event
	// holds L itself (U <= L <= u), and is applied again. For streams
	// whose events name their predecessor (pu).
	FirstCovering
)

// String returns the rule's schema name.
func (r FirstRule) String() string {
	switch r {
	case FirstNext:
		return "next"
	case FirstCovering:
		return "covering"
	}
	return fmt.Sprintf("FirstRule(%d)", int(r))
}

// Limits are the limit values a snapshot accepts and the request weight of
// each.
type Limits struct {
	Default int      // the limit the exchange uses when none is sent
	Max     int      // the largest limit
	Values  []int    // the only values accepted, ascending; nil: any from 1 to Max
	Weights []Weight // ascending by UpTo; the last covers Max
}

// Weight is the request weight of the limits up to UpTo (inclusive) and
// above the previous Weight's UpTo.
type Weight struct {
	UpTo   int
	Weight int
}

// Valid reports whether the snapshot accepts limit n.
func (l Limits) Valid(n int) bool {
	if n < 1 || n > l.Max {
		return false
	}
	if l.Values == nil {
		return true
	}
	for _, v := range l.Values {
		if v == n {
			return true
		}
	}
	return false
}

// Weight returns the request weight of a snapshot of limit n; 0 when n is
// not valid.
func (l Limits) Weight(n int) int {
	if !l.Valid(n) {
		return 0
	}
	for _, w := range l.Weights {
		if n <= w.UpTo {
			return w.Weight
		}
	}
	return 0
}

// Fit returns the smallest valid limit of at least n levels, or Max.
func (l Limits) Fit(n int) int {
	if l.Values == nil {
		return min(max(n, 1), l.Max)
	}
	for _, v := range l.Values {
		if v >= n {
			return v
		}
	}
	return l.Max
}

// check reports what makes s unusable.
func (s *Spec) check() error {
	switch {
	case s == nil:
		return fmt.Errorf("orderbook: nil Spec")
	case s.Market != nil && s.DiffStream == nil && s.Changes == nil && len(s.Snapshots) > 0:
		return fmt.Errorf("orderbook: market %q has no diff stream, only snapshot streams (%s): use OpenSnapshot", s.Market.Name, s.snapshotNames())
	case s.Market == nil || s.DiffStream == nil || s.Changes == nil:
		return fmt.Errorf("orderbook: Spec of %q is incomplete (use a generated market's OrderBook)", s.Diff)
	case s.Path == "" || len(s.REST) == 0 || s.Limits.Max <= 0:
		return fmt.Errorf("orderbook: Spec of market %q has no snapshot endpoint", s.Market.Name)
	case s.First != FirstNext && s.First != FirstCovering:
		return fmt.Errorf("orderbook: Spec of market %q: unknown first-event rule %v", s.Market.Name, s.First)
	}
	return nil
}

// snapshotNames lists the names of s's snapshot streams, comma-separated.
func (s *Spec) snapshotNames() string {
	names := make([]string, len(s.Snapshots))
	for i, sn := range s.Snapshots {
		names[i] = sn.Name
	}
	return strings.Join(names, ", ")
}
