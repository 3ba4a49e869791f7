package orderbook

import (
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/wire"
)

// testEvent is a diff event of a test market.
type testEvent struct {
	U, u, pu   int64
	bids, asks [][2]wire.Decimal
}

func testSpec(first FirstRule) *Spec {
	kind := runtime.SeqConsecutive
	if first == FirstCovering {
		kind = runtime.SeqLinked
	}
	m := &runtime.Market{Name: "test"}
	return &Spec{
		Market: m, Diff: "diff", First: first, Path: "/depth", UpdateID: "lastUpdateId",
		REST:   []runtime.Endpoint{{Name: "production", URL: "http://127.0.0.1:1"}},
		Limits: Limits{Default: 100, Max: 5000, Weights: []Weight{{UpTo: 5000, Weight: 1}}},
		DiffStream: func(symbol string) (runtime.Stream, error) {
			return runtime.Stream{Name: symbol + "@diff", Seq: func(v any) runtime.Seq {
				e := v.(*testEvent)
				return runtime.Seq{Kind: kind, First: e.U, Last: e.u, Prev: e.pu}
			}}, nil
		},
		Changes: func(v any, visit func(bool, wire.Decimal, wire.Decimal)) bool {
			e, ok := v.(*testEvent)
			if !ok {
				return false
			}
			if visit == nil {
				return true
			}
			for _, l := range e.bids {
				visit(true, l[0], l[1])
			}
			for _, l := range e.asks {
				visit(false, l[0], l[1])
			}
			return true
		},
	}
}

func testBook(t testing.TB, first FirstRule, opts ...Option) (*Book, *[]Event) {
	spec := testSpec(first)
	o := options{buffer: DefaultBuffer}
	var events []Event
	o.onEvent = func(e Event) { events = append(events, e) }
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := spec.DiffStream("X")
	return newBook(spec, "X", o, st), &events
}

func lv(pairs ...string) [][2]wire.Decimal {
	var out [][2]wire.Decimal
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, [2]wire.Decimal{wire.MustDecimal(pairs[i]), wire.MustDecimal(pairs[i+1])})
	}
	return out
}

func snap(id int64, bids, asks [][2]wire.Decimal) *snapshot {
	s := &snapshot{id: id}
	for _, l := range bids {
		c, _ := newChange(true, l[0], l[1])
		s.bids = append(s.bids, c)
	}
	for _, l := range asks {
		c, _ := newChange(false, l[0], l[1])
		s.asks = append(s.asks, c)
	}
	return s
}

func kinds(evs []Event) string {
	s := ""
	for _, e := range evs {
		s += e.Kind.String() + ";"
	}
	return s
}

// top formats the book's top levels, or its state when not Synced.
func top(b *Book) string {
	var s Snapshot
	if err := b.Top(0, &s); err != nil {
		return b.State().String()
	}
	return fmt.Sprintf("%d %v %v", s.LastUpdateID, s.Bids, s.Asks)
}

func TestSyncNext(t *testing.T) {
	b, evs := testBook(t, FirstNext)
	b.handle(&testEvent{U: 101, u: 105, bids: lv("10.5", "1")})
	b.handle(&testEvent{U: 106, u: 110, asks: lv("11", "2")})
	// A snapshot at 100: event 101..105 holds 101 = L+1.
	if !b.install(snap(100, lv("10", "3"), lv("12", "4"))) {
		t.Fatal("snapshot at 100 refused")
	}
	if got, want := top(b), "110 [{10.5 1} {10.0 3}] [{11.0 2} {12.0 4}]"; got != want {
		t.Fatalf("book %q, want %q", got, want)
	}
	b.handle(&testEvent{U: 106, u: 110, asks: lv("11", "9")}) // a duplicate: ignored
	b.handle(&testEvent{U: 111, u: 111, bids: lv("10.5", "0")})
	if got, want := top(b), "111 [{10.0 3}] [{11.0 2} {12.0 4}]"; got != want {
		t.Fatalf("book %q, want %q", got, want)
	}
	b.handle(&testEvent{U: 113, u: 114}) // 112 is missing
	if b.State() != Resyncing || kinds(*evs) != "synced;gap;resync;" {
		t.Fatalf("state %v, events %s", b.State(), kinds(*evs))
	}
	if e := (*evs)[1]; e.From != 112 || e.To != 112 {
		t.Fatalf("gap %d..%d, want 112..112", e.From, e.To)
	}
	// A snapshot at 113 covers 113; the kept event 113..114 reaches it.
	if !b.install(snap(113, lv("10", "1"), lv("11", "1"))) || top(b) != "114 [{10 1}] [{11 1}]" {
		t.Fatalf("after resync: %s", top(b))
	}
	if e := (*evs)[len(*evs)-1]; e.Kind != EventSynced || e.From != 112 || e.To != 113 {
		t.Fatalf("last event %v, want synced with window 112..113", e)
	}
}

