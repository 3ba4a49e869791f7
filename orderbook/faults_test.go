package orderbook_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketwire/marketwire/generated/coinm"
	"github.com/marketwire/marketwire/generated/options"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/orderbook"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/synth"
)

// bookMarkets are the markets with an order book, one symbol each.
var bookMarkets = []struct {
	name   string
	market *runtime.Market
	spec   *orderbook.Spec
	symbol string
}{
	{"spot", &spot.Market, &spot.OrderBook, "BTCUSDT"},
	{"usdm", &usdm.Market, &usdm.OrderBook, "ETHUSDT"},
	{"coinm", &coinm.Market, &coinm.OrderBook, "BTCUSD_PERP"},
	{"options", &options.Market, &options.OrderBook, "BTC-251226-110000-C"},
}

// faultRun counts what one market's fault run did.
type faultRun struct {
	updates, ids, checks, unchecked int64
	faults                          map[string]int
	resyncs, gaps, stale, errors    uint64
	divergences, crossed            int64
}

// TestFaults runs each market's simulated book for thousands of updates,
// injecting every fault (a dropped diff, a duplicated diff, a snapshot that
// lags the stream, 429 replies with Retry-After, a reconnect mid-sync and
// one while synced), and checks at checkpoints every few milliseconds that
// whenever the local book is Synced it equals the simulator's book at the
// same update id, level for level, and is not crossed.
func TestFaults(t *testing.T) {
	var mu sync.Mutex
	runs := map[string]*faultRun{}
	t.Run("markets", func(t *testing.T) {
		for _, mk := range bookMarkets {
			t.Run(mk.name, func(t *testing.T) {
				t.Parallel()
				r := runFaults(t, mk.name, mk.market, mk.spec, mk.symbol)
				mu.Lock()
				runs[mk.name] = r
				mu.Unlock()
			})
		}
	})
	for _, mk := range bookMarkets {
		if r := runs[mk.name]; r != nil {
			t.Logf("%-8s updates=%d ids=%d faults=%v resyncs=%d gaps=%d stale=%d snapshotErrors=%d checks=%d unchecked=%d divergences=%d crossed=%d",
				mk.name, r.updates, r.ids, r.faults, r.resyncs, r.gaps, r.stale, r.errors, r.checks, r.unchecked, r.divergences, r.crossed)
		}
	}
}

