// Command trades prints the aggregate trades of several spot symbols, all on
// one combined connection.
//
//	go run ./examples/trades                 # against the embedded simulator
//	go run ./examples/trades -live           # against Binance
package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/marketwire/marketwire/examples/internal/connect"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/runtime"
)

func main() {
	symbols := flag.String("symbols", "BTCUSDT,ETHUSDT,BNBUSDT", "comma-separated symbols")
	connect.Main("spot", func(ctx context.Context, c *runtime.Conn) error {
		for _, sym := range strings.Split(*symbols, ",") {
			_, err := spot.SubscribeAggTrade(ctx, c, spot.AggTradeParams{Symbol: sym}, func(ev *spot.AggTradeEvent) {
				side := "buy "
				if ev.IsBuyerMaker {
					side = "sell"
				}
				fmt.Printf("%s  %-8s %s %14s x %s\n", ev.TradeTime.Time().Format("15:04:05.000"), ev.Symbol, side, ev.Price, ev.Quantity)
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}