func TestSyncCovering(t *testing.T) {
	b, _ := testBook(t, FirstCovering)
	b.handle(&testEvent{U: 90, u: 100, pu: 80, bids: lv("1", "1")})
	b.handle(&testEvent{U: 101, u: 120, pu: 100, bids: lv("2", "1")})
	// Snapshot at 100: the event ending at 100 is applied again (U <= 100 <= u).
	if !b.install(snap(100, lv("1", "1"), lv("3", "1"))) || top(b) != "120 [{2 1} {1 1}] [{3 1}]" {
		t.Fatalf("book %s", top(b))
	}
	b.handle(&testEvent{U: 125, u: 130, pu: 119}) // pu != 120
	if b.State() != Resyncing {
		t.Fatalf("state %v after a broken pu chain", b.State())
	}
}

// TestStaleSnapshotKeepsBuffer: a snapshot older than the buffered events
// is refused and the buffer kept, until a newer snapshot reaches it.
func TestStaleSnapshotKeepsBuffer(t *testing.T) {
	b, evs := testBook(t, FirstCovering)
	b.handle(&testEvent{U: 200, u: 210, pu: 190, bids: lv("5", "1")})
	b.handle(&testEvent{U: 211, u: 220, pu: 210, asks: lv("6", "1")})
	for i := 0; i < 3; i++ {
		if b.install(snap(150, lv("4", "1"), lv("7", "1"))) {
			t.Fatal("a snapshot older than the buffer was installed")
		}
	}
	if len(b.buf) != 2 || kinds(*evs) != "stale snapshot;stale snapshot;stale snapshot;" {
		t.Fatalf("buffer %d events, events %s", len(b.buf), kinds(*evs))
	}
	if !b.install(snap(205, lv("4", "1"), lv("7", "1"))) || top(b) != "220 [{5 1} {4 1}] [{6 1} {7 1}]" {
		t.Fatalf("book %s", top(b))
	}
}

// TestPendingSnapshot: a snapshot installed before any event waits for the
// first event, and is never Synced on its own.
func TestPendingSnapshot(t *testing.T) {
	b, _ := testBook(t, FirstNext)
	if !b.install(snap(50, lv("1", "1"), lv("2", "1"))) || b.State() != Syncing {
		t.Fatalf("state %v with a snapshot alone", b.State())
	}
	b.handle(&testEvent{U: 40, u: 50}) // stale
	if b.State() != Syncing {
		t.Fatal("synced on a stale event")
	}
	b.handle(&testEvent{U: 53, u: 55}) // 51 and 52 are missing: the snapshot is too old
	if b.State() != Syncing || b.pending || len(b.buf) != 1 {
		t.Fatalf("state %v pending %v buffer %d", b.State(), b.pending, len(b.buf))
	}
	b.install(snap(52, lv("1", "1"), lv("2", "1")))
	if top(b) != "55 [{1 1}] [{2 1}]" {
		t.Fatalf("book %s", top(b))
	}
}

