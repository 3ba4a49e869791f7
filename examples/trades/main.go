// Command trades prints the aggregate trades of several spot symbols, all on
// one combined connection, until it is interrupted (Ctrl-C or SIGTERM) or
// for the duration -for gives.
//
//	go run ./examples/trades                 # against the embedded simulator
//	go run ./examples/trades -for 5s         # five seconds of it
//	go run ./examples/trades -live           # against Binance
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/marketwire/marketwire/examples/internal/connect"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/runtime"
)

var symbols = flag.String("symbols", "BTCUSDT,ETHUSDT,BNBUSDT", "comma-separated symbols")

func main() {
	connect.Main("spot", func(ctx context.Context, c *runtime.Conn) error {
		return subscribe(ctx, c, strings.Split(*symbols, ","), os.Stdout)
	})
}

// subscribe prints the aggregate trades of symbols to out, one line each.
func subscribe(ctx context.Context, c *runtime.Conn, symbols []string, out io.Writer) error {
	for _, sym := range symbols {
		_, err := spot.SubscribeAggTrade(ctx, c, spot.AggTradeParams{Symbol: sym}, func(ev *spot.AggTradeEvent) {
			side := "buy "
			if ev.IsBuyerMaker {
				side = "sell"
			}
			fmt.Fprintf(out, "%s  %-8s %s %14s x %s\n", ev.TradeTime.Time().Format("15:04:05.000"), ev.Symbol, side, ev.Price, ev.Quantity)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
