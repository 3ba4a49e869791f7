// Command topofbook keeps the best bid and ask of a few USDⓈ-M perpetuals
// from their book tickers (the /public route) and redraws a small table.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/marketwire/marketwire/examples/internal/connect"
	"github.com/marketwire/marketwire/generated/usdm"
)

func main() {
	opts := connect.Flags()
	symbols := flag.String("symbols", "BTCUSDT,ETHUSDT", "comma-separated symbols")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := opts.Context(ctx)
	defer cancel()

	c, closeAll, err := opts.Dial(ctx, "usdm")
	if err != nil {
		log.Fatal(err)
	}
	defer closeAll()

	var mu sync.Mutex
	top := map[string]*usdm.BookTickerEvent{}
	for _, sym := range strings.Split(*symbols, ",") {
		_, err := usdm.SubscribeBookTicker(ctx, c, usdm.BookTickerParams{Symbol: sym}, func(ev *usdm.BookTickerEvent) {
			mu.Lock()
			top[ev.Symbol] = ev
			mu.Unlock()
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
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
}
