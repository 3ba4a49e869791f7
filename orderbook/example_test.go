package orderbook_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/orderbook"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/simtest"
)

// Keep the book of BTCUSDT in sync against the embedded simulator, which
// serves the REST snapshot too, and read its top of book once Synced.
func Example() {
	s, err := simtest.New(&spot.Market)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()

	g := orderbook.NewGroup() // marks the books of a lost socket unverified
	c, err := s.Conn(ctx, runtime.OnEvent(g.Observe))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	b, err := g.Open(ctx, c, &spot.OrderBook, "BTCUSDT", orderbook.WithREST(s.RESTURL()), orderbook.WithLimit(100))
	if err != nil {
		log.Fatal(err)
	}
	defer g.Close()

	for b.State() != orderbook.Synced {
		time.Sleep(10 * time.Millisecond)
	}
	var top orderbook.Snapshot
	if err := b.Top(5, &top); err != nil {
		log.Fatal(err) // ErrNotSynced if a resync started meanwhile
	}
	fmt.Println(len(top.Bids), "bids,", len(top.Asks), "asks")
	fmt.Println("crossed:", top.Bids[0].Price.Cmp(top.Asks[0].Price) >= 0)
	// Output:
	// 5 bids, 5 asks
	// crossed: false
}
