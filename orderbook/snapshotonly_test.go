package orderbook_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketwire/marketwire/generated/dex"
	"github.com/marketwire/marketwire/generated/zdex"
	"github.com/marketwire/marketwire/orderbook"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/dexsim"
	"github.com/marketwire/marketwire/sim/zdexsim"
)

// snapshotOnlyServer is what the snapshot-only book tests need of a
// venue's simulator.
type snapshotOnlyServer interface {
	URL() string
	Publish(stream string, payload []byte) int
	BookState(symbol string, id int64) (sim.BookState, bool)
	Close()
}

// snapshotOnlyMarkets are the markets whose order book is kept from
// snapshot streams only, with a simulator serving them and a payload
// maker of one level per side.
var snapshotOnlyMarkets = []struct {
	name    string
	market  *runtime.Market
	spec    *orderbook.Spec
	symbol  string
	levels  int
	start   func() (snapshotOnlyServer, error)
	payload func(symbol string, id int64, bid, ask string) []byte
}{
	{"dex", &dex.Market, &dex.OrderBook, "BNB_BTCB-1DE", 20, startDex, dexDepth},
	{"dex100", &dex.Market, &dex.OrderBook, "BNB_BTCB-1DE", 100, startDex, dexDepth},
	{"zdex", &zdex.Market, &zdex.OrderBook, "BTCUSDT", 50, startZdex, zdexDepth},
}

