// Command book keeps the local order book of one symbol in sync (package
// orderbook: a REST snapshot plus the diff stream) and redraws its top five
// levels, with the book's state and update id.
//
// It runs against the embedded simulator (which serves the REST snapshot
// too) unless -live is given, until interrupted or for the duration -for
// gives (e.g. -for 5s). -market picks spot, usdm, coinm or options.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/marketwire/marketwire/examples/internal/connect"
	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/orderbook"
	"github.com/marketwire/marketwire/runtime"
)

var (
	market = flag.String("market", "spot", "market: spot, usdm, coinm or options")
	symbol = flag.String("symbol", "BTCUSDT", "symbol")
	levels = flag.Int("levels", 5, "levels per side to show")
	limit  = flag.Int("limit", 0, "levels per side of the REST snapshot (0: the market's default for the book)")
)

// out is where the ladder goes.
var out io.Writer = os.Stdout

func main() {
	flag.Parse() // for -market; connect parses the rest again
	g := orderbook.NewGroup()
	connect.OnEvent(g.Observe)
	connect.Main(*market, show(g))
}

// show opens the book in g and prints its ladder every half second.
func show(g *orderbook.Group) connect.RunFunc {
	return func(ctx context.Context, c *runtime.Conn) error {
		m, ok := markets.All[*market]
		if !ok || m.OrderBook == nil || m.OrderBook.Path == "" {
			return fmt.Errorf("market %q has no order book (spot, usdm, coinm, options)", *market)
		}
		opts := []orderbook.Option{orderbook.OnEvent(func(e orderbook.Event) { log.Println("book:", e) })}
		if u := connect.REST(); u != "" {
			opts = append(opts, orderbook.WithREST(u))
		}
		if *limit > 0 {
			opts = append(opts, orderbook.WithLimit(*limit))
		}
		b, err := g.Open(ctx, c, m.OrderBook, *symbol, opts...)
		if err != nil {
			return err
		}
		defer g.Close()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		var top orderbook.Snapshot
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
			if err := b.Top(*levels, &top); err != nil {
				fmt.Fprintf(out, "%s: %v\n\n", *symbol, b.State())
				continue
			}
			fmt.Fprint(out, ladder(&top))
		}
	}
}

// ladder formats the asks (best last) above the bids (best first).
func ladder(s *orderbook.Snapshot) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s  lastUpdateId %d\n", s.Symbol, s.LastUpdateID)
	for i := len(s.Asks) - 1; i >= 0; i-- {
		fmt.Fprintf(&sb, "  ask %16s  %16s\n", s.Asks[i].Price, s.Asks[i].Qty)
	}
	sb.WriteString("  ---\n")
	for _, l := range s.Bids {
		fmt.Fprintf(&sb, "  bid %16s  %16s\n", l.Price, l.Qty)
	}
	sb.WriteString("\n")
	return sb.String()
}
