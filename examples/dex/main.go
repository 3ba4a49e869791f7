// Command dex follows one symbol and one address on the Binance DEX (Binance
// Chain): the symbol's trades and order book, the chain's block height, and
// the address's balances and orders, all on one connection that speaks the
// DEX's own protocol (topics instead of stream names, subscribe messages
// that get no reply, keepAlive).
//
// Like every example it runs until interrupted (Ctrl-C or SIGTERM), or for
// the duration -for gives (e.g. -for 5s).
//
//	go run ./examples/dex                                    # against the embedded DEX simulator
//	go run ./examples/dex -symbol 100K-9BC_BNB -address tbnb1...
//	go run ./examples/dex -live                              # the old endpoint: fails, see below
//
// The DEX was shut down in December 2024. The simulator (sim/dexsim) serves
// moving copies of recorded frames for any symbol and address; -live only
// tries the old endpoint, wss://dex.binance.org/api/, and is expected to
// fail.
package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/marketwire/marketwire/examples/internal/connect"
	"github.com/marketwire/marketwire/generated/dex"
	"github.com/marketwire/marketwire/runtime"
)

func main() {
	symbol := flag.String("symbol", "BNB_BTCB-1DE", "trading pair, case-sensitive")
	address := flag.String("address", "tbnb1r4gc5ftrkr9ez2khph4h5xxd0mf0hd75jf06gw", "address whose balances and orders to print")
	connect.Main("dex", func(ctx context.Context, c *runtime.Conn) error {
		if _, err := dex.SubscribeTrades(ctx, c, dex.TradesParams{Symbol: *symbol}, func(ts *dex.TradeEvents) {
			for _, t := range *ts {
				fmt.Printf("trade   %s %s %s x %s (block %d)\n", t.TradeTime.Time().Format("15:04:05.000"), t.Symbol, t.Price, t.Quantity, t.EventHeight)
			}
		}); err != nil {
			return err
		}
		if _, err := dex.SubscribeMarketDepth(ctx, c, dex.MarketDepthParams{Symbol: *symbol}, func(d *dex.DepthSnapshotEvent) {
			if len(d.Bids) > 0 && len(d.Asks) > 0 {
				fmt.Printf("depth   %s bid %s x %s | ask %s x %s (%d/%d levels)\n", d.Symbol, d.Bids[0].Price, d.Bids[0].Quantity, d.Asks[0].Price, d.Asks[0].Quantity, len(d.Bids), len(d.Asks))
			}
		}); err != nil {
			return err
		}
		if _, err := dex.SubscribeBlockHeight(ctx, c, dex.BlockHeightParams{}, func(b *dex.BlockHeightEvent) {
			fmt.Printf("block   %d\n", b.Height)
		}); err != nil {
			return err
		}
		if _, err := dex.SubscribeAccounts(ctx, c, dex.AccountsParams{Address: *address}, func(as *dex.AccountEvents) {
			for _, a := range *as {
				line := fmt.Sprintf("account block %d:", a.EventHeight)
				for _, b := range a.Balances {
					line += fmt.Sprintf(" %s free=%s locked=%s", b.Asset, b.Free, b.Locked)
				}
				fmt.Println(line)
			}
		}); err != nil {
			return err
		}
		_, err := dex.SubscribeOrders(ctx, c, dex.OrdersParams{Address: *address}, func(rs *dex.ExecutionReportEvents) {
			for _, o := range *rs {
				side := "buy" // Side is 1 (buy) or 2 (sell)
				if o.Side == 2 {
					side = "sell"
				}
				fmt.Printf("order   %s %s %s @ %s %s/%s filled %s\n", o.Symbol, side, o.Quantity, o.Price, o.ExecutionType, o.OrderStatus, o.CumulativeFilledQuantity)
			}
		})
		return err
	})
}
