package bench

import (
	"context"
	"testing"
	"time"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/runtime"
)

// TestRawDials dials 200 times in raw mode (WithRawStreams: the stream in
// the URL, /ws/btcusdt@aggTrade, and no subscribe message) against a feed
// that writes its frames right after the upgrade, as Binance does. Every
// dial must receive every frame, the first included: the subscription has
// to be routable before the socket's first read (issue 10, part 3).
func TestRawDials(t *testing.T) {
	const dials, perDial = 200, 50
	p := payloadNamed("aggTrade")
	fr := p.rawFrames(perDial)
	f := newRawFeed(t, fr, perDial)
	failed := 0
	for i := 0; i < dials; i++ {
		got, sum, unsolicited, err := rawDial(f, perDial)
		if err != nil {
			t.Fatalf("dial %d: %v", i+1, err)
		}
		if got != perDial || sum != fr.sum(perDial) {
			failed++
			t.Logf("dial %d: %d of %d events delivered (id sum %d, want %d), %d frames counted as unsolicited",
				i+1, got, perDial, sum, fr.sum(perDial), unsolicited)
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d raw dials lost events", failed, dials)
	}
}

// rawDial dials f in raw mode, subscribes to btcusdt@aggTrade and counts
// events until want arrived, or every frame is accounted for as delivered
// or unsolicited, or 5 s passed.
func rawDial(f *feed, want int) (got int, sum int64, unsolicited uint64, err error) {
	ctx := context.Background()
	c, err := runtime.Dial(ctx, &spot.Market, runtime.WithURL(f.url), runtime.WithRawStreams(), runtime.WithConnectionBudget(0, 0))
	if err != nil {
		return 0, 0, 0, err
	}
	tl := newTally(int64(want))
	if _, err := spot.SubscribeAggTrade(ctx, c, spot.AggTradeParams{Symbol: "BTCUSDT"}, func(ev *spot.AggTradeEvent) {
		tl.add(ev.AggTradeID)
	}); err != nil {
		c.Close()
		return 0, 0, 0, err
	}
	deadline := time.Now().Add(5 * time.Second)
wait:
	for time.Now().Before(deadline) {
		select {
		case <-tl.done:
			break wait
		case <-time.After(2 * time.Millisecond):
		}
		// Frames routed before the subscription existed are counted as
		// unsolicited; once those and the delivered ones add up, nothing
		// more will come.
		if s := c.Stats(); s.Unsolicited > 0 && tl.seen.Load()+int64(s.Unsolicited) >= int64(want) {
			time.Sleep(20 * time.Millisecond)
			break
		}
	}
	unsolicited = c.Stats().Unsolicited
	c.Close()
	return int(tl.n), tl.sum, unsolicited, nil
}
