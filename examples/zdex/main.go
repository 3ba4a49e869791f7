// Command zdex prints the ticker and order book of one ZDEX perpetual and the
// typed events of the authenticated account channel, then how many frames
// the runtime dropped because nobody had subscribed to them.
//
// Like every example it runs until interrupted (Ctrl-C or SIGTERM), or for
// the duration -for gives (e.g. -for 5s).
//
//	go run ./examples/zdex                        # against the embedded ZDEX simulator
//	ZDEX_TOKEN=... go run ./examples/zdex -live   # the real venue, wss://api.zdex.world/ws
//
// Against the simulator (sim/zdexsim) the account channel uses a random
// token made for the run, and the server also pushes the order book, trades,
// ticker and klines of every symbol to every connection, as the venue's
// sibling platform does: the runtime drops those frames and counts them
// (Conn.Stats). With -live or -endpoint the token comes from -token or the
// ZDEX_TOKEN environment variable and is never printed; without one the
// example skips the account channel.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"

	"github.com/marketwire/marketwire/examples/internal/connect"
	"github.com/marketwire/marketwire/generated/zdex"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/wire"
)

func main() {
	symbol := flag.String("symbol", "BTCUSDT", "perpetual symbol")
	connect.Main("zdex", func(ctx context.Context, c *runtime.Conn) error {
		if _, err := zdex.SubscribeTicker(ctx, c, zdex.TickerParams{Symbol: *symbol}, func(t *zdex.TickerEvent) {
			fmt.Printf("ticker   %s last %s (%s%%) high %s low %s volume %s\n", t.Symbol, t.LastPrice, t.PriceChangePercent, t.HighPrice, t.LowPrice, t.Volume)
		}); err != nil {
			return err
		}
		if _, err := zdex.SubscribeOrderBook(ctx, c, zdex.OrderBookParams{Symbol: *symbol}, func(b *zdex.OrderBookEvent) {
			if len(b.Bids) > 0 && len(b.Asks) > 0 {
				fmt.Printf("book     %s bid %s x %s | ask %s x %s (update %d)\n", *symbol, b.Bids[0].Price, b.Bids[0].Quantity, b.Asks[0].Price, b.Asks[0].Quantity, b.LastUpdateID)
			}
		}); err != nil {
			return err
		}
		_, err := zdex.SubscribeAccount(ctx, c, zdex.AccountParams{}, printAccount)
		switch {
		case errors.Is(err, runtime.ErrAuthRequired):
			log.Print("no token (-token or ZDEX_TOKEN): skipping the account channel")
		case err != nil:
			return err
		}
		<-ctx.Done()
		st := c.Stats()
		fmt.Printf("%d frames read; %d unsolicited frames dropped; %d malformed\n", st.Frames, st.Unsolicited, st.Malformed)
		return nil
	})
}

// printAccount prints one event of the account channel.
func printAccount(p zdex.Payload) {
	switch ev := p.(type) {
	case *zdex.AccountStateEvent:
		line := fmt.Sprintf("account  state: %d open orders", len(ev.OpenOrders))
		for _, b := range ev.Balances {
			line += fmt.Sprintf("; %s wallet %s available %s", b.Asset, b.WalletBalance, b.AvailableBalance)
		}
		for _, pos := range ev.Positions {
			line += fmt.Sprintf("; %s %s @ %s (%dx)", pos.Symbol, pos.Quantity, pos.AverageEntryPrice, pos.Leverage)
		}
		fmt.Println(line)
	case *zdex.OrderNewEvent:
		fmt.Printf("order    new %d %s %s\n", ev.Order.OrderID, ev.Order.Symbol, ev.Order.Status)
	case *zdex.OrderCanceledEvent:
		fmt.Printf("order    canceled %d %s %s\n", ev.Order.OrderID, ev.Order.Symbol, ev.Order.Status)
	case *zdex.OrderUpdateEvent:
		fmt.Printf("order    %s %s %s -> %s\n", ev.OrderID, ev.Symbol, ev.OldStatus, ev.NewStatus)
	case *zdex.PositionUpdateEvent:
		if ev.Closed != nil && *ev.Closed {
			fmt.Printf("position %s %s closed\n", ev.PositionID, ev.Symbol)
		} else if ev.MarkPrice != nil && ev.UnrealizedPnl != nil {
			fmt.Printf("position %s %s %s, mark %s, unrealized %s\n", ev.PositionID, ev.Symbol, ev.Quantity, ev.MarkPrice, ev.UnrealizedPnl)
		} else {
			fmt.Printf("position %s %s %s\n", ev.PositionID, ev.Symbol, ev.Quantity)
		}
	case *zdex.BalanceUpdateEvent:
		fmt.Printf("balance  %s %s free %s locked %s total %s\n", ev.WalletType, ev.Asset, ev.Free, ev.Locked, ev.Total)
	case *zdex.FuturesAccountUpdateEvent:
		fmt.Printf("futures  equity %s available %s margin ratio %s (after %s)\n", ev.AccountEquity, ev.AvailableBalance, ev.MarginRatio, ev.Symbol)
	case *wire.UnknownEvent:
		var raw bytes.Buffer
		_ = json.Compact(&raw, []byte(ev.Raw))
		fmt.Printf("account  event %q, not in the schema: %s\n", ev.Kind, raw.Bytes())
	default:
		fmt.Printf("account  %T\n", p)
	}
}
