package zdexsim

import (
	"errors"
	"time"

	"github.com/marketwire/marketwire/generated/zdex"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/wire"
)

// DefaultBookLevels is the price levels per side of each symbol's
// order-book model: twice the 50 the orderbook channel sends, so that its
// messages are the top of a deeper book.
const DefaultBookLevels = 100

// WithBookLevels sets the price levels per side of each symbol's
// order-book model behind the orderbook channel (default
// DefaultBookLevels); with fewer than the channel's 50, its messages hold
// them all.
func WithBookLevels(n int) Option {
	return func(s *Server) { s.bookLevels = n }
}

// depthBooks serves the orderbook channel of the default source from one
// order-book model (sim.Book) per symbol: each message is the model's top
// levels whole, as many per side as the channel sends, under the model's
// update id as lastUpdateId. The stream names and the depth are the
// schema's (zdex.ParseStream, zdex.OrderBook.Snapshots).
type depthBooks struct {
	sim.Books
}

var errNotBook = errors.New("zdexsim: not an orderbook stream")

// Open returns the feed of an orderbook stream, or fails for any other
// stream so that the next source is tried.
func (d *depthBooks) Open(stream string) (sim.Feed, error) {
	p, err := zdex.ParseStream(stream)
	if err != nil {
		return nil, err
	}
	ob, ok := p.(zdex.OrderBookParams)
	if !ok || len(zdex.OrderBook.Snapshots) == 0 {
		return nil, errNotBook
	}
	sn := zdex.OrderBook.Snapshots[0]
	n := sn.Levels[len(sn.Levels)-1]
	if st, err := sn.Stream(ob.Symbol, n); err != nil || st.Name != stream {
		return nil, errNotBook
	}
	b := d.Book(ob.Symbol, true)
	return sim.FeedFunc(func(now time.Time) []byte {
		st := b.Top(now, n)
		ev := zdex.OrderBookEvent{LastUpdateID: st.UpdateID, Bids: priceLevels(st, true), Asks: priceLevels(st, false)}
		return ev.AppendJSON(nil)
	}), nil
}

// priceLevels returns one side of st as the payload's levels, best first.
func priceLevels(st sim.BookState, bid bool) []zdex.PriceLevel {
	return sim.SideLevels(st, bid, func(price, qty string) zdex.PriceLevel {
		return zdex.PriceLevel{Price: wire.MustDecimal(price), Quantity: wire.MustDecimal(qty)}
	})
}

// BookState returns the order book behind symbol's orderbook channel as of
// update id id (the lastUpdateId of a message), prices in ticks of 0.01
// and quantities in lots of 0.001; ok is false with WithSource, before the
// symbol's first orderbook subscription, or for an id the model does not
// remember (sim.Book.StateAt).
func (s *Server) BookState(symbol string, id int64) (st sim.BookState, ok bool) {
	if s.books == nil {
		return sim.BookState{}, false
	}
	return s.books.StateAt(symbol, id)
}
