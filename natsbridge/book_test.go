package natsbridge

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/orderbook"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/synth"
)

const bookSymbol = "BTCUSDT"

// startBookSim starts the spot simulator with its self-consistent book,
// diff streams and REST snapshots.
func startBookSim(t testing.TB) *sim.Server {
	t.Helper()
	srv, err := synth.NewServer("spot", synth.Config{Seed: 7, Unpaced: true, Logf: func(string, ...any) {}},
		sim.WithPublishInterval(3*time.Millisecond), sim.WithRESTWeight(0, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// bookBridge is one bridge: its own NATS and exchange connections, a
// Bridge publishing the diff stream, a book kept over REST (through its
// own Fetcher, whose requests are counted) and a BookPublisher of it.
type bookBridge struct {
	nc     *nats.Conn
	c      *runtime.Conn // the Bridge's
	bc     *runtime.Conn // the book's
	br     *Bridge
	f      *orderbook.Fetcher
	client *http.Client
	book   *orderbook.Book
	pub    *BookPublisher
}

func startBookBridge(t *testing.T, ns *server.Server, srv *sim.Server, every time.Duration, publish bool) *bookBridge {
	t.Helper()
	ctx := testCtx(t)
	spec := &spot.OrderBook
	x := &bookBridge{client: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}}
	var err error
	if x.nc, err = nats.Connect(ns.ClientURL()); err != nil {
		t.Fatal(err)
	}
	if x.c, err = runtime.Dial(ctx, &spot.Market, runtime.WithURL(srv.URL())); err != nil {
		t.Fatal(err)
	}
	if x.bc, err = runtime.Dial(ctx, &spot.Market, runtime.WithURL(srv.URL())); err != nil {
		t.Fatal(err)
	}
	if x.br, err = NewBridge(ctx, x.nc, WithGapWait(50*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	st, _ := spec.DiffStream(bookSymbol)
	if _, err := x.br.Add(ctx, x.c, []runtime.Stream{st}); err != nil {
		t.Fatal(err)
	}
	if x.f, err = orderbook.NewFetcher(spec, srv.RESTURL(), 0, 0, x.client); err != nil {
		t.Fatal(err)
	}
	if x.book, err = orderbook.Open(ctx, x.bc, spec, bookSymbol, orderbook.WithFetcher(x.f), orderbook.WithLimit(spec.Limits.Fit(100)),
		orderbook.WithRetry(10*time.Millisecond, 200*time.Millisecond), orderbook.WithFirstWait(100*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if publish {
		x.startPublisher(t, every)
	}
	return x
}

func (x *bookBridge) startPublisher(t *testing.T, every time.Duration) {
	t.Helper()
	var err error
	if x.pub, err = NewBookPublisher(testCtx(t), x.nc, every); err != nil {
		t.Fatal(err)
	}
	if err := x.pub.Add(x.book); err != nil {
		t.Fatal(err)
	}
}

func (x *bookBridge) stop() {
	if x.pub != nil {
		x.pub.Close()
	}
	x.br.Close()
	x.book.Close()
	x.c.Close()
	x.bc.Close()
	x.nc.Close()
	x.client.CloseIdleConnections()
}

// bookEvents collects a book's events.
type bookEvents struct {
	mu  sync.Mutex
	all []orderbook.Event
}

func (e *bookEvents) add(ev orderbook.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
}

func (e *bookEvents) find(match func(orderbook.Event) bool) (orderbook.Event, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.all {
		if match(ev) {
			return ev, true
		}
	}
	return orderbook.Event{}, false
}

// checker compares a book with the simulator's whenever it is Synced: at
// checkpoints every few milliseconds, and at once on each EventSynced
// (the book is then its snapshot plus the first event, before any other
// event can overwrite a level the snapshot had wrong).
type checker struct {
	t                                               *testing.T
	srv                                             *sim.Server
	evs                                             bookEvents
	book                                            atomic.Pointer[orderbook.Book]
	checks, atSync, unchecked, divergences, crossed atomic.Int64
	stop, done                                      chan struct{}
}

func newChecker(t *testing.T, srv *sim.Server) *checker {
	return &checker{t: t, srv: srv, stop: make(chan struct{}), done: make(chan struct{})}
}

// onEvent is the book's OnEvent: it records the event and checks the book
// on EventSynced. It runs on the book's goroutine, where the book's reads
// are allowed.
func (ck *checker) onEvent(e orderbook.Event) {
	ck.evs.add(e)
	if e.Kind != orderbook.EventSynced {
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for ck.book.Load() == nil && time.Now().Before(deadline) { // OpenBook has not returned yet
		time.Sleep(time.Millisecond)
	}
	if b := ck.book.Load(); b != nil {
		var snap orderbook.Snapshot
		if b.Top(0, &snap) == nil {
			ck.atSync.Add(1)
			ck.check(&snap)
		}
	}
}

// start starts the checkpoints of b.
func (ck *checker) start(b *orderbook.Book) {
	ck.book.Store(b)
	go func() {
		defer close(ck.done)
		var snap orderbook.Snapshot
		for {
			select {
			case <-ck.stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			if b.Top(0, &snap) == nil {
				ck.check(&snap)
			}
		}
	}()
}

// check compares a snapshot of the Synced book with the simulator's book.
func (ck *checker) check(snap *orderbook.Snapshot) {
	if msg := crossedOrUnsorted(snap); msg != "" {
		ck.crossed.Add(1)
		ck.t.Errorf("a reader saw %s at %d", msg, snap.LastUpdateID)
	}
	want, ok := ck.srv.BookState(bookSymbol, snap.LastUpdateID)
	if !ok {
		ck.unchecked.Add(1)
		return
	}
	ck.checks.Add(1)
	if diff := compareBook(snap, want); diff != "" {
		if ck.divergences.Add(1) <= 3 {
			ck.t.Errorf("Synced book differs from the simulator's at %d: %s", snap.LastUpdateID, diff)
		}
	}
}

func (ck *checker) end() {
	close(ck.stop)
	<-ck.done
}

// waitSynced waits until b is Synced and returns how long that took.
func waitSynced(t *testing.T, b *orderbook.Book, what string) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(20 * time.Second)
	for b.State() != orderbook.Synced {
		if time.Now().After(deadline) {
			t.Fatalf("not Synced 20 s after %s (state %v, stats %+v)", what, b.State(), b.Stats())
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

// waitApplied waits until b has applied n more diff events than from.
func waitApplied(t *testing.T, b *orderbook.Book, from uint64, n uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for b.Stats().Applied-from < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d diff events applied in 30 s (state %v, stats %+v)", b.Stats().Applied-from, n, b.State(), b.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// restRequests checks that the simulator's REST requests are all the
// bridges' fetchers': the consumer made none.
func restRequests(t *testing.T, srv *sim.Server, bridges ...*bookBridge) {
	t.Helper()
	mine := 0
	for _, x := range bridges {
		mine += x.f.Stats().Requests
	}
	if got := srv.SnapshotStats().Requests; got != mine || mine == 0 {
		t.Errorf("the simulator served %d REST snapshot requests, the bridges made %d: the consumer made %d", got, mine, got-mine)
	}
}

// TestOpenBook: the simulator streams the diff depth of a symbol; a
// bridge publishes the diff stream to JetStream and, every 100 ms, the
// snapshot of a book it keeps from the simulator over REST; a consumer
// keeps the book from the cluster alone (OpenBook). The consumer book
// reaches Synced; at checkpoints every few milliseconds, whenever it is
// Synced, it equals the simulator's book at the same update id, every
// level and every decimal, and is never crossed; it applies thousands of
// updates. Mid-run the bridge stops for a while and another starts: the
// consumer sees the gap, resyncs from the new bridge's first snapshot and
// stays correct. The simulator's REST hits are all the bridges'.
func TestOpenBook(t *testing.T) {
	ns := startNATS(t)
	srv := startBookSim(t)
	ctx := testCtx(t)
	a := startBookBridge(t, ns, srv, 100*time.Millisecond, true)
	stopped := false
	defer func() {
		if !stopped {
			a.stop()
		}
	}()
	waitFor(t, "the first stored snapshot", func() bool { return a.pub.Stats().Published > 0 })

	src, err := NewSource(connect(t, ns.ClientURL()), &spot.Market)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ck := newChecker(t, srv)
	opened := time.Now()
	b, err := OpenBook(ctx, src, &spot.OrderBook, bookSymbol, orderbook.OnEvent(ck.onEvent), orderbook.WithRetry(20*time.Millisecond, 200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ck.start(b)
	waitSynced(t, b, "OpenBook")
	toSynced := time.Since(opened)

	start := b.Stats()
	waitApplied(t, b, start.Applied, 2000)

	// The bridge stops; the diffs published meanwhile are missing from
	// the stream; another bridge starts.
	a.stop()
	stopped = true
	before := b.Stats()
	time.Sleep(300 * time.Millisecond)
	x := startBookBridge(t, ns, srv, 100*time.Millisecond, true)
	defer x.stop()
	restarted := time.Now()
	waitFor(t, "the consumer's resync after the bridge restart", func() bool { return b.Stats().Resyncs > before.Resyncs })
	waitSynced(t, b, "the bridge restart")
	toResynced := time.Since(restarted)
	mid := b.Stats()
	if mid.Syncs < 2 || mid.Gaps == before.Gaps {
		t.Errorf("after the bridge restart: stats %+v, want a gap and a second sync", mid)
	}
	waitApplied(t, b, mid.Applied, 1000)
	ck.end()

	end := b.Stats()
	if n := ck.divergences.Load() + ck.crossed.Load(); n != 0 {
		t.Errorf("%d checkpoints saw a Synced book that differs from the simulator's or is crossed", n)
	}
	if n := ck.checks.Load(); n < 100 {
		t.Errorf("only %d checkpoints compared (%d unchecked)", n, ck.unchecked.Load())
	}
	if end.Snapshots == 0 {
		t.Errorf("the consumer read no snapshot from the cluster: %+v", end)
	}
	restRequests(t, srv, a, x)
	if n := ck.atSync.Load(); n != int64(end.Syncs) || n < 2 {
		t.Errorf("%d books checked at EventSynced, %d syncs", n, end.Syncs)
	}
	t.Logf("Synced %v after OpenBook, again %v after the bridge restarted; applied %d, syncs %d, resyncs %d, gaps %d, stale snapshots %d, snapshots read %d, ignored %d; checkpoints %d (unchecked %d); publishers stored %d + %d snapshots",
		toSynced.Round(time.Millisecond), toResynced.Round(time.Millisecond), end.Applied, end.Syncs, end.Resyncs, end.Gaps, end.Stale, end.Snapshots, end.Ignored,
		ck.checks.Load(), ck.unchecked.Load(), a.pub.Stats().Published, x.pub.Stats().Published)
}

// TestOpenBookNoSnapshot: a book opened while the stream holds diffs but
// no snapshot reports ErrNoSnapshot through its events and stays Syncing;
// once a publisher stores a snapshot it syncs and equals the simulator's
// book, without REST.
func TestOpenBookNoSnapshot(t *testing.T) {
	ns := startNATS(t)
	srv := startBookSim(t)
	ctx := testCtx(t)
	a := startBookBridge(t, ns, srv, 0, false)
	defer a.stop()
	waitFor(t, "diffs stored", func() bool { s := a.br.Stats(); return s.Published+s.Batched > 10 })

	src, err := NewSource(connect(t, ns.ClientURL()), &spot.Market)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ck := newChecker(t, srv)
	evs := &ck.evs
	b, err := OpenBook(ctx, src, &spot.OrderBook, bookSymbol, orderbook.OnEvent(ck.onEvent), orderbook.WithRetry(20*time.Millisecond, 100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ck.start(b)
	noSnap := func(e orderbook.Event) bool {
		return e.Kind == orderbook.EventSnapshotError && errors.Is(e.Err, ErrNoSnapshot)
	}
	waitFor(t, "EventSnapshotError with ErrNoSnapshot", func() bool { _, ok := evs.find(noSnap); return ok })
	time.Sleep(200 * time.Millisecond)
	if s := b.State(); s != orderbook.Syncing {
		t.Errorf("state %v without a snapshot, want syncing", s)
	}
	ev, _ := evs.find(noSnap)
	if !strings.Contains(ev.Err.Error(), BookSubject("spot", bookSymbol)) {
		t.Errorf("the error does not name the subject: %v", ev.Err)
	}

	a.startPublisher(t, 50*time.Millisecond)
	waitSynced(t, b, "the first snapshot")
	waitApplied(t, b, b.Stats().Applied, 300)
	ck.end()
	if n := ck.divergences.Load() + ck.crossed.Load(); n != 0 {
		t.Errorf("%d checkpoints saw a Synced book that differs from the simulator's or is crossed", n)
	}
	if ck.atSync.Load() != 1 {
		t.Errorf("%d books checked at EventSynced, want 1", ck.atSync.Load())
	}
	if ck.checks.Load() < 20 {
		t.Errorf("only %d checkpoints compared", ck.checks.Load())
	}
	restRequests(t, srv, a)
}

// TestBookPublisherDedup: two publishers storing the same book at the
// same update id store it once, under the Nats-Msg-Id <subject>:<id>, and
// the stored payload holds every level as the book writes it (exact
// decimals, the book's scale) and decodes to equal values.
func TestBookPublisherDedup(t *testing.T) {
	ns := startNATS(t)
	srv := startBookSim(t)
	ctx := testCtx(t)
	a := startBookBridge(t, ns, srv, 0, false)
	defer a.stop()
	waitSynced(t, a.book, "Open")
	a.bc.Close() // the book stays Synced, at one update id from now on
	want, err := a.book.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var pubs []*BookPublisher
	for range 2 {
		p, err := NewBookPublisher(ctx, connect(t, ns.ClientURL()), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if err := p.Add(a.book); err != nil {
			t.Fatal(err)
		}
		if err := p.Publish(ctx); err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, p)
	}
	if s0, s1 := pubs[0].Stats(), pubs[1].Stats(); s0.Published != 1 || s1.Published != 0 || s1.Duplicates != 1 {
		t.Errorf("stats %+v and %+v: want one stored, one duplicate", s0, s1)
	}
	if err := pubs[0].Publish(ctx); err != nil || pubs[0].Stats().Published != 1 || pubs[0].Stats().Duplicates != 0 {
		t.Errorf("an unchanged book was published again (%v, %+v)", err, pubs[0].Stats())
	}
	// Once BookRefresh has passed, an unchanged book is published again
	// (here within the duplicate window, so JetStream keeps one copy).
	bookRefresh = 0
	err = pubs[0].Publish(ctx)
	bookRefresh = BookRefresh
	if s := pubs[0].Stats(); err != nil || s.Published != 1 || s.Duplicates != 1 {
		t.Errorf("an unchanged book past BookRefresh: %v, %+v; want it sent again, a duplicate", err, s)
	}
	js, _ := jetstream.New(connect(t, ns.ClientURL()))
	st, err := js.Stream(ctx, DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	subject := BookSubject("spot", bookSymbol)
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatal(err)
	}
	if n := info.State.Subjects[subject]; n != 1 {
		t.Errorf("%d messages on %s, want 1", n, subject)
	}
	raw, err := st.GetLastMsgForSubject(ctx, subject)
	if err != nil {
		t.Fatal(err)
	}
	if got := raw.Header.Get(jetstream.MsgIDHeader); got != fmt.Sprintf("%s:%d", subject, want.LastUpdateID) {
		t.Errorf("Nats-Msg-Id %q", got)
	}
	market, got, err := DecodeBookSnapshot(raw.Data)
	if err != nil {
		t.Fatal(err)
	}
	if market != "spot" || got.Symbol != bookSymbol || got.LastUpdateID != want.LastUpdateID || !sameLevels(got.Bids, want.Bids) || !sameLevels(got.Asks, want.Asks) {
		t.Errorf("stored snapshot %s %+v differs from the book %+v", market, got, want)
	}
	for _, side := range [][]orderbook.Level{want.Bids, want.Asks} {
		if text := string(appendLevels(nil, side)); !strings.Contains(string(raw.Data), text) {
			t.Errorf("the stored payload %s does not hold the book's levels as it writes them: %s", raw.Data, text)
		}
	}
	if len(want.Bids) == 0 || len(want.Asks) == 0 {
		t.Errorf("an empty book: %+v", want)
	}
}

func sameLevels(a, b []orderbook.Level) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Price.Cmp(b[i].Price) != 0 || a[i].Qty.Cmp(b[i].Qty) != 0 {
			return false
		}
	}
	return true
}

// TestOpenBookBadInput: clear errors, never a panic, for a Spec of
// another market, a bad symbol, a missing stream, options that would use
// REST, a publisher with a bad period or a stream that does not cover the
// book subjects, a stored snapshot of another symbol, and payloads that
// are not snapshots.
func TestOpenBookBadInput(t *testing.T) {
	ns := startNATS(t)
	ctx := testCtx(t)
	nc := connect(t, ns.ClientURL())
	js, _ := jetstream.New(nc)
	cfg := StreamConfig("NARROW")
	cfg.Subjects = []string{"mw.*.*"}
	if _, err := NewBookPublisher(ctx, nc, time.Second, WithStreamConfig(cfg)); err == nil || !strings.Contains(err.Error(), "does not cover the book subjects") {
		t.Errorf("a stream of mw.*.*: %v", err)
	}
	if err := js.DeleteStream(ctx, "NARROW"); err != nil {
		t.Fatal(err)
	}
	if _, err := NewBridge(ctx, nc); err != nil { // creates the stream
		t.Fatal(err)
	}
	src, err := NewSource(nc, &spot.Market)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for _, c := range []struct {
		name string
		open func() (*orderbook.Book, error)
		want string
	}{
		{"nil source", func() (*orderbook.Book, error) { return OpenBook(ctx, nil, &spot.OrderBook, bookSymbol) }, "nil Source"},
		{"nil spec", func() (*orderbook.Book, error) { return OpenBook(ctx, src, nil, bookSymbol) }, "Spec"},
		{"spec of another market", func() (*orderbook.Book, error) { return OpenBook(ctx, src, &usdm.OrderBook, bookSymbol) }, `the Spec is of market "usdm", the Source of market "spot"`},
		{"bad symbol", func() (*orderbook.Book, error) { return OpenBook(ctx, src, &spot.OrderBook, "") }, "natsbridge: OpenBook"},
		{"REST option", func() (*orderbook.Book, error) {
			return OpenBook(ctx, src, &spot.OrderBook, bookSymbol, orderbook.WithREST("http://127.0.0.1:1"))
		}, "WithSnapshotSource excludes"},
		{"missing stream", func() (*orderbook.Book, error) {
			other, err := NewSource(nc, &spot.Market, WithStream("NOPE"))
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			return OpenBook(ctx, other, &spot.OrderBook, bookSymbol)
		}, `"NOPE" does not exist`},
	} {
		b, err := c.open()
		if err == nil {
			b.Close()
			t.Errorf("%s: no error", c.name)
		} else if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not say %q", c.name, err, c.want)
		}
	}

	if _, err := NewBookPublisher(ctx, nc, 0); err == nil || !strings.Contains(err.Error(), "not positive") {
		t.Errorf("period 0: %v", err)
	}
	p, err := NewBookPublisher(ctx, nc, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Add(nil); err == nil {
		t.Error("Add(nil): no error")
	}
	p.Close()
	if err := p.Add(); !errors.Is(err, runtime.ErrClosed) {
		t.Errorf("Add after Close: %v", err)
	}

	for _, bad := range []string{``, `{}`, `[1]`, `{"market":"spot","symbol":"BTCUSDT","lastUpdateId":5,"bids":[["x","1"]],"asks":[]}`,
		`{"market":"spot","symbol":"BTCUSDT","lastUpdateId":0,"bids":[],"asks":[]}`} {
		if _, _, err := DecodeBookSnapshot([]byte(bad)); err == nil {
			t.Errorf("DecodeBookSnapshot(%q): no error", bad)
		}
	}

	// A snapshot of another symbol stored on the subject: the book reports
	// it and does not sync.
	wrong := AppendBookSnapshot(nil, "spot", &orderbook.Snapshot{Symbol: "ETHUSDT", LastUpdateID: 7,
		Bids: []orderbook.Level{{Price: orderbook.Fixed{Int: 100, Scale: 0}, Qty: orderbook.Fixed{Int: 1, Scale: 0}}}}, time.Now())
	if _, err := js.Publish(ctx, BookSubject("spot", bookSymbol), wrong); err != nil {
		t.Fatal(err)
	}
	var evs bookEvents
	b, err := OpenBook(ctx, src, &spot.OrderBook, bookSymbol, orderbook.OnEvent(evs.add), orderbook.WithRetry(20*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	waitFor(t, "the wrong snapshot reported", func() bool {
		_, ok := evs.find(func(e orderbook.Event) bool {
			return e.Kind == orderbook.EventSnapshotError && strings.Contains(e.Err.Error(), "holds a snapshot of spot ETHUSDT")
		})
		return ok
	})
	if b.State() == orderbook.Synced {
		t.Error("Synced from another symbol's snapshot")
	}
}

// TestBookSnapshotRoundTrip: the JSON form keeps every decimal exactly
// and escapes what JSON needs.
func TestBookSnapshotRoundTrip(t *testing.T) {
	fx := func(s string) orderbook.Fixed {
		f, err := orderbook.ParseFixed(s)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	in := &orderbook.Snapshot{Symbol: `A"B\C`, LastUpdateID: 1 << 60,
		Bids: []orderbook.Level{{Price: fx("38080.48"), Qty: fx("0.00000001")}, {Price: fx("0.000000000000000001"), Qty: fx("999999999999999999")}},
		Asks: []orderbook.Level{{Price: fx("38080.5"), Qty: fx("12")}}}
	data := AppendBookSnapshot(nil, "m\x01", in, time.UnixMilli(1700000000000))
	market, out, err := DecodeBookSnapshot(data)
	if err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	if market != "m\x01" || out.Symbol != in.Symbol || out.LastUpdateID != in.LastUpdateID || !sameLevels(out.Bids, in.Bids) || !sameLevels(out.Asks, in.Asks) {
		t.Errorf("%s decoded to %q %+v", data, market, out)
	}
	if want := `"bids":[["38080.48","0.00000001"],["0.000000000000000001","999999999999999999"]]`; !strings.Contains(string(data), want) {
		t.Errorf("%s does not hold %s", data, want)
	}
	if got := BookSubject("spot", "btc.usdt"); got != "mw.book.spot.BTC%2EUSDT" {
		t.Errorf("BookSubject: %q", got)
	}
	if _, _, err := ParseSubject(BookSubject("spot", "BTCUSDT")); err == nil {
		t.Error("a book subject parses as a wire stream's")
	}
}

// crossedOrUnsorted describes what is wrong with a snapshot's order: bids
// strictly descending, asks strictly ascending, best bid below best ask.
func crossedOrUnsorted(s *orderbook.Snapshot) string {
	for i := 1; i < len(s.Bids); i++ {
		if s.Bids[i].Price.Cmp(s.Bids[i-1].Price) >= 0 {
			return "unsorted bids"
		}
	}
	for i := 1; i < len(s.Asks); i++ {
		if s.Asks[i].Price.Cmp(s.Asks[i-1].Price) <= 0 {
			return "unsorted asks"
		}
	}
	if len(s.Bids) > 0 && len(s.Asks) > 0 && s.Bids[0].Price.Cmp(s.Asks[0].Price) >= 0 {
		return fmt.Sprintf("a crossed book (%s >= %s)", s.Bids[0].Price, s.Asks[0].Price)
	}
	return ""
}

// compareBook returns how a snapshot differs from the simulator's book
// (as orderbook's fault test compares): every level, price in ticks of
// 0.01 and quantity in lots of 0.001, and no level with more decimals.
func compareBook(s *orderbook.Snapshot, want sim.BookState) string {
	for _, side := range []struct {
		name string
		got  []orderbook.Level
		want map[int64]int64
	}{{"bids", s.Bids, want.Bids}, {"asks", s.Asks, want.Asks}} {
		if len(side.got) != len(side.want) {
			return fmt.Sprintf("%s: %d levels, want %d", side.name, len(side.got), len(side.want))
		}
		for _, l := range side.got {
			p, okP := units(l.Price, 2)
			q, okQ := units(l.Qty, 3)
			if !okP || !okQ {
				return fmt.Sprintf("%s: level [%s, %s] has more decimals than the simulator's", side.name, l.Price, l.Qty)
			}
			if w, ok := side.want[p]; !ok || w != q {
				return fmt.Sprintf("%s: level %s has %s, want %d lots (present %v)", side.name, l.Price, l.Qty, w, ok)
			}
		}
	}
	return ""
}

// units returns f in units of 10^-scale; false when f has more decimals
// that are not zero.
func units(f orderbook.Fixed, scale int8) (int64, bool) {
	v := f.Int
	for s := f.Scale; s < scale; s++ {
		v *= 10
	}
	for s := f.Scale; s > scale; s-- {
		if v%10 != 0 {
			return 0, false
		}
		v /= 10
	}
	return v, true
}
