package simtest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/marketwire/marketwire/generated/coinm"
	"github.com/marketwire/marketwire/generated/dex"
	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/generated/options"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/generated/zdex"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/simtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const wait = 10 * time.Second

// first subscribes to stream on c and returns its first event.
func first(t *testing.T, c *runtime.Conn, market, stream string) any {
	t.Helper()
	m := markets.All[market]
	p, err := m.ParseStream(stream)
	if err != nil {
		t.Fatal(err)
	}
	st := p.(interface{ Stream() runtime.Stream }).Stream()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	got := make(chan any, 1)
	sub, err := c.Subscribe(ctx, st, func(v any) {
		select {
		case got <- v:
		default:
		}
	})
	if err != nil {
		t.Fatalf("%s %s: %v", market, stream, err)
	}
	defer sub.Unsubscribe(ctx)
	select {
	case v := <-got:
		return v
	case <-ctx.Done():
		t.Fatalf("%s %s: no event", market, stream)
		return nil
	}
}

// TestEveryMarket starts the simulator of every market and receives typed
// events through a Conn from Dial, on streams of the order-book model, the
// examples, and ZDEX's authenticated account channel.
func TestEveryMarket(t *testing.T) {
	for _, tc := range []struct {
		m      *runtime.Market
		stream string
		check  func(v any) bool
	}{
		{&spot.Market, "btcusdt@aggTrade", func(v any) bool { return v.(*spot.AggTradeEvent).Symbol == "BTCUSDT" }},
		{&spot.Market, "btcusdt@avgPrice", func(v any) bool { return v.(*spot.AvgPriceEvent).AveragePrice.Float64() > 0 }},
		{&usdm.Market, "ethusdt@markPrice@1s", func(v any) bool { return v.(*usdm.MarkPriceEvent).Symbol == "ETHUSDT" }},
		{&usdm.Market, "btcusdt@depth@100ms", func(v any) bool { return len(v.(*usdm.DepthUpdateEvent).Bids) > 0 }},
		{&coinm.Market, "btcusd_perp@bookTicker", func(v any) bool { return v.(*coinm.BookTickerEvent).Symbol == "BTCUSD_PERP" }},
		{&options.Market, "btc-251226-110000-c@optionTrade", func(v any) bool { return v.(*options.TradeEvent).Price.Float64() > 0 }},
		{&dex.Market, "BNB_BTCB-1DE@trades", func(v any) bool { return len(*v.(*dex.TradeEvents)) > 0 }},
		{&zdex.Market, "ticker:BTCUSDT", func(v any) bool { return v.(*zdex.TickerEvent).Symbol == "BTCUSDT" }},
		{&zdex.Market, "account", func(v any) bool { return v != nil }},
	} {
		t.Run(tc.m.Name+" "+tc.stream, func(t *testing.T) {
			s := simtest.Start(t, tc.m)
			if s.URL() == "" || (s.Server == nil) == (tc.m.Venue == "binance" && tc.m.Name != "dex") {
				t.Fatalf("URL %q, Server %v", s.URL(), s.Server)
			}
			c := s.Dial(t)
			if v := first(t, c, tc.m.Name, tc.stream); !tc.check(v) {
				t.Errorf("event %T %+v", v, v)
			}
		})
	}
}

// TestFaults drops the connection through the simulator's controls: the
// runtime reconnects and events resume.
func TestFaults(t *testing.T) {
	s := simtest.Start(t, &usdm.Market, sim.WithPublishInterval(5*time.Millisecond))
	reconnected := make(chan struct{}, 1)
	c := s.Dial(t, runtime.OnEvent(func(e runtime.Event) {
		if e.Kind == runtime.EventResubscribed {
			select {
			case reconnected <- struct{}{}:
			default:
			}
		}
	}))
	first(t, c, "usdm", "btcusdt@aggTrade")
	if n := s.Server.DropConnections(); n != 1 {
		t.Fatalf("dropped %d connections", n)
	}
	select {
	case <-reconnected:
	case <-time.After(wait):
		t.Fatal("not resubscribed")
	}
	first(t, c, "usdm", "btcusdt@aggTrade")

	// A rejected stream's subscription ends with the server's error.
	s.Server.RejectStream("ethusdt@aggTrade", 2, "Invalid request: invalid stream")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	sub, err := usdm.SubscribeAggTrade(ctx, c, usdm.AggTradeParams{Symbol: "ETHUSDT"}, func(*usdm.AggTradeEvent) {})
	if err == nil {
		err = sub.Ready(ctx)
	}
	if err == nil || !strings.Contains(err.Error(), "invalid stream") {
		t.Errorf("rejected stream: %v", err)
	}
}

// TestStartErrors checks what New refuses.
func TestStartErrors(t *testing.T) {
	if _, err := simtest.New(&dex.Market, sim.WithPublishInterval(time.Second)); err == nil {
		t.Error("sim.Options accepted for the DEX")
	}
	if _, err := simtest.New(&runtime.Market{Name: "nasdaq", Venue: "nasdaq"}); err == nil {
		t.Error("a market outside the registry accepted")
	}
	if _, err := simtest.New(nil); err == nil {
		t.Error("nil market accepted")
	}
}