func runFaults(t *testing.T, name string, m *runtime.Market, spec *orderbook.Spec, symbol string) *faultRun {
	srv, err := synth.NewServer(name, synth.Config{Seed: 7, Unpaced: true, Logf: func(string, ...any) {}},
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

	g := orderbook.NewGroup()
	c, err := runtime.Dial(ctx, m, runtime.WithURL(srv.URL()), runtime.OnEvent(g.Observe),
		runtime.WithBackoff(runtime.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond, Factor: 1.6, Jitter: 0.2}),
		runtime.WithStableAfter(50*time.Millisecond))
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
	var b *orderbook.Book
	b, err = g.Open(ctx, c, spec, symbol, orderbook.WithFetcher(f), orderbook.WithLimit(spec.Limits.Fit(100)),
		orderbook.WithRetry(10*time.Millisecond, 200*time.Millisecond), orderbook.WithFirstWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	st, _ := spec.DiffStream(symbol)
	stream := st.Name

	r := &faultRun{faults: map[string]int{}}
	stop := make(chan struct{})
	checked := make(chan struct{})
	go func() { // the checkpoints
		defer close(checked)
		var snap orderbook.Snapshot
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			if b.Top(0, &snap) != nil {
				continue
			}
			if msg := crossedOrUnsorted(&snap); msg != "" {
				atomic.AddInt64(&r.crossed, 1)
				t.Errorf("%s: a reader saw %s at %d", name, msg, snap.LastUpdateID)
			}
			want, ok := srv.BookState(symbol, snap.LastUpdateID)
			if !ok {
				atomic.AddInt64(&r.unchecked, 1)
				continue
			}
			atomic.AddInt64(&r.checks, 1)
			if diff := compare(&snap, want); diff != "" {
				if atomic.AddInt64(&r.divergences, 1) <= 3 {
					t.Errorf("%s: Synced book differs from the simulator's at %d: %s", name, snap.LastUpdateID, diff)
				}
			}
		}
	}()

	synced := func(what string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for b.State() != orderbook.Synced {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not Synced %v after %s (state %v, stats %+v)", name, 20*time.Second, what, b.State(), b.Stats())
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	// run lets the book follow the stream for a while.
	run := func(d time.Duration) { time.Sleep(d) }
	resyncs := func() uint64 { return b.Stats().Resyncs }
	waitResync := func(before uint64, what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for resyncs() == before {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s did not make the book resync", name, what)
			}
			time.Sleep(time.Millisecond)
		}
		synced(what)
	}

	synced("Open")
	start := b.Stats()
	startID := snapID(b)
	for round := 0; round < 2; round++ {
		run(150 * time.Millisecond)

		// A dropped diff: a gap, then a resync.
		n := resyncs()
		srv.DropNext(stream, 1)
		r.faults["drop"]++
		waitResync(n, "a dropped diff")
		run(100 * time.Millisecond)

		// A duplicated diff: ignored.
		n = resyncs()
		srv.DuplicateNext(stream, 1)
		r.faults["dup"]++
		run(100 * time.Millisecond)
		if resyncs() != n {
			t.Errorf("%s: a duplicated diff made the book resync", name)
		}

		// A snapshot lagging the stream by 400 ms: stale, retried with the
		// buffer kept, until one reaches the buffered events.
		srv.LagSnapshots(400 * time.Millisecond)
		r.faults["lag"]++
		n = resyncs()
		b.Resync()
		waitResync(n, "a lagging snapshot")
		srv.LagSnapshots(0)
		run(100 * time.Millisecond)

		// 429 with Retry-After 1 s: the fetcher waits, then syncs.
		srv.RateLimitSnapshots(2, time.Second)
		r.faults["429"] += 2
		n = resyncs()
		b.Resync()
		waitResync(n, "429 replies")
		run(100 * time.Millisecond)

		// A reconnect mid-sync: the snapshot is slow, the socket drops.
		srv.DelaySnapshots(150 * time.Millisecond)
		n = resyncs()
		b.Resync()
		time.Sleep(50 * time.Millisecond)
		srv.DropConnections()
		r.faults["reconnect mid-sync"]++
		waitResync(n, "a reconnect mid-sync")
		srv.DelaySnapshots(0)
		run(100 * time.Millisecond)

		// A reconnect while synced: the events published meanwhile are lost.
		srv.DropConnections()
		r.faults["reconnect"]++
		run(50 * time.Millisecond)
		synced("a reconnect")
	}
	// Then follow the stream until it has applied thousands of events,
	// dropping a diff now and then.
	for i := 0; b.Stats().Applied-start.Applied < 2000; i++ {
		if i > 400 {
			t.Fatalf("%s: only %d events applied in 20 s", name, b.Stats().Applied-start.Applied)
		}
		if i%100 == 99 {
			n := resyncs()
			srv.DropNext(stream, 1)
			r.faults["drop"]++
			waitResync(n, "a dropped diff")
		}
		run(50 * time.Millisecond)
	}
	close(stop)
	<-checked
	end := b.Stats()
	r.updates = int64(end.Applied - start.Applied)
	r.ids = snapID(b) - startID
	r.resyncs, r.gaps, r.stale, r.errors = end.Resyncs-start.Resyncs, end.Gaps-start.Gaps, end.Stale-start.Stale, end.Errors-start.Errors
	if r.checks < 100 {
		t.Errorf("%s: only %d checkpoints compared", name, r.checks)
	}
	if r.updates < 2000 {
		t.Errorf("%s: only %d updates applied", name, r.updates)
	}
	if fs := f.Stats(); fs.RateLimited < 2 {
		t.Errorf("%s: the fetcher saw %d rate-limit replies, want 2", name, fs.RateLimited)
	}
	return r
}

func snapID(b *orderbook.Book) int64 {
	var s orderbook.Snapshot
	for b.Top(1, &s) != nil {
		time.Sleep(time.Millisecond)
	}
	return s.LastUpdateID
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

// compare returns how a snapshot differs from the simulator's book: every
// level, price in ticks of 0.01 and quantity in lots of 0.001.
func compare(s *orderbook.Snapshot, want sim.BookState) string {
	for _, side := range []struct {
		name string
		got  []orderbook.Level
		want map[int64]int64
	}{{"bids", s.Bids, want.Bids}, {"asks", s.Asks, want.Asks}} {
		if len(side.got) != len(side.want) {
			return fmt.Sprintf("%s: %d levels, want %d", side.name, len(side.got), len(side.want))
		}
		for _, l := range side.got {
			p, q := units(l.Price, 2), units(l.Qty, 3)
			if w, ok := side.want[p]; !ok || w != q {
				return fmt.Sprintf("%s: level %s has %s, want %d lots (present %v)", side.name, l.Price, l.Qty, w, ok)
			}
		}
	}
	return ""
}

// units returns f in units of 10^-scale; f must have at most scale decimals.
func units(f orderbook.Fixed, scale int8) int64 {
	v := f.Int
	for s := f.Scale; s < scale; s++ {
		v *= 10
	}
	return v
}