func startDex() (snapshotOnlyServer, error) {
	s := dexsim.New(dexsim.WithPublishInterval(5*time.Millisecond), dexsim.WithBookLevels(150), dexsim.WithPing(0, 0))
	if err := s.Start(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func startZdex() (snapshotOnlyServer, error) {
	s := zdexsim.New(zdexsim.WithPublishInterval(5 * time.Millisecond))
	if err := s.Start(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func dexDepth(symbol string, id int64, bid, ask string) []byte {
	return fmt.Appendf(nil, `{"lastUpdateId":%d,"symbol":%q,"bids":[[%q,"1.000"]],"asks":[[%q,"1.000"]]}`, id, symbol, bid, ask)
}

func zdexDepth(_ string, id int64, bid, ask string) []byte {
	return fmt.Appendf(nil, `{"lastUpdateId":%d,"bids":[[%q,"1.000"]],"asks":[[%q,"1.000"]]}`, id, bid, ask)
}

// TestSnapshotOnlySpecs checks the generated Specs of the markets whose
// book is kept from snapshot streams only: no diff stream and no REST
// snapshot, the levels their stream offers, the stream name each level
// count stands for (DEX marketDepth: 20 is the parameter left empty; ZDEX
// orderbook: 50 only), and a clear error for any other count.
func TestSnapshotOnlySpecs(t *testing.T) {
	for _, tc := range []struct {
		spec   *orderbook.Spec
		symbol string
		levels []int
		names  map[int]string
		bad    []int
	}{
		{&dex.OrderBook, "BNB_BTCB-1DE", []int{20, 100, 500, 1000},
			map[int]string{20: "BNB_BTCB-1DE@marketDepth", 100: "BNB_BTCB-1DE@marketDepth100", 1000: "BNB_BTCB-1DE@marketDepth1000"}, []int{0, 5, 50}},
		{&zdex.OrderBook, "BTCUSDT", []int{50},
			map[int]string{50: "orderbook:BTCUSDT"}, []int{0, 20, 100}},
	} {
		s := tc.spec
		name := s.Market.Name
		if s.Diff != "" || s.DiffStream != nil || s.Changes != nil || s.Path != "" || len(s.REST) != 0 || s.Limits.Max != 0 {
			t.Errorf("%s: Spec has diff or REST settings: %+v", name, s)
		}
		if len(s.Snapshots) != 1 {
			t.Fatalf("%s: %d snapshot streams, want 1", name, len(s.Snapshots))
		}
		sn := s.Snapshots[0]
		if fmt.Sprint(sn.Levels) != fmt.Sprint(tc.levels) {
			t.Errorf("%s: levels %v, want %v", name, sn.Levels, tc.levels)
		}
		for n, want := range tc.names {
			st, err := sn.Stream(tc.symbol, n)
			if err != nil || st.Name != want {
				t.Errorf("%s: Stream(%q, %d) = %q, %v; want %q", name, tc.symbol, n, st.Name, err, want)
			}
		}
		for _, n := range tc.bad {
			if st, err := sn.Stream(tc.symbol, n); err == nil {
				t.Errorf("%s: Stream(%q, %d) = %q, want an error", name, tc.symbol, n, st.Name)
			}
		}
		if _, ok := sn.Read(&struct{}{}, nil); ok {
			t.Errorf("%s: Read accepted a value that is not one of the stream's messages", name)
		}
	}
}

// TestOpenRefusesSnapshotOnly checks that Open (and NewFetcher) refuse a
// Spec without a diff stream with an error naming the market and pointing
// to OpenSnapshot, before touching the connection.
func TestOpenRefusesSnapshotOnly(t *testing.T) {
	for _, spec := range []*orderbook.Spec{&dex.OrderBook, &zdex.OrderBook} {
		name := spec.Market.Name
		b, err := orderbook.Open(context.Background(), nil, spec, "BTCUSDT")
		if err == nil {
			b.Close()
			t.Fatalf("%s: Open succeeded on a Spec with snapshot streams only", name)
		}
		msg := err.Error()
		if !strings.Contains(msg, fmt.Sprintf("%q", name)) || !strings.Contains(msg, "OpenSnapshot") || !strings.Contains(msg, spec.Snapshots[0].Name) {
			t.Errorf("%s: Open error %q does not name the market, its snapshot stream and OpenSnapshot", name, msg)
		}
		if _, err := orderbook.NewFetcher(spec, "", 0, 0, nil); err == nil || !strings.Contains(err.Error(), "OpenSnapshot") {
			t.Errorf("%s: NewFetcher error %v, want one pointing to OpenSnapshot", name, err)
		}
	}
}

// TestSnapshotOnlyBooks keeps a book from the DEX marketDepth stream (at
// its default 20 levels and at 100) and from the ZDEX orderbook channel
// (50) against the project's simulators, whose messages are the top of an
// order-book model per symbol. At checkpoints every millisecond a Synced
// book must hold exactly the requested number of levels per side and equal
// the simulator's top levels at the same update id, every price and
// quantity, never crossed and never older than a book seen before. A
// message with an older id is rejected (EventBackwards, the book still
// Synced and still the simulator's), and a crossed one takes the book out
// of Synced (EventResync with ErrCrossed) until the next good message.
func TestSnapshotOnlyBooks(t *testing.T) {
	for _, mk := range snapshotOnlyMarkets {
		t.Run(mk.name, func(t *testing.T) {
			t.Parallel()
			srv, err := mk.start()
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			runSnapshotOnly(t, mk.name, mk.market, mk.spec, mk.symbol, mk.levels, srv, mk.payload)
		})
	}
}

func runSnapshotOnly(t *testing.T, name string, m *runtime.Market, spec *orderbook.Spec, symbol string, levels int,
	srv snapshotOnlyServer, payload func(string, int64, string, string) []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := runtime.Dial(ctx, m, runtime.WithURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	var evMu sync.Mutex
	kinds := map[orderbook.EventKind]int{}
	var resyncErrs []error
	b, err := orderbook.OpenSnapshot(ctx, c, spec, symbol, orderbook.WithLevels(levels),
		orderbook.OnEvent(func(e orderbook.Event) {
			evMu.Lock()
			kinds[e.Kind]++
			if e.Kind == orderbook.EventResync {
				resyncErrs = append(resyncErrs, e.Err)
			}
			evMu.Unlock()
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	stream, err := spec.Snapshots[0].Stream(symbol, levels)
	if err != nil {
		t.Fatal(err)
	}

	var checks, ids, unchecked, divergences atomic.Int64
	var newest atomic.Int64 // the newest update id a checkpoint saw
	stop := make(chan struct{})
	checked := make(chan struct{})
	go func() { // the checkpoints
		defer close(checked)
		var snap orderbook.Snapshot
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			if b.Top(0, &snap) != nil {
				continue
			}
			if msg := crossedOrUnsorted(&snap); msg != "" {
				t.Errorf("%s: a reader saw %s at %d", name, msg, snap.LastUpdateID)
			}
			if prev := newest.Load(); snap.LastUpdateID < prev {
				t.Errorf("%s: a reader saw update id %d after %d", name, snap.LastUpdateID, prev)
			}
			want, ok := srv.BookState(symbol, snap.LastUpdateID)
			if !ok {
				unchecked.Add(1)
				continue
			}
			checks.Add(1)
			if snap.LastUpdateID != newest.Load() {
				ids.Add(1)
				newest.Store(snap.LastUpdateID)
			}
			d := compare(&snap, topOf(want, levels))
			if d == "" && (len(snap.Bids) != levels || len(snap.Asks) != levels) {
				d = fmt.Sprintf("%d bids and %d asks, want %d each", len(snap.Bids), len(snap.Asks), levels)
			}
			if d != "" && divergences.Add(1) <= 3 {
				t.Errorf("%s: Synced book differs from the simulator's top %d at %d: %s", name, levels, snap.LastUpdateID, d)
			}
		}
	}()
	defer func() {
		close(stop)
		<-checked
		t.Logf("%s: checks=%d ids=%d unchecked=%d divergences=%d stats=%+v", name, checks.Load(), ids.Load(), unchecked.Load(), divergences.Load(), b.Stats())
	}()

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		waitBook(t, name, b, 15*time.Second, what, cond)
	}
	waitFor("Synced after OpenSnapshot", func() bool { return b.State() == orderbook.Synced })
	waitFor("checkpoints", func() bool { return ids.Load() >= 100 })

	// A message going backwards: rejected, the book still Synced and
	// still the simulator's book, at an id no older than before.
	var snap orderbook.Snapshot
	if err := b.Top(0, &snap); err != nil {
		t.Fatalf("%s: Top before the backwards message: %v", name, err)
	}
	before := snap.LastUpdateID
	if n := srv.Publish(stream.Name, payload(symbol, 1, "100.00", "101.00")); n != 1 {
		t.Fatalf("%s: the backwards message reached %d connections, want 1", name, n)
	}
	waitFor("a backwards message rejected", func() bool { return b.Stats().Backwards == 1 })
	if b.State() != orderbook.Synced {
		t.Errorf("%s: a backwards message took the book out of Synced (%v)", name, b.State())
	}
	if err := b.Top(0, &snap); err != nil {
		t.Fatalf("%s: Top after the backwards message: %v", name, err)
	}
	if snap.LastUpdateID < before {
		t.Errorf("%s: after the backwards message the book is at %d, before it at %d", name, snap.LastUpdateID, before)
	}
	if want, ok := srv.BookState(symbol, snap.LastUpdateID); !ok {
		t.Errorf("%s: the simulator does not know update id %d", name, snap.LastUpdateID)
	} else if d := compare(&snap, topOf(want, levels)); d != "" {
		t.Errorf("%s: after the backwards message the book differs from the simulator's at %d: %s", name, snap.LastUpdateID, d)
	}

	// A crossed message (with an id newer than any): rejected; the book
	// leaves Synced and the next good message syncs it again.
	syncs := b.Stats().Syncs
	srv.Publish(stream.Name, payload(symbol, 1<<50, "1000000.00", "1.00"))
	waitFor("a crossed message rejected", func() bool { return b.Stats().Crossed == 1 })
	waitFor("Synced again after a crossed message", func() bool { return b.Stats().Syncs > syncs && b.State() == orderbook.Synced })
	after := ids.Load()
	waitFor("checkpoints after the faults", func() bool { return ids.Load() >= after+50 })

	evMu.Lock()
	defer evMu.Unlock()
	if kinds[orderbook.EventBackwards] != 1 || kinds[orderbook.EventResync] != 1 || kinds[orderbook.EventSynced] != 2 {
		t.Errorf("%s: events %v, want 1 backwards, 1 resync, 2 synced", name, kinds)
	}
	if len(resyncErrs) != 1 || !errors.Is(resyncErrs[0], orderbook.ErrCrossed) {
		t.Errorf("%s: resync errors %v, want one ErrCrossed", name, resyncErrs)
	}
	if st := b.Stats(); st.Resyncs != 1 || st.Errors != 0 {
		t.Errorf("%s: stats %+v, want 1 resync and no errors", name, st)
	}
}
