package bench

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/runtime"
)

// TestKeptEventsIntact keeps every event a handler receives and checks,
// after many more frames were read, that each still holds what it held
// when the handler got it: the runtime reads frames into write-once memory
// that the events' strings and decimals alias, and nothing may overwrite it.
func TestKeptEventsIntact(t *testing.T) {
	const n = 20_000 // depth frames of ~1.4 KB: many arena chunks
	p := payloadNamed("depthUpdate20x20")
	fr := p.frames(K)
	f := newFeed(t, fr, binance, 1)
	c, err := dialRuntime(&usdm.Market, f)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	kept := make([]*usdm.DepthUpdateEvent, 0, n)
	seen := make([]string, 0, n)
	var got atomic.Int64
	done := make(chan struct{})
	// Block: a handler that keeps every event falls behind a full-speed
	// feed, most of all under the race detector, and what it must see is
	// every event, not what an overflow policy leaves.
	_, err = usdm.SubscribeDiffDepth(context.Background(), c, usdm.DiffDepthParams{Symbol: "BTCUSDT", Speed: usdm.DepthSpeed100ms}, func(ev *usdm.DepthUpdateEvent) {
		kept = append(kept, ev)
		seen = append(seen, string(ev.AppendJSON(nil)))
		got.Add(1)
		if len(kept) == n {
			close(done)
		}
	}, runtime.WithOverflow(runtime.Block))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.conn(t).stream(n); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("received %d of %d events", got.Load(), n)
	}
	c.Close() // no handler runs after Close: kept and seen are ours
	for i, ev := range kept {
		if got := string(ev.AppendJSON(nil)); got != seen[i] {
			t.Fatalf("event %d changed after its handler returned:\nthen %s\nnow  %s", i, seen[i], got)
		}
	}
}
