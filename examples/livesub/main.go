// Command livesub subscribes and unsubscribes while the connection runs:
// every second it adds the next symbol's book ticker and drops the oldest,
// and it prints what the server says is subscribed.
//
// Like every example it runs until interrupted (Ctrl-C or SIGTERM), or for
// the duration -for gives (e.g. -for 5s).
package main

import (
	"context"
	"fmt"
	"log"
	"sync/atomic"
	"time"

	"github.com/marketwire/marketwire/examples/internal/connect"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/runtime"
)

func main() {
	connect.Main("spot", func(ctx context.Context, c *runtime.Conn) error {
		symbols := []string{"BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT"}
		var received atomic.Int64
		var active []*runtime.Subscription
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := 0; ; i++ {
			sub, err := spot.SubscribeBookTicker(ctx, c, spot.BookTickerParams{Symbol: symbols[i%len(symbols)]},
				func(*spot.BookTickerEvent) { received.Add(1) })
			if err != nil {
				return err
			}
			// Subscribe returns once the request is queued; Ready waits for
			// the exchange's confirmation (or its refusal).
			if err := sub.Ready(ctx); err != nil {
				return err
			}
			active = append(active, sub)
			if len(active) > 2 {
				if err := active[0].Unsubscribe(ctx); err != nil {
					log.Println("unsubscribe:", err)
				}
				active = active[1:]
			}
			// Ask the exchange what this connection carries.
			list, err := c.Call(ctx, "", "LIST_SUBSCRIPTIONS")
			if err != nil {
				return err
			}
			fmt.Printf("subscribed: %s  events so far: %d\n", list, received.Load())
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
		}
	})
}
