package synth

import (
	"errors"
	"fmt"

	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/sim"
)

// Server returns a simulator for the named market that accepts exactly the
// market's stream names, puts each on its route, and serves every stream of
// the schema: an order-book model per symbol (sim.Book) for trades, book
// ticker, depth and klines on spot, USDⓈ-M and COIN-M, and moving examples
// (Source) for everything else, all following one price per symbol. opts
// are applied after these defaults. It is NewServer with Config{Seed: seed}.
func Server(market string, seed uint64, opts ...sim.Option) (*sim.Server, error) {
	return NewServer(market, Config{Seed: seed}, opts...)
}

// NewServer is Server with a Config.
func NewServer(market string, cfg Config, opts ...sim.Option) (*sim.Server, error) {
	w, sources, err := newSources(market, cfg)
	if err != nil {
		return nil, err
	}
	m := w.m
	all := []sim.Option{
		sim.WithValid(func(stream string) bool {
			_, err := m.ParseStream(stream)
			return err == nil
		}),
		sim.WithRoute(func(stream string) string {
			if p, err := m.ParseStream(stream); err == nil {
				return p.Route()
			}
			return ""
		}),
		sim.WithSource(sources),
	}
	if m.OrderBook != nil && m.OrderBook.Path != "" && w.depth != nil {
		all = append(all, sim.WithDepthSnapshots(m.OrderBook, w.depth.book))
	}
	return sim.New(m.Info, append(all, opts...)...), nil
}

// newSources returns the sources of a server: the order-book model, where
// the market has one, then the moving examples, on one world.
func newSources(market string, cfg Config) (*world, sim.Sources, error) {
	m, ok := markets.All[market]
	if !ok {
		return nil, nil, fmt.Errorf("synth: unknown market %q", market)
	}
	w := newWorld(market, m, cfg)
	var sources sim.Sources
	switch {
	case m.Info.Venue == "binance" && market != "options":
		w.books = &bookModel{futures: market != "spot", pair: market == "coinm", seed: cfg.Seed, unpaced: cfg.Unpaced, m: map[string]*sim.Book{}}
		w.depth = w.books
		sources = append(sources, w.books)
	case m.OrderBook != nil && m.OrderBook.Path != "":
		// Options: the order-book model serves the depth streams and the
		// snapshot; the other streams keep their moving examples. (A
		// market whose OrderBook has snapshot streams only, with no REST
		// snapshot, keeps its moving examples.)
		w.depth = &bookModel{futures: true, depth: true, seed: cfg.Seed, unpaced: cfg.Unpaced, m: map[string]*sim.Book{}}
		sources = append(sources, w.depth)
	}
	return w, append(sources, w.source()), nil
}

var errNotBook = errors.New("synth: not a stream of the order-book model")
