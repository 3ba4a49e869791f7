package bench

import (
	"context"
	"testing"
	"time"

	"github.com/marketwire/marketwire/generated/spot"
)

// TestBurst streams 200,000 aggTrade frames at full socket speed into a
// handler that only counts them, through the Subscribe helper with default
// options: every one must be delivered (issue 10: no drops when the handler
// keeps up on average).
func TestBurst(t *testing.T) {
	const n = 200_000
	p := payloadNamed("aggTrade")
	fr := p.frames(K)
	f := newFeed(t, fr, binance, 1)
	c, err := dialRuntime(&spot.Market, f)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tl := newTally(n)
	sub, err := spot.SubscribeAggTrade(context.Background(), c, spot.AggTradeParams{Symbol: "BTCUSDT"}, func(ev *spot.AggTradeEvent) {
		tl.add(ev.AggTradeID)
	})
	if err != nil {
		t.Fatal(err)
	}
	fc := f.conn(t)
	start := time.Now()
	if err := fc.stream(n); err != nil {
		t.Fatal(err)
	}
	wrote := time.Since(start)
	// Every frame is written: wait until each is delivered, or nothing is
	// delivered for half a second.
	last, lastAt := int64(-1), time.Now()
wait:
	for time.Since(lastAt) < 500*time.Millisecond {
		select {
		case <-tl.done:
			lastAt = time.Now()
			break wait
		case <-time.After(5 * time.Millisecond):
		}
		if g := tl.seen.Load(); g != last {
			last, lastAt = g, time.Now()
		}
	}
	took := lastAt.Sub(start) // until the last delivery seen
	dropped := sub.Dropped()
	c.Close() // no handler runs after Close: tl is ours
	t.Logf("%d frames written in %v; delivered %d, dropped %d, in %v", n, wrote.Round(time.Millisecond), tl.n, dropped, took.Round(time.Millisecond))
	if tl.n != n || dropped != 0 {
		t.Fatalf("delivered %d of %d (dropped %d)", tl.n, n, dropped)
	}
	if tl.sum != fr.sum(n) {
		t.Fatalf("sum of ids %d, the feed sent %d", tl.sum, fr.sum(n))
	}
}
