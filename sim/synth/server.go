package synth

import (
	"fmt"
	"hash/fnv"
	"strings"
	"sync"

	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/sim"
)

// Server returns a simulator for the named market that accepts exactly the
// market's stream names, puts each on its route, and serves every stream of
// the schema: an order-book model per symbol (sim.Book) for trades, book
// ticker, depth and klines on spot, USDⓈ-M and COIN-M, and moving examples
// (Source) for everything else. opts are applied after these defaults.
func Server(market string, seed uint64, opts ...sim.Option) (*sim.Server, error) {
	m, ok := markets.All[market]
	if !ok {
		return nil, fmt.Errorf("synth: unknown market %q", market)
	}
	examples, err := Source(market, seed)
	if err != nil {
		return nil, err
	}
	sources := sim.Sources{examples}
	if m.Info.Venue == "binance" && market != "options" {
		sources = sim.Sources{&books{futures: market != "spot", pair: market == "coinm", seed: seed, m: map[string]*sim.Book{}}, examples}
	}
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
	return sim.New(m.Info, append(all, opts...)...), nil
}

// startMid gives each symbol its own starting price, between 1.00 and
// 60000.00, in the book's ticks of 0.01.
func startMid(sym string) int64 {
	h := fnv.New32a()
	h.Write([]byte(sym))
	return 100 + int64(h.Sum32()%6_000_000)
}

// books makes one sim.Book per symbol, on first use.
type books struct {
	futures bool
	pair    bool
	seed    uint64
	mu      sync.Mutex
	m       map[string]*sim.Book
}

// Open opens stream on its symbol's book, or fails for streams a book does
// not serve, so that the next source is tried.
func (b *books) Open(stream string) (sim.Feed, error) {
	sym, _, ok := strings.Cut(stream, "@")
	if !ok || strings.HasPrefix(sym, "!") {
		return nil, fmt.Errorf("synth: %q is not a symbol stream", stream)
	}
	b.mu.Lock()
	book, ok := b.m[sym]
	if !ok {
		book = sim.NewBook(sim.BookConfig{Symbol: sym, Futures: b.futures, Pair: b.pair, Seed: b.seed + uint64(len(b.m)), Mid: startMid(sym)})
		b.m[sym] = book
	}
	b.mu.Unlock()
	return book.Open(stream)
}
