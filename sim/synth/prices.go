package synth

import (
	"hash/fnv"
	"log"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/marketwire/marketwire/generated"
	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/sim"
)

// Config configures a source (NewSource) or a server (NewServer).
type Config struct {
	// Seed seeds every random choice; equal seeds give equal streams for
	// equal tick times. Starting prices do not depend on it (sim.StartMid).
	Seed uint64
	// Logf receives the source's notices: once per stream whose values are
	// synthesized from the schema's types because the stream has no
	// examples, and every stream it cannot serve. nil means log.Printf.
	Logf func(format string, args ...any)
	// Unpaced makes the order-book model's streams publish at every tick
	// instead of their exchange update speed (NewServer only; see
	// sim.BookConfig.Unpaced).
	Unpaced bool

	// fixtures returns a stream kind's examples (default
	// generated.Fixtures); tests replace it to serve streams without any.
	fixtures func(market, kind string) []generated.Fixture
}

// world is the state that every stream of one source shares: one price
// model per symbol (the symbol's sim.Book on markets with an order-book
// model, else a random walk) and the notices already logged.
type world struct {
	name  string
	m     markets.Market
	cfg   Config
	books *bookModel // nil: the market has no order-book model
	// depth is the order-book model that serves only the depth streams
	// (and the REST snapshot) of a market whose other streams follow a
	// price walk (options); books where the model serves every stream.
	depth *bookModel

	mu     sync.Mutex
	walks  map[string]*priceWalk // upper-case symbol -> its price walk
	logged map[string]bool
}

func newWorld(name string, m markets.Market, cfg Config) *world {
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	if cfg.fixtures == nil {
		cfg.fixtures = generated.Fixtures
	}
	return &world{name: name, m: m, cfg: cfg, walks: map[string]*priceWalk{}, logged: map[string]bool{}}
}

// logOnce logs a notice the first time key is seen.
func (w *world) logOnce(key, format string, args ...any) {
	w.mu.Lock()
	seen := w.logged[key]
	w.logged[key] = true
	w.mu.Unlock()
	if !seen {
		w.cfg.Logf(format, args...)
	}
}

// mid returns the mid price of sym at time now: its book's mid where the
// market has an order-book model, else its walk's.
func (w *world) mid(sym string, now time.Time) float64 {
	if w.books != nil {
		return float64(w.books.book(sym).Mid(now)) / 100
	}
	key := strings.ToUpper(sym)
	w.mu.Lock()
	defer w.mu.Unlock()
	wk, ok := w.walks[key]
	if !ok {
		start := float64(sim.StartMid(key)) / 100
		wk = &priceWalk{start: start, mid: start, rng: rand.New(rand.NewPCG(w.cfg.Seed, symbolSeed(key)))}
		w.walks[key] = wk
	}
	return wk.at(now)
}

// symbolSeed is a seed of its own for each symbol.
func symbolSeed(sym string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(sym)))
	return h.Sum64()
}

// priceWalk is a price that moves by up to ±0.05 % per step, pulled gently back
// towards where it started, and steps once per distinct time.
type priceWalk struct {
	start, mid float64
	last       time.Time
	rng        *rand.Rand
}

func (wk *priceWalk) at(now time.Time) float64 {
	if now.After(wk.last) {
		wk.last = now
		wk.mid *= 1 + (wk.rng.Float64()-0.5)*0.001
		wk.mid += (wk.start - wk.mid) * 0.002
		wk.mid = math.Max(wk.mid, wk.start/100)
	}
	return wk.mid
}

// bookModel makes one sim.Book per symbol, on first use.
type bookModel struct {
	futures bool
	pair    bool
	depth   bool // depth streams only
	seed    uint64
	unpaced bool
	mu      sync.Mutex
	m       map[string]*sim.Book // lower-case symbol -> book
}

func (b *bookModel) book(sym string) *sim.Book {
	sym = strings.ToLower(sym)
	b.mu.Lock()
	defer b.mu.Unlock()
	book, ok := b.m[sym]
	if !ok {
		book = sim.NewBook(sim.BookConfig{Symbol: sym, Futures: b.futures, Pair: b.pair,
			Seed: b.seed ^ symbolSeed(sym), Unpaced: b.unpaced})
		b.m[sym] = book
	}
	return book
}

// Open opens stream on its symbol's book, or fails for streams a book does
// not serve, so that the next source is tried.
func (b *bookModel) Open(stream string) (sim.Feed, error) {
	sym, _, ok := strings.Cut(stream, "@")
	if !ok || sym == "" || strings.HasPrefix(sym, "!") || sym != strings.ToLower(sym) {
		return nil, errNotBook
	}
	if b.depth && !strings.Contains(stream, "@depth") {
		return nil, errNotBook
	}
	return b.book(sym).Open(stream)
}
