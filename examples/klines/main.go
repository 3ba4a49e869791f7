// Command klines prints the candles of one spot symbol as they update,
// marking each candle when it closes.
//
// Like every example it runs until interrupted (Ctrl-C or SIGTERM), or for
// the duration -for gives (e.g. -for 5s).
//
//	go run ./examples/klines -symbol ETHUSDT -interval 1s
package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/marketwire/marketwire/examples/internal/connect"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/runtime"
)

func main() {
	symbol := flag.String("symbol", "BTCUSDT", "symbol")
	interval := flag.String("interval", "1s", "candle interval, one of the spot.Interval values")
	connect.Main("spot", func(ctx context.Context, c *runtime.Conn) error {
		p := spot.KlineParams{Symbol: *symbol, Interval: spot.Interval(*interval)}
		// A bad interval fails here, before anything is sent:
		// spot: stream kline: parameter interval: "7m" is not a valid Interval (allowed: ...)
		_, err := spot.SubscribeKline(ctx, c, p, func(ev *spot.KlineEvent) {
			k := ev.Kline
			state := "open  "
			if k.IsClosed {
				state = "closed"
			}
			fmt.Printf("%s %s %s  O %s  H %s  L %s  C %s  V %s  trades %d\n", k.OpenTime.Time().Format("15:04:05"),
				k.Symbol, state, k.OpenPrice, k.HighPrice, k.LowPrice, k.ClosePrice, k.Volume, k.TradeCount)
		})
		return err
	})
}
