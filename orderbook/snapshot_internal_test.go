package orderbook

import (
	"errors"
	"testing"

	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/wire"
)

// testTop is a message of a test snapshot stream.
type testTop struct {
	id         int64
	bids, asks [][2]wire.Decimal
}

// testSnapBook returns a book kept from a test snapshot stream, fed
// through handleSnapshot, and the events it reported.
func testSnapBook(t *testing.T, opts ...Option) (*Book, *[]Event) {
	sn := &SnapshotSpec{
		Name: "top", Levels: []int{5, 20},
		Stream: func(symbol string, levels int) (runtime.Stream, error) {
			return runtime.Stream{Name: symbol + "@top"}, nil
		},
		Read: func(v any, visit func(bool, wire.Decimal, wire.Decimal)) (int64, bool) {
			e, ok := v.(*testTop)
			if !ok {
				return 0, false
			}
			if visit != nil {
				for _, l := range e.bids {
					visit(true, l[0], l[1])
				}
				for _, l := range e.asks {
					visit(false, l[0], l[1])
				}
			}
			return e.id, true
		},
	}
	var events []Event
	o := options{onEvent: func(e Event) { events = append(events, e) }}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := sn.Stream("X", 20)
	b := newBook(&Spec{Market: &runtime.Market{Name: "test"}, Snapshots: []SnapshotSpec{*sn}}, "X", o, st)
	b.snap = sn
	return b, &events
}

func snapTop(t *testing.T, b *Book) Snapshot {
	t.Helper()
	s, err := b.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v (state %v)", err, b.State())
	}
	return s
}

func levelsOf(ls []Level) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Price.String()+"x"+l.Qty.String())
	}
	return out
}

func TestSnapshotStreamReplacesWhole(t *testing.T) {
	b, events := testSnapBook(t)
	if b.State() != Syncing {
		t.Fatalf("state %v before any message", b.State())
	}
	b.handleSnapshot(&testTop{id: 10, bids: lv("100.5", "1", "100", "2"), asks: lv("101", "3", "102.25", "4")})
	s := snapTop(t, b)
	if s.LastUpdateID != 10 || len(s.Bids) != 2 || len(s.Asks) != 2 {
		t.Fatalf("after the first message: %+v", s)
	}
	// The next message replaces both sides whole: levels it omits are gone.
	// (Prices share the book's scale, here one decimal.)
	b.handleSnapshot(&testTop{id: 12, bids: lv("99", "5"), asks: lv("101.5", "6", "103", "7")})
	s = snapTop(t, b)
	if got := levelsOf(s.Bids); len(got) != 1 || got[0] != "99.0x5" {
		t.Errorf("bids %v, want [99.0x5]", got)
	}
	if got := levelsOf(s.Asks); len(got) != 2 || got[0] != "101.5x6" || got[1] != "103.0x7" {
		t.Errorf("asks %v, want [101.5x6 103.0x7]", got)
	}
	// The same id again replaces it too.
	b.handleSnapshot(&testTop{id: 12, bids: lv("98", "1"), asks: lv("101.5", "6")})
	if bb, _ := b.BestBid(); bb.Price.String() != "98.0" {
		t.Errorf("best bid %v after a message with the same id, want 98", bb.Price)
	}
	if st := b.Stats(); st.Syncs != 1 || st.Applied != 2 {
		t.Errorf("stats %+v, want 1 sync and 2 applied", st)
	}
	if len(*events) != 1 || (*events)[0].Kind != EventSynced || (*events)[0].LastUpdateID != 10 {
		t.Errorf("events %v, want one synced at 10", *events)
	}
}

func TestSnapshotStreamBackwards(t *testing.T) {
	b, events := testSnapBook(t)
	b.handleSnapshot(&testTop{id: 10, bids: lv("100", "1"), asks: lv("101", "1")})
	b.handleSnapshot(&testTop{id: 9, bids: lv("50", "1"), asks: lv("51", "1")})
	if b.State() != Synced {
		t.Fatalf("state %v after a backwards message", b.State())
	}
	s := snapTop(t, b)
	if s.LastUpdateID != 10 || levelsOf(s.Bids)[0] != "100x1" || levelsOf(s.Asks)[0] != "101x1" {
		t.Errorf("a backwards message changed the book: %+v", s)
	}
	e := (*events)[len(*events)-1]
	if e.Kind != EventBackwards || e.LastUpdateID != 10 || e.From != 9 || !errors.Is(e.Err, ErrBackwards) {
		t.Errorf("event %v, want backwards 9 < 10", e)
	}
	if b.Stats().Backwards != 1 {
		t.Errorf("stats %+v, want 1 backwards", b.Stats())
	}
	// Backwards before the first sync: rejected too.
	b2, _ := testSnapBook(t)
	b2.handleSnapshot(&testTop{id: 10, bids: lv("100", "1"), asks: lv("101", "1")})
	b2.handleSnapshot(&testTop{id: 3, bids: lv("100", "1"), asks: lv("101", "1")})
	if b2.Stats().Backwards != 1 || b2.Stats().Applied != 0 {
		t.Errorf("stats %+v", b2.Stats())
	}
}

