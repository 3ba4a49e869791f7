package simtest_test

import (
	"context"
	"fmt"
	"log"
	"testing"
	"time"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/simtest"
)

// Start and Dial in a test of your own: the simulator and the connection
// are closed when the test ends.
func ExampleStart() {
	var t *testing.T // your test's: func TestTrades(t *testing.T) { ... }

	s := simtest.Start(t, &spot.Market)
	c := s.Dial(t)
	trades := make(chan *spot.AggTradeEvent, 100)
	_, err := spot.SubscribeAggTrade(context.Background(), c, spot.AggTradeParams{Symbol: "BTCUSDT"},
		func(ev *spot.AggTradeEvent) {
			select {
			case trades <- ev:
			default: // a handler must not block: Close waits for it
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-trades; ev.Symbol != "BTCUSDT" {
		t.Errorf("trade of %s", ev.Symbol)
	}
}

// New starts a simulator outside a test; Conn dials it.
func ExampleNew() {
	s, err := simtest.New(&spot.Market)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := s.Conn(ctx) // runtime.Dial(ctx, &spot.Market, runtime.WithURL(s.URL()))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	klines := make(chan *spot.KlineEvent, 100)
	_, err = spot.SubscribeKline(ctx, c, spot.KlineParams{Symbol: "ETHUSDT", Interval: spot.Interval1s},
		func(ev *spot.KlineEvent) {
			if ev.Kline.IsClosed {
				klines <- ev
			}
		})
	if err != nil {
		log.Fatal(err)
	}
	k := (<-klines).Kline // the first candle that closed
	fmt.Println(k.Symbol, k.Interval, k.CloseTime.Time().Sub(k.OpenTime.Time()))
	// Output: ETHUSDT 1s 999ms
}

// The fault controls of a Binance market's simulator are those of its
// sim.Server: here the connection drops, and the runtime reconnects and
// subscribes again.
func ExampleSim_faults() {
	s, err := simtest.New(&spot.Market)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	events := make(chan runtime.Event, 100)
	c, err := s.Conn(ctx, runtime.OnEvent(func(e runtime.Event) {
		select {
		case events <- e:
		default:
		}
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_, err = spot.SubscribeBookTicker(ctx, c, spot.BookTickerParams{Symbol: "BTCUSDT"}, func(*spot.BookTickerEvent) {})
	if err != nil {
		log.Fatal(err)
	}

	fmt.Println("dropped", s.Server.DropConnections())
	for {
		select {
		case e := <-events:
			if e.Kind != runtime.EventResubscribed {
				continue
			}
			fmt.Println(e.Kind)
		case <-ctx.Done():
			fmt.Println(ctx.Err())
		}
		break
	}
	// Output:
	// dropped 1
	// resubscribed
}