// TestCrossedNeverRead: an event that crosses the book makes it leave
// Synced before any reader can see it.
func TestCrossedNeverRead(t *testing.T) {
	b, evs := testBook(t, FirstNext)
	b.handle(&testEvent{U: 11, u: 11})
	b.install(snap(10, lv("10", "1"), lv("11", "1")))
	b.handle(&testEvent{U: 12, u: 12, bids: lv("11.5", "1")})
	if _, ok := b.BestBid(); ok || b.State() != Resyncing {
		t.Fatalf("a crossed book is readable (state %v)", b.State())
	}
	if !errors.Is((*evs)[len(*evs)-1].Err, ErrCrossed) {
		t.Fatalf("events %v", *evs)
	}
}

// TestBadEvent: unreadable levels start a resync instead of a panic.
func TestBadEvent(t *testing.T) {
	b, evs := testBook(t, FirstNext)
	b.handle(&testEvent{U: 11, u: 11})
	b.install(snap(10, lv("10", "1"), lv("11", "1")))
	b.handle(&testEvent{U: 12, u: 12, bids: lv("-1", "1")})
	b.handle("not an event")
	b.handle(&testEvent{U: 20, u: 12})
	if b.State() != Resyncing || len(*evs) < 3 || !errors.Is((*evs)[1].Err, ErrBadEvent) {
		t.Fatalf("state %v events %v", b.State(), *evs)
	}
}

// TestSuspect: after a socket loss the book is unreadable until an event
// shows that nothing was missed.
func TestSuspect(t *testing.T) {
	b, evs := testBook(t, FirstNext)
	b.handle(&testEvent{U: 11, u: 11})
	b.install(snap(10, lv("10", "1"), lv("11", "1")))
	b.Suspect()
	if _, ok := b.BestAsk(); ok {
		t.Fatal("a suspect book is readable")
	}
	b.handle(&testEvent{U: 12, u: 13, asks: lv("12", "1")})
	if top(b) != "13 [{10 1}] [{11 1} {12 1}]" || kinds(*evs) != "synced;synced;" {
		t.Fatalf("book %s events %s", top(b), kinds(*evs))
	}
	b.Suspect()
	b.handle(&testEvent{U: 20, u: 21})
	if b.State() != Resyncing {
		t.Fatalf("state %v after a gap across a reconnect", b.State())
	}
}

// TestScales: values with more decimals widen the book's scale exactly.
func TestScales(t *testing.T) {
	b, _ := testBook(t, FirstNext)
	b.handle(&testEvent{U: 11, u: 11, bids: lv("9.125", "0.00000001")})
	b.install(snap(10, lv("10", "1"), lv("11.50", "2.5")))
	var s Snapshot
	if err := b.Top(0, &s); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(s.Bids, s.Asks); got != "[{10.000 1.00000000} {9.125 0.00000001}] [{11.500 2.50000000}]" {
		t.Fatalf("levels %s", got)
	}
	q, n, _ := b.DepthToPrice(Bid, Fixed{92, 1})
	if q.String() != "1.00000000" || n != 1 {
		t.Fatalf("depth to 9.2: %s in %d levels", q, n)
	}
	q, n, _ = b.DepthToPrice(Bid, Fixed{91251, 4}) // more decimals than the book
	if q.String() != "1.00000000" || n != 1 {
		t.Fatalf("depth to 9.1251: %s in %d levels", q, n)
	}
	q, n, _ = b.DepthToPrice(Ask, Fixed{12, 0})
	if q.String() != "2.50000000" || n != 1 {
		t.Fatalf("asks to 12: %s in %d levels", q, n)
	}
	q, n, _ = b.DepthToPrice(Bid, Fixed{9125, 3})
	if q.String() != "1.00000001" || n != 2 {
		t.Fatalf("depth to 9.125: %s in %d levels", q, n)
	}
	p, got, _ := b.DepthToQty(Ask, Fixed{3, 0})
	if p.String() != "11.500" || got.String() != "2.50000000" {
		t.Fatalf("depth for 3: %s at %s", got, p)
	}
	p, got, _ = b.DepthToQty(Bid, Fixed{1, 0})
	if p.String() != "10.000" || got.String() != "1.00000000" {
		t.Fatalf("depth for 1: %s at %s", got, p)
	}
}

