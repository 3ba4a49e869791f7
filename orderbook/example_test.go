package orderbook_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
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

// Keep the top 10 levels of ETHUSDT from the USD-M partial-depth stream:
// no REST snapshot, each message replaces the book whole.
func ExampleOpenSnapshot() {
	s, err := simtest.New(&usdm.Market)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	c, err := s.Conn(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	b, err := orderbook.OpenSnapshot(ctx, c, &usdm.OrderBook, "ETHUSDT", orderbook.WithLevels(10))
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	for b.State() != orderbook.Synced {
		time.Sleep(10 * time.Millisecond)
	}
	var top orderbook.Snapshot
	if err := b.Top(0, &top); err != nil {
		log.Fatal(err) // ErrNotSynced if a crossed message arrived meanwhile
	}
	fmt.Println(len(top.Bids), "bids,", len(top.Asks), "asks")
	fmt.Println("crossed:", top.Bids[0].Price.Cmp(top.Asks[0].Price) >= 0)
	// Output:
	// 10 bids, 10 asks
	// crossed: false
}
