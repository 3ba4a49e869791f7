package runtime_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/synth"
)

// Dial connects to a market; a generated Subscribe helper delivers typed
// events. Here the market is marketwire's simulator (runtime.WithURL);
// without that option Dial connects to the exchange.
func ExampleDial() {
	srv, err := synth.Server("spot", 1, sim.WithPublishInterval(10*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := runtime.Dial(ctx, &spot.Market, runtime.WithURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	trades := make(chan *spot.AggTradeEvent, 100)
	_, err = spot.SubscribeAggTrade(ctx, c, spot.AggTradeParams{Symbol: "BTCUSDT"}, func(ev *spot.AggTradeEvent) {
		select {
		case trades <- ev: // the handler runs on the subscription's goroutine
		default:
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	ev := <-trades
	fmt.Println(ev.EventType, ev.Symbol, ev.Price.IsSet(), ev.Quantity.IsSet())
	// Output: aggTrade BTCUSDT true true
}

// OnEvent receives the lifecycle events of a Conn in order, on one
// goroutine; Close returns after the last of them.
func ExampleOnEvent() {
	srv, err := synth.Server("usdm", 1)
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := runtime.Dial(ctx, &usdm.Market, runtime.WithURL(srv.URL()), runtime.OnEvent(func(e runtime.Event) {
		switch e.Kind {
		case runtime.EventConnected:
			fmt.Println(e.Kind, "route", e.Route)
		case runtime.EventClosed:
			fmt.Println(e.Kind)
		}
	}))
	if err != nil {
		log.Fatal(err)
	}
	// USDⓈ-M streams live on routes; a route's socket opens with its first
	// stream.
	_, err = usdm.SubscribeBookTicker(ctx, c, usdm.BookTickerParams{Symbol: "BTCUSDT"}, func(*usdm.BookTickerEvent) {})
	if err != nil {
		log.Fatal(err)
	}
	c.Close()
	// Output:
	// connected route public
	// closed
}

// A bad parameter is refused before anything is sent, naming the parameter
// and the allowed values.
func ExampleConn_Subscribe() {
	srv, err := synth.Server("spot", 1)
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := runtime.Dial(ctx, &spot.Market, runtime.WithURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	_, err = spot.SubscribeKline(ctx, c, spot.KlineParams{Symbol: "BTCUSDT", Interval: "7m"}, func(*spot.KlineEvent) {})
	fmt.Println(err)

	// Conn.Subscribe takes any stream the generated parameters describe, and
	// hands the handler the decoded value.
	p := spot.KlineParams{Symbol: "BTCUSDT", Interval: spot.Interval1m}
	got := make(chan any, 10)
	sub, err := c.Subscribe(ctx, p.Stream(), func(v any) {
		select {
		case got <- v:
		default:
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %T\n", p.StreamName(), <-got)
	if err := sub.Unsubscribe(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// spot: stream kline: parameter interval: "7m" is not a valid Interval (allowed: 1s, 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w, 1M)
	// btcusdt@kline_1m: *spot.KlineEvent
}
