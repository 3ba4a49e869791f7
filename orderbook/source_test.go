package orderbook_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/orderbook"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/synth"
)

// TestSnapshotSource keeps a book whose snapshots come from a function
// (WithSnapshotSource) rather than REST: here another book's copy, first
// an old one (older than the buffered events: EventStaleSnapshot, asked
// again with the buffer kept), then an error (EventSnapshotError,
// retried), then current ones. The book syncs, equals the simulator's
// book at checkpoints whenever it is Synced, and never asks the REST
// host: every request the simulator served is the REST book's.
func TestSnapshotSource(t *testing.T) {
	spec, symbol := &spot.OrderBook, "BTCUSDT"
	srv, err := synth.NewServer("spot", synth.Config{Seed: 7, Unpaced: true, Logf: func(string, ...any) {}},
		sim.WithPublishInterval(5*time.Millisecond), sim.WithRESTWeight(0, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := runtime.Dial(ctx, &spot.Market, runtime.WithURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	defer client.CloseIdleConnections()
	f, err := orderbook.NewFetcher(spec, srv.RESTURL(), 0, 0, client)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := orderbook.Open(ctx, c, spec, symbol, orderbook.WithFetcher(f), orderbook.WithLimit(100),
		orderbook.WithRetry(10*time.Millisecond, 100*time.Millisecond), orderbook.WithFirstWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer rest.Close()
	for rest.State() != orderbook.Synced {
		time.Sleep(time.Millisecond)
	}
	old, err := rest.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the stream moves past old

	var calls atomic.Int64
	source := func(ctx context.Context, sym string, limit int) (*orderbook.Snapshot, error) {
		if sym != symbol || limit != 0 {
			t.Errorf("snapshot source called with %q, %d", sym, limit)
		}
		switch calls.Add(1) {
		case 1:
			return &old, nil
		case 2:
			return nil, errors.New("source down")
		}
		s, err := rest.Snapshot()
		return &s, err
	}
	var mu sync.Mutex
	kinds := map[orderbook.EventKind]int{}
	b, err := orderbook.Open(ctx, c, spec, symbol, orderbook.WithSnapshotSource(source),
		orderbook.WithRetry(10*time.Millisecond, 100*time.Millisecond), orderbook.WithFirstWait(100*time.Millisecond),
		orderbook.OnEvent(func(e orderbook.Event) {
			mu.Lock()
			kinds[e.Kind]++
			mu.Unlock()
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	var checks, unchecked int64
	deadline := time.Now().Add(20 * time.Second)
	var snap orderbook.Snapshot
	for checks < 200 {
		if time.Now().After(deadline) {
			t.Fatalf("%d checks in 20 s (state %v, stats %+v)", checks, b.State(), b.Stats())
		}
		time.Sleep(2 * time.Millisecond)
		if b.Top(0, &snap) != nil {
			continue
		}
		want, ok := srv.BookState(symbol, snap.LastUpdateID)
		if !ok {
			unchecked++
			continue
		}
		checks++
		if d := compare(&snap, want); d != "" {
			t.Fatalf("Synced book differs from the simulator's at %d: %s", snap.LastUpdateID, d)
		}
	}
	st := b.Stats()
	mu.Lock()
	defer mu.Unlock()
	if st.Stale == 0 || kinds[orderbook.EventStaleSnapshot] == 0 {
		t.Errorf("the old snapshot was not found stale: stats %+v, events %v", st, kinds)
	}
	if st.Errors == 0 || kinds[orderbook.EventSnapshotError] == 0 {
		t.Errorf("the source's error was not reported: stats %+v, events %v", st, kinds)
	}
	if kinds[orderbook.EventSynced] == 0 {
		t.Errorf("no EventSynced: %v", kinds)
	}
	if got, mine := srv.SnapshotStats().Requests, f.Stats().Requests; got != mine {
		t.Errorf("the simulator served %d snapshot requests, the REST book made %d", got, mine)
	}
}

// TestOpenSourceBadInput: a nil Source (untyped or a nil *runtime.Conn), a
// Source of another market and conflicting snapshot options are errors,
// never panics.
func TestOpenSourceBadInput(t *testing.T) {
	ctx := context.Background()
	var nilConn *runtime.Conn
	for _, c := range []struct {
		name string
		open func() (*orderbook.Book, error)
		want string
	}{
		{"nil", func() (*orderbook.Book, error) { return orderbook.Open(ctx, nil, &spot.OrderBook, "BTCUSDT") }, "nil Source"},
		{"nil Conn", func() (*orderbook.Book, error) { return orderbook.Open(ctx, nilConn, &spot.OrderBook, "BTCUSDT") }, "nil Source"},
		{"snapshot, nil Conn", func() (*orderbook.Book, error) {
			return orderbook.OpenSnapshot(ctx, nilConn, &usdm.OrderBook, "BTCUSDT")
		}, "nil Source"},
		{"another market", func() (*orderbook.Book, error) {
			return orderbook.Open(ctx, marketSource{&usdm.Market}, &spot.OrderBook, "BTCUSDT")
		}, `the Source is of market "usdm", the Spec of market "spot"`},
		{"nil snapshot source", func() (*orderbook.Book, error) {
			return orderbook.Open(ctx, marketSource{&spot.Market}, &spot.OrderBook, "BTCUSDT", orderbook.WithSnapshotSource(nil))
		}, "nil function"},
		{"snapshot source and REST", func() (*orderbook.Book, error) {
			src := func(context.Context, string, int) (*orderbook.Snapshot, error) { return nil, nil }
			return orderbook.Open(ctx, marketSource{&spot.Market}, &spot.OrderBook, "BTCUSDT", orderbook.WithSnapshotSource(src), orderbook.WithREST("http://127.0.0.1:1"))
		}, "excludes"},
	} {
		b, err := c.open()
		if err == nil {
			b.Close()
			t.Errorf("%s: no error", c.name)
		} else if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %q does not say %q", c.name, err, c.want)
		}
	}
}

// marketSource is a Source that only has a market.
type marketSource struct{ m *runtime.Market }

func (s marketSource) Subscribe(context.Context, runtime.Stream, func(any), ...runtime.SubscribeOption) (*runtime.Subscription, error) {
	return nil, errors.New("not subscribable")
}

func (s marketSource) SubscribeAll(context.Context, []runtime.Stream, func(any), ...runtime.SubscribeOption) ([]*runtime.Subscription, error) {
	return nil, errors.New("not subscribable")
}

func (s marketSource) Market() *runtime.Market { return s.m }