func TestSnapshotStreamCrossed(t *testing.T) {
	var updates []Update
	b, events := testSnapBook(t, OnUpdate(func(u *Update) {
		c := *u
		c.Changes = append([]Change(nil), u.Changes...)
		updates = append(updates, c)
	}))
	// A crossed first message: never Synced.
	b.handleSnapshot(&testTop{id: 5, bids: lv("101", "1"), asks: lv("101", "1")})
	if b.State() != Syncing {
		t.Fatalf("state %v after a crossed first message", b.State())
	}
	b.handleSnapshot(&testTop{id: 10, bids: lv("100", "1"), asks: lv("101", "1")})
	if b.State() != Synced {
		t.Fatalf("state %v after a good message", b.State())
	}
	// Crossed while Synced: reads fail until a good message.
	b.handleSnapshot(&testTop{id: 11, bids: lv("102", "1"), asks: lv("101", "1")})
	if b.State() != Resyncing {
		t.Fatalf("state %v after a crossed message", b.State())
	}
	if _, err := b.Snapshot(); !errors.Is(err, ErrNotSynced) {
		t.Errorf("Snapshot of a crossed book: %v", err)
	}
	if _, ok := b.BestBid(); ok {
		t.Error("BestBid answered on a crossed book")
	}
	// The crossed message did not move the book's id: 10 is not backwards.
	b.handleSnapshot(&testTop{id: 10, bids: lv("99", "2"), asks: lv("101", "1")})
	if s := snapTop(t, b); s.LastUpdateID != 10 || levelsOf(s.Bids)[0] != "99x2" {
		t.Errorf("after a good message: %+v", s)
	}
	// An unreadable message (a bad price): rejected the same way.
	b.handleSnapshot(&testTop{id: 13, bids: lv("-1", "2"), asks: lv("101", "1")})
	if b.State() != Resyncing {
		t.Errorf("state %v after an unreadable message", b.State())
	}
	b.handleSnapshot("not a message")
	b.handleSnapshot(&testTop{id: 14, bids: lv("99", "2"), asks: lv("100", "1")})
	b.handleSnapshot(&testTop{id: 15, bids: lv("99", "3"), asks: lv("100", "1")})
	if b.State() != Synced {
		t.Errorf("state %v", b.State())
	}
	st := b.Stats()
	if st.Crossed != 2 || st.Syncs != 3 || st.Resyncs != 2 || st.Applied != 1 {
		t.Errorf("stats %+v, want 2 crossed, 3 syncs, 2 resyncs, 1 applied", st)
	}
	var kinds []EventKind
	for _, e := range *events {
		kinds = append(kinds, e.Kind)
	}
	want := []EventKind{EventResync, EventSynced, EventResync, EventSynced, EventResync, EventResync, EventSynced}
	if len(kinds) != len(want) {
		t.Fatalf("events %v, want kinds %v", *events, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("events %v, want kinds %v", *events, want)
		}
	}
	if !errors.Is((*events)[0].Err, ErrCrossed) || !errors.Is((*events)[4].Err, ErrBadEvent) {
		t.Errorf("reasons %v, %v", (*events)[0].Err, (*events)[4].Err)
	}
	// OnUpdate: the message after a sync, whole.
	if len(updates) != 1 || updates[0].LastID != 15 || len(updates[0].Changes) != 2 || updates[0].Changes[0].Qty.String() != "3" {
		t.Errorf("updates %+v", updates)
	}
}

func TestSnapshotStreamSuspect(t *testing.T) {
	b, _ := testSnapBook(t)
	b.handleSnapshot(&testTop{id: 10, bids: lv("100", "1"), asks: lv("101", "1")})
	b.Suspect()
	if b.State() != Resyncing {
		t.Fatalf("state %v after Suspect", b.State())
	}
	b.handleSnapshot(&testTop{id: 9, bids: lv("100", "1"), asks: lv("101", "1")})
	if b.State() != Resyncing {
		t.Fatalf("a backwards message synced a Suspect book")
	}
	b.handleSnapshot(&testTop{id: 11, bids: lv("100", "1"), asks: lv("101", "1")})
	if b.State() != Synced || b.Stats().Syncs != 2 {
		t.Fatalf("state %v, stats %+v after a good message", b.State(), b.Stats())
	}
}
