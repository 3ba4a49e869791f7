package orderbook_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketwire/marketwire/orderbook"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/synth"
)

// TestSnapshotStream keeps each market's book from its partial-depth
// stream (OpenSnapshot) against the simulator: at checkpoints every few
// milliseconds a Synced book must equal the simulator's top levels at the
// same update id and never be crossed. A message going backwards
// (injected with an old id) is rejected with the book still Synced, and a
// crossed one is rejected, taking the book out of Synced until the next
// good message, without any reader seeing it.
func TestSnapshotStream(t *testing.T) {
	for _, mk := range bookMarkets {
		t.Run(mk.name, func(t *testing.T) {
			t.Parallel()
			runSnapshotStream(t, mk.name, mk.market, mk.spec, mk.symbol)
		})
	}
}

func runSnapshotStream(t *testing.T, name string, m *runtime.Market, spec *orderbook.Spec, symbol string) {
	srv, err := synth.NewServer(name, synth.Config{Seed: 7, Unpaced: true, Logf: func(string, ...any) {}},
		sim.WithPublishInterval(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := runtime.Dial(ctx, m, runtime.WithURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	const levels = 20
	var evMu sync.Mutex
	kinds := map[orderbook.EventKind]int{}
	b, err := orderbook.OpenSnapshot(ctx, c, spec, symbol, orderbook.WithLevels(levels),
		orderbook.OnEvent(func(e orderbook.Event) {
			evMu.Lock()
			kinds[e.Kind]++
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

	var checks, ids, unchecked, divergences, crossed atomic.Int64
	stop := make(chan struct{})
	checked := make(chan struct{})
	go func() { // the checkpoints
		defer close(checked)
		var snap orderbook.Snapshot
		var prev int64
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
				crossed.Add(1)
				t.Errorf("%s: a reader saw %s at %d", name, msg, snap.LastUpdateID)
			}
			want, ok := srv.BookState(symbol, snap.LastUpdateID)
			if !ok {
				unchecked.Add(1)
				continue
			}
			checks.Add(1)
			if snap.LastUpdateID != prev {
				ids.Add(1)
				prev = snap.LastUpdateID
			}
			if d := compare(&snap, topOf(want, levels)); d != "" {
				if divergences.Add(1) <= 3 {
					t.Errorf("%s: Synced book differs from the simulator's top %d at %d: %s", name, levels, snap.LastUpdateID, d)
				}
			}
		}
	}()
	defer func() {
		close(stop)
		<-checked
		t.Logf("%s: checks=%d ids=%d unchecked=%d divergences=%d crossed=%d stats=%+v", name, checks.Load(), ids.Load(), unchecked.Load(), divergences.Load(), crossed.Load(), b.Stats())
	}()

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		waitBook(t, name, b, 10*time.Second, what, cond)
	}
	waitFor("Synced after Open", func() bool { return b.State() == orderbook.Synced })
	waitFor("checkpoints", func() bool { return ids.Load() >= 100 })

	// A message going backwards: rejected, the book still Synced.
	srv.Publish(stream.Name, depthPayload(name, symbol, 1, "100.00", "101.00"))
	waitFor("a backwards message rejected", func() bool { return b.Stats().Backwards == 1 })
	if b.State() != orderbook.Synced {
		t.Errorf("%s: a backwards message took the book out of Synced (%v)", name, b.State())
	}

	// A crossed message (with an id newer than any): rejected; the book
	// leaves Synced and the next good message syncs it again.
	syncs := b.Stats().Syncs
	srv.Publish(stream.Name, depthPayload(name, symbol, 1<<50, "1000000.00", "1.00"))
	waitFor("a crossed message rejected", func() bool { return b.Stats().Crossed == 1 })
	waitFor("Synced again after a crossed message", func() bool { return b.Stats().Syncs > syncs && b.State() == orderbook.Synced })
	before := ids.Load()
	waitFor("checkpoints after the faults", func() bool { return ids.Load() >= before+100 })

	evMu.Lock()
	defer evMu.Unlock()
	if kinds[orderbook.EventBackwards] != 1 || kinds[orderbook.EventResync] != 1 || kinds[orderbook.EventSynced] != 2 {
		t.Errorf("%s: events %v, want 1 backwards, 1 resync, 2 synced", name, kinds)
	}
}

// topOf returns the best n levels of each side of st.
func topOf(st sim.BookState, n int) sim.BookState {
	out := sim.BookState{UpdateID: st.UpdateID, Bids: map[int64]int64{}, Asks: map[int64]int64{}}
	for _, side := range []struct {
		from, to map[int64]int64
		desc     bool
	}{{st.Bids, out.Bids, true}, {st.Asks, out.Asks, false}} {
		prices := make([]int64, 0, len(side.from))
		for p := range side.from {
			prices = append(prices, p)
		}
		slices.Sort(prices)
		if side.desc {
			slices.Reverse(prices)
		}
		for _, p := range prices[:min(n, len(prices))] {
			side.to[p] = side.from[p]
		}
	}
	return out
}

// depthPayload is a partial-depth message of market name with update id
// id and one level per side.
func depthPayload(name, symbol string, id int64, bid, ask string) []byte {
	if name == "spot" {
		return fmt.Appendf(nil, `{"lastUpdateId":%d,"bids":[[%q,"1.000"]],"asks":[[%q,"1.000"]]}`, id, bid, ask)
	}
	return fmt.Appendf(nil, `{"e":"depthUpdate","E":1,"T":1,"s":%q,"ps":"BTCUSD","U":%d,"u":%d,"pu":%d,"b":[[%q,"1.000"]],"a":[[%q,"1.000"]]}`,
		symbol, id, id, id-1, bid, ask)
}

// waitBook waits up to limit for cond, failing with the book's state and
// counters when it does not hold by then.
func waitBook(t *testing.T, name string, b *orderbook.Book, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s: timed out (state %v, stats %+v)", name, what, b.State(), b.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}
