package dexsim

import (
	"errors"
	"time"

	"github.com/marketwire/marketwire/generated/dex"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/wire"
)

// DefaultBookLevels is the price levels per side of each symbol's
// order-book model: the most a marketDepth stream (marketDepth1000) sends.
const DefaultBookLevels = 1000

// WithBookLevels sets the price levels per side of each symbol's
// order-book model behind the marketDepth streams (default
// DefaultBookLevels); a stream asking for more levels gets them all.
func WithBookLevels(n int) Option {
	return func(c *config) { c.bookLevels = n }
}

// depthBooks serves the marketDepth streams of the default source from one
// order-book model (sim.Book) per symbol: each message is the model's top
// levels whole, as many per side as the stream's name asks for, under the
// model's update id as lastUpdateId. The stream names and the levels they
// stand for are the schema's (dex.ParseStream, dex.OrderBook.Snapshots).
type depthBooks struct {
	sim.Books
}

var errNotDepth = errors.New("dexsim: not a marketDepth stream")

// Open returns the feed of a marketDepth stream, or fails for any other
// stream so that the next source is tried.
func (d *depthBooks) Open(stream string) (sim.Feed, error) {
	p, err := dex.ParseStream(stream)
	if err != nil {
		return nil, err
	}
	md, ok := p.(dex.MarketDepthParams)
	if !ok {
		return nil, errNotDepth
	}
	n := depthLevels(md.Symbol, stream)
	if n == 0 {
		return nil, errNotDepth
	}
	b := d.Book(md.Symbol, true)
	return sim.FeedFunc(func(now time.Time) []byte {
		st := b.Top(now, n)
		ev := dex.DepthSnapshotEvent{LastUpdateID: st.UpdateID, Symbol: md.Symbol,
			Bids: priceLevels(st, true), Asks: priceLevels(st, false)}
		return ev.AppendJSON(nil)
	}), nil
}

// depthLevels returns the levels per side that stream, a marketDepth
// stream of symbol, sends: the snapshot level whose stream it is; 0 when
// none is.
func depthLevels(symbol, stream string) int {
	for _, sn := range dex.OrderBook.Snapshots {
		for _, n := range sn.Levels {
			if st, err := sn.Stream(symbol, n); err == nil && st.Name == stream {
				return n
			}
		}
	}
	return 0
}

// priceLevels returns one side of st as the payload's levels, best first.
func priceLevels(st sim.BookState, bid bool) []dex.PriceLevel {
	return sim.SideLevels(st, bid, func(price, qty string) dex.PriceLevel {
		return dex.PriceLevel{Price: wire.MustDecimal(price), Quantity: wire.MustDecimal(qty)}
	})
}

// BookState returns the order book behind symbol's marketDepth streams as
// of update id id (the lastUpdateId of a message), prices in ticks of 0.01
// and quantities in lots of 0.001; ok is false with WithSource, before the
// symbol's first marketDepth subscription, or for an id the model does not
// remember (sim.Book.StateAt).
func (s *Server) BookState(symbol string, id int64) (st sim.BookState, ok bool) {
	if s.books == nil {
		return sim.BookState{}, false
	}
	return s.books.StateAt(symbol, id)
}
