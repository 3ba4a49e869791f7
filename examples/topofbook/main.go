// Command topofbook keeps the best bid and ask of a few USDⓈ-M perpetuals
// from their book tickers (the /public route) and redraws a small table.
//
// Like every example it runs until interrupted (Ctrl-C or SIGTERM), or for
// the duration -for gives (e.g. -for 5s).
package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/marketwire/marketwire/examples/internal/connect"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/runtime"
)

func main() {
	symbols := flag.String("symbols", "BTCUSDT,ETHUSDT", "comma-separated symbols")
	connect.Main("usdm", func(ctx context.Context, c *runtime.Conn) error {
		var mu sync.Mutex
		top := map[string]*usdm.BookTickerEvent{}
		for _, sym := range strings.Split(*symbols, ",") {
			_, err := usdm.SubscribeBookTicker(ctx, c, usdm.BookTickerParams{Symbol: sym}, func(ev *usdm.BookTickerEvent) {
				mu.Lock()
				top[ev.Symbol] = ev
				mu.Unlock()
			})
			if err != nil {
				return err
			}
		}
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
			mu.Lock()
			names := make([]string, 0, len(top))
			for s := range top {
				names = append(names, s)
			}
			sort.Strings(names)
			for _, s := range names {
				ev := top[s]
				fmt.Printf("%-10s bid %14s x %-10s ask %14s x %-10s\n", s, ev.BestBidPrice, ev.BestBidQuantity, ev.BestAskPrice, ev.BestAskQuantity)
			}
			mu.Unlock()
			fmt.Println()
		}
	})
}
