// Command klines prints the candles of one spot symbol as they update,
// marking each candle when it closes.
//
//	go run ./examples/klines -symbol ETHUSDT -interval 1s
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"

	"github.com/marketwire/marketwire/examples/internal/connect"
	"github.com/marketwire/marketwire/generated/spot"
)

func main() {
	opts := connect.Flags()
	symbol := flag.String("symbol", "BTCUSDT", "symbol")
	interval := flag.String("interval", "1s", "candle interval, one of the spot.Interval values")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := opts.Context(ctx)
	defer cancel()

	c, closeAll, err := opts.Dial(ctx, "spot")
	if err != nil {
		log.Fatal(err)
	}
	defer closeAll()

	p := spot.KlineParams{Symbol: *symbol, Interval: spot.Interval(*interval)}
	_, err = spot.SubscribeKline(ctx, c, p, func(ev *spot.KlineEvent) {
		k := ev.Kline
		state := "open  "
		if k.IsClosed {
			state = "closed"
		}
		fmt.Printf("%s %s %s  O %s  H %s  L %s  C %s  V %s  trades %d\n", k.OpenTime.Time().Format("15:04:05"),
			k.Symbol, state, k.OpenPrice, k.HighPrice, k.LowPrice, k.ClosePrice, k.Volume, k.TradeCount)
	})
	if err != nil {
		log.Fatal(err) // e.g. `spot: stream kline: parameter interval: "7m" is not a valid Interval (allowed: ...)`
	}
	<-ctx.Done()
}
