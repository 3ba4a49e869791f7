package runtime_test

// These examples use the options market: the runtime's tests name no venue
// or market of the schema but this one, whose name is an ordinary word
// (gen's TestRuntimeNamesNoVenue). Every generated market package works
// the same way.

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/marketwire/marketwire/generated/options"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/synth"
)

// exampleContract is an option contract of the simulator (it serves any).
const exampleContract = "BTC-251226-110000-C"

// exampleSim starts marketwire's simulator of the options market.
func exampleSim() *sim.Server {
	srv, err := synth.Server(options.Market.Name, 1, sim.WithPublishInterval(10*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	return srv
}

// Dial connects to a market; a generated Subscribe helper delivers typed
// events. Here the market is marketwire's simulator (runtime.WithURL);
// without that option Dial connects to the exchange. The simtest package
// does the same in one call.
func ExampleDial() {
	srv := exampleSim()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := runtime.Dial(ctx, &options.Market, runtime.WithURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	trades := make(chan *options.TradeEvent, 100)
	_, err = options.SubscribeTrade(ctx, c, options.TradeParams{Symbol: exampleContract}, func(ev *options.TradeEvent) {
		select {
		case trades <- ev: // the handler runs on the subscription's own goroutine
		default:
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	ev := <-trades
	fmt.Println(ev.Symbol, ev.Price.IsSet(), ev.Quantity.IsSet())
	// Output: BTC-251226-110000-C true true
}

// OnEvent receives the lifecycle events of a Conn in order, on one
// goroutine; Close returns after the last of them.
func ExampleOnEvent() {
	srv := exampleSim()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := runtime.Dial(ctx, &options.Market, runtime.WithURL(srv.URL()), runtime.OnEvent(func(e runtime.Event) {
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
	// This market's streams live on routes; a route's socket opens with its
	// first stream.
	_, err = options.SubscribeBookTicker(ctx, c, options.BookTickerParams{Symbol: exampleContract}, func(*options.BookTickerEvent) {})
	if err != nil {
		log.Fatal(err)
	}
	c.Close()
	// Output:
	// connected route public
	// closed
}

// A bad parameter is refused before anything is sent, naming the parameter
// and the allowed values; Conn.Subscribe takes any stream that generated
// parameters describe.
func ExampleConn_Subscribe() {
	srv := exampleSim()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := runtime.Dial(ctx, &options.Market, runtime.WithURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	_, err = options.SubscribeKline(ctx, c, options.KlineParams{Symbol: exampleContract, Interval: "7m"}, func(*options.KlineEvent) {})
	fmt.Println(err)

	p := options.KlineParams{Symbol: exampleContract, Interval: options.Interval1m}
	got := make(chan any, 10)
	sub, err := c.Subscribe(ctx, p.Stream(), func(v any) { // v is what the stream's decoder returns
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
	// options: stream kline: parameter interval: "7m" is not a valid Interval (allowed: 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 12h, 1d, 3d, 1w)
	// btc-251226-110000-c@kline_1m: *options.KlineEvent
}
