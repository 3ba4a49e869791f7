package synth

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
)

// TestServerEndToEnd subscribes through the runtime and the generated
// helpers to streams the simulator makes from its book model and from
// examples, on a routed market, and checks that typed events arrive.
func TestServerEndToEnd(t *testing.T) {
	for _, market := range []string{"spot", "usdm", "coinm", "options"} {
		t.Run(market, func(t *testing.T) {
			srv, err := Server(market, 1, sim.WithPublishInterval(10*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			m := markets.All[market]
			c, err := runtime.Dial(ctx, m.Info, runtime.WithURL(srv.URL()))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()

			streams := map[string][]string{
				"spot":    {"btcusdt@aggTrade", "btcusdt@depth@100ms", "ethusdt@kline_1s", "!miniTicker@arr", "btcusdt@avgPrice"},
				"usdm":    {"btcusdt@aggTrade", "btcusdt@depth@100ms", "btcusdt@markPrice@1s", "!contractInfo", "btcusdt_perpetual@continuousKline_1m"},
				"coinm":   {"btcusd_perp@aggTrade", "btcusd_perp@depth@100ms", "btcusd@indexPrice@1s"},
				"options": {"btc-251226-110000-c@optionTrade", "btcusdt@optionMarkPrice", "!index@arr"},
			}[market]
			var mu sync.Mutex
			got := map[string]int{}
			done := make(chan struct{})
			for _, name := range streams {
				p, err := m.ParseStream(name)
				if err != nil {
					t.Fatal(err)
				}
				s := runtime.Stream{Name: name, Route: p.Route(), Decode: func(b []byte) (any, error) {
					return m.Decode(name, b)
				}}
				_, err = c.Subscribe(ctx, s, func(v any) {
					mu.Lock()
					defer mu.Unlock()
					got[name]++
					if len(got) == len(streams) {
						select {
						case <-done:
						default:
							close(done)
						}
					}
				})
				if err != nil {
					t.Fatalf("subscribe %s: %v", name, err)
				}
			}
			select {
			case <-done:
			case <-ctx.Done():
				mu.Lock()
				t.Fatalf("not every stream delivered: %v", got)
			}
		})
	}
}

// TestGeneratedHelpers uses the typed helpers a user would write.
func TestGeneratedHelpers(t *testing.T) {
	srv, err := Server("usdm", 2, sim.WithPublishInterval(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := runtime.Dial(ctx, &usdm.Market, runtime.WithURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	updates := make(chan *usdm.DepthUpdateEvent, 100)
	_, err = usdm.SubscribeDiffDepth(ctx, c, usdm.DiffDepthParams{Symbol: "BTCUSDT", Speed: usdm.DepthSpeed100ms},
		func(ev *usdm.DepthUpdateEvent) {
			select {
			case updates <- ev:
			default:
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	// Diff-depth events chain: each pu is the previous u.
	var prev *usdm.DepthUpdateEvent
	for i := 0; i < 5; i++ {
		select {
		case ev := <-updates:
			if ev.Symbol != "BTCUSDT" {
				t.Errorf("symbol %q", ev.Symbol)
			}
			if prev != nil && ev.PrevFinalUpdateID != prev.FinalUpdateID {
				t.Errorf("pu %d, previous u %d", ev.PrevFinalUpdateID, prev.FinalUpdateID)
			}
			prev = ev
		case <-ctx.Done():
			t.Fatal("no depth updates")
		}
	}

	// Bad parameters never reach the server.
	if _, err := spot.SubscribeKline(ctx, c, spot.KlineParams{Symbol: "BTCUSDT", Interval: "7m"}, func(*spot.KlineEvent) {}); err == nil {
		t.Fatal("invalid interval subscribed")
	}
}