func TestParseFixed(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"0", "0"}, {"0.000", "0"}, {"38080.48", "38080.48"}, {"0.00100000", "0.001"}, {"-1.50", "-1.5"},
		{"1e-7", "0.0000001"}, {"12E2", "1200"}, {"123456789012.12345", "123456789012.12345"},
	} {
		f, err := ParseFixed(c.in)
		if err != nil || f.String() != c.want {
			t.Errorf("ParseFixed(%q) = %v, %v; want %s", c.in, f, err, c.want)
		}
	}
	for _, bad := range []string{"", "-", "1.2.3", "abc", "1e", "12345678901234567890", "1e-30"} {
		if f, err := ParseFixed(bad); err == nil {
			t.Errorf("ParseFixed(%q) = %v, want an error", bad, f)
		}
	}
}

func TestLimits(t *testing.T) {
	spot := Limits{Default: 100, Max: 5000, Weights: []Weight{{100, 5}, {500, 25}, {1000, 50}, {5000, 250}}}
	fut := Limits{Default: 500, Max: 1000, Values: []int{5, 10, 20, 50, 100, 500, 1000}, Weights: []Weight{{50, 2}, {100, 5}, {500, 10}, {1000, 20}}}
	for _, c := range []struct {
		l            Limits
		n, weight, f int
	}{{spot, 1, 5, 1}, {spot, 101, 25, 101}, {spot, 5000, 250, 5000}, {spot, 5001, 0, 5000},
		{fut, 20, 2, 20}, {fut, 30, 0, 50}, {fut, 1000, 20, 1000}, {fut, 2000, 0, 1000}} {
		if w := c.l.Weight(c.n); w != c.weight {
			t.Errorf("Weight(%d) = %d, want %d", c.n, w, c.weight)
		}
		if f := c.l.Fit(c.n); f != c.f {
			t.Errorf("Fit(%d) = %d, want %d", c.n, f, c.f)
		}
	}
}

// FuzzParseFixed: ParseFixed agrees exactly with math/big on every valid
// decimal it accepts, and never panics.
func FuzzParseFixed(f *testing.F) {
	for _, s := range []string{"0", "38080.48", "0.00100000", "-1.5", "1e-7", "12E2", "00.1", "1.", ".5", "999999999999999999", "0.000000000000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseFixed(s)
		if err != nil {
			return
		}
		want, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("ParseFixed(%q) = %v, but it is not a number", s, v)
		}
		if got, _ := new(big.Rat).SetString(v.String()); got.Cmp(want) != 0 {
			t.Fatalf("ParseFixed(%q) = %s", s, v)
		}
	})
}

// TestOnUpdate: each event applied to a Synced book reaches OnUpdate in
// order with its levels at the book's scales; the one completing a sync
// does not.
func TestOnUpdate(t *testing.T) {
	var got []string
	b, _ := testBook(t, FirstNext, OnUpdate(func(u *Update) {
		got = append(got, fmt.Sprintf("%d-%d %v", u.FirstID, u.LastID, u.Changes))
	}))
	b.handle(&testEvent{U: 11, u: 11, bids: lv("10", "2")})
	b.install(snap(10, lv("10", "1"), lv("11.5", "1")))
	b.handle(&testEvent{U: 12, u: 13, bids: lv("10", "0"), asks: lv("11", "3")})
	b.handle(&testEvent{U: 14, u: 14, bids: lv("9.5", "1.25")})
	want := []string{"12-13 [{bid {10.0 0}} {ask {11.0 3}}]", "14-14 [{bid {9.5 1.25}}]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("updates %q, want %q", got, want)
	}
}
