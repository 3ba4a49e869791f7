// Package sim is marketwire's in-process exchange simulator of Binance's
// stream protocol, for tests, examples and offline programs.
//
// A Server speaks the protocol as the exchange does: raw (/ws/<stream>) and
// combined (/stream?streams=) connections under the market's routes, live
// SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS and the property requests with
// the exchange's replies and error texts, its message, stream and
// connection limits, and server pings. Faults are triggered on demand:
// DropConnections, Silence, NoPong, SendServerShutdown, RejectStream,
// RejectNextSubscribe, ClosePolicyAfterSubscribe, SendMalformed, ...
//
// Payloads come from a Source: a Book (an order-book model of one symbol:
// trades, book ticker, depth and klines that agree with each other),
// Numbered (numbered events, for counting losses), Replay (fixed payloads),
// or sim/synth, which serves every stream of the schema. To test a program
// of your own, simtest starts synth's Server and dials it in one call;
// sim/dexsim, sim/zdexsim and sim/userapi simulate the other venues and
// the account side.
package sim

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// BookConfig configures a Book.
type BookConfig struct {
	Symbol  string // stream symbol, lowercase, e.g. "btcusdt"
	Futures bool   // USDⓈ-M/COIN-M payload layout; false is spot
	// Pair makes the futures layout COIN-M's: its pair (ps, the symbol
	// before its "_", e.g. BTCUSD) in depth and book-ticker payloads, and
	// no nq in aggTrade.
	Pair   bool
	Seed   uint64 // random seed; equal seeds give equal books
	Mid    int64  // starting mid price in ticks of 0.01 (default StartMid(Symbol))
	Levels int    // price levels per side (default 20)
	// Unpaced publishes every stream at every tick. By default each stream
	// keeps its exchange update speed (e.g. @depth every 1000 ms on spot,
	// 250 ms on futures; @100ms every 100 ms); real-time streams publish at
	// every tick.
	Unpaced bool
}

// Book is a market model for one symbol: a mid price that walks, a real
// order book around it with Levels price levels per side, and one trade per
// step at the best bid or ask. Its streams are self-consistent: trade ids
// increase by one, diff-depth events chain (U = previous u + 1, pu =
// previous u) and replay onto the partial-depth snapshots, the book ticker
// is the top of the same book, and klines aggregate the same trades.
//
// Prices have 2 decimals and quantities 3. The model steps once per
// distinct tick time, however many streams read it.
type Book struct {
	cfg BookConfig
	sym string // upper-case payload symbol

	mu       sync.Mutex
	rng      *rand.Rand
	last     time.Time // time of the last step
	mid      int64
	bids     map[int64]int64 // price ticks -> quantity lots
	asks     map[int64]int64
	updateID int64
	changes  []change // recent book changes, ascending id
	tradeID  int64
	trades   []trade // recent trades, ascending id
}

type change struct {
	id    int64
	bid   bool
	price int64
	qty   int64
	old   int64     // the quantity before, 0 for a new level (to undo it)
	at    time.Time // the step's time
}

type trade struct {
	id, agg      int64
	price, qty   int64
	buyerIsMaker bool
	time         time.Time
}

const historyLimit = 1 << 14

// changeHistory bounds the book changes kept (for diff events, StateAt and
// lagging snapshots): at least the last 16,384.
const changeHistory = 1 << 15

// StartMid is the starting mid price of a symbol, in ticks of 0.01:
// between 1.00 and 60000.00, derived from the symbol alone (case does not
// matter), so that every simulator (in-process or mwsim, any seed) starts
// a symbol at the same price. BTCUSDT starts at 38080.48.
func StartMid(symbol string) int64 {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(symbol)))
	return 100 + int64(h.Sum32()%6_000_000)
}

// NewBook returns a book model for cfg.
func NewBook(cfg BookConfig) *Book {
	if cfg.Mid <= 0 {
		cfg.Mid = StartMid(cfg.Symbol)
	}
	if cfg.Levels <= 0 {
		cfg.Levels = 20
	}
	b := &Book{
		cfg:      cfg,
		sym:      strings.ToUpper(cfg.Symbol),
		rng:      rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		mid:      cfg.Mid,
		bids:     map[int64]int64{},
		asks:     map[int64]int64{},
		updateID: 1000,
		tradeID:  100,
	}
	b.step(time.Time{})
	return b
}

// advance steps the model once if now is later than the last step.
func (b *Book) advance(now time.Time) {
	if now.After(b.last) {
		b.step(now)
	}
}

func (b *Book) step(now time.Time) {
	b.last = now
	b.mid += b.rng.Int64N(5) - 2
	n := int64(b.cfg.Levels)
	b.mid = max(b.mid, n+1) // every level keeps a positive price
	b.side(true, b.mid-n, b.mid-1)
	b.side(false, b.mid+1, b.mid+n)
	if now.IsZero() {
		return
	}
	// One taker trade at the best level, which it depletes partly.
	maker := b.rng.IntN(2) == 0 // buyer is maker: a taker sold at the bid
	book, price := b.asks, b.mid+1
	if maker {
		book, price = b.bids, b.mid-1
	}
	qty := min(1+b.rng.Int64N(2000), book[price]-1)
	if qty > 0 {
		book[price] -= qty
		b.record(maker, price, book[price]+qty, book[price])
		b.tradeID++
		b.trades = append(b.trades, trade{id: b.tradeID, agg: b.tradeID + 5_000_000, price: price, qty: qty, buyerIsMaker: maker, time: now})
		if len(b.trades) > historyLimit {
			b.trades = slices.Clone(b.trades[len(b.trades)-historyLimit/2:])
		}
	}
}

// side moves one side of the book to the price range [lo, hi].
func (b *Book) side(bid bool, lo, hi int64) {
	book := b.asks
	if bid {
		book = b.bids
	}
	var gone []int64
	for p := range book {
		if p < lo || p > hi {
			gone = append(gone, p)
		}
	}
	slices.Sort(gone)
	for _, p := range gone {
		old := book[p]
		delete(book, p)
		b.record(bid, p, old, 0)
	}
	for p := lo; p <= hi; p++ {
		if old, ok := book[p]; !ok || b.rng.IntN(4) == 0 {
			q := 100 + b.rng.Int64N(50_000)
			book[p] = q
			b.record(bid, p, old, q)
		}
	}
}

func (b *Book) record(bid bool, price, old, qty int64) {
	b.updateID++
	b.changes = append(b.changes, change{id: b.updateID, bid: bid, price: price, qty: qty, old: old, at: b.last})
	if len(b.changes) > changeHistory {
		b.changes = slices.Clone(b.changes[len(b.changes)-changeHistory/2:])
	}
}

// Mid returns the mid price in ticks of 0.01 at time now, stepping the
// model to now as a stream's Next would: streams of other sources use it to
// follow the same price as the book's trades, depth and klines.
func (b *Book) Mid(now time.Time) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance(now)
	return b.mid
}

// Valid reports whether the book serves stream.
func (b *Book) Valid(stream string) bool {
	_, err := b.parse(stream)
	return err == nil
}

// Route returns the futures route of stream ("public" for book ticker and
// depth, "market" for the rest), or "" for a spot book.
func (b *Book) Route(stream string) string {
	if !b.cfg.Futures {
		return ""
	}
	if strings.Contains(stream, "@depth") || strings.HasSuffix(stream, "@bookTicker") {
		return "public"
	}
	return "market"
}

type bookStream struct {
	kind     string // aggTrade, trade, bookTicker, depth, partial, kline
	levels   int
	every    time.Duration
	interval string
}

func (b *Book) parse(stream string) (bookStream, error) {
	sym, rest, ok := strings.Cut(stream, "@")
	if !ok || sym != b.cfg.Symbol {
		return bookStream{}, fmt.Errorf("sim: book %s: stream %q is not for this symbol", b.cfg.Symbol, stream)
	}
	fut := b.cfg.Futures
	depthDefault := time.Second
	if fut {
		depthDefault = 250 * time.Millisecond
	}
	speed := func(s string) (time.Duration, bool) {
		switch s {
		case "":
			return depthDefault, true
		case "@100ms":
			return 100 * time.Millisecond, true
		case "@500ms":
			return 500 * time.Millisecond, fut
		}
		return 0, false
	}
	switch {
	case rest == "aggTrade":
		return bookStream{kind: "aggTrade"}, nil
	case rest == "trade" && !fut:
		return bookStream{kind: "trade"}, nil
	case rest == "bookTicker":
		return bookStream{kind: "bookTicker"}, nil
	case strings.HasPrefix(rest, "depth"):
		r := rest[len("depth"):]
		levels := 0
		for _, n := range []string{"5", "10", "20"} {
			if strings.HasPrefix(r, n) {
				levels, r = atoi(n), r[len(n):]
				break
			}
		}
		every, ok := speed(r)
		if !ok {
			break
		}
		if levels == 0 {
			return bookStream{kind: "depth", every: every}, nil
		}
		return bookStream{kind: "partial", levels: levels, every: every}, nil
	case strings.HasPrefix(rest, "kline_"):
		iv := rest[len("kline_"):]
		if _, ok := klineIntervals[iv]; !ok || iv == "1s" && fut {
			break
		}
		every := 2 * time.Second
		if iv == "1s" {
			every = time.Second
		}
		if fut {
			every = 250 * time.Millisecond
		}
		return bookStream{kind: "kline", interval: iv, every: every}, nil
	}
	return bookStream{}, fmt.Errorf("sim: book %s: unknown stream %q", b.cfg.Symbol, stream)
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// Open returns the feed of one of the book's streams.
func (b *Book) Open(stream string) (Feed, error) {
	st, err := b.parse(stream)
	if err != nil {
		return nil, err
	}
	if b.cfg.Unpaced {
		st.every = 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	f := &bookFeed{b: b, st: st, lastU: b.updateID, lastTrade: b.tradeID}
	return f, nil
}

type bookFeed struct {
	b         *Book
	st        bookStream
	lastSent  time.Time
	lastU     int64     // u of the previous depth event
	lastTrade int64     // id of the last trade seen
	candle    *candle   // kline: the open candle
	pending   []*candle // kline: closed candles not yet published, oldest first
}

func (f *bookFeed) Next(now time.Time) []byte {
	b := f.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance(now)
	paced := f.st.every > 0 && now.Sub(f.lastSent) < f.st.every
	if f.st.kind == "kline" {
		// A candle that closed is published at once, the open one at the
		// stream's update speed.
		p := f.kline(now, paced)
		if p != nil {
			f.lastSent = now
		}
		return p
	}
	if paced {
		return nil
	}
	var p []byte
	switch f.st.kind {
	case "aggTrade", "trade":
		p = f.trade(now)
	case "bookTicker":
		p = f.bookTicker(now)
	case "depth":
		p = f.diff(now)
	case "partial":
		p = f.partial(now)
	}
	if p != nil {
		f.lastSent = now
	}
	return p
}

func (f *bookFeed) trade(now time.Time) []byte {
	b := f.b
	if len(b.trades) == 0 || b.trades[len(b.trades)-1].id <= f.lastTrade {
		return nil
	}
	t := b.trades[len(b.trades)-1]
	f.lastTrade = t.id
	w := newJSON()
	w.str("e", f.st.kind).num("E", now.UnixMilli()).str("s", b.sym)
	if f.st.kind == "trade" {
		w.num("t", t.id).str("p", price(t.price)).str("q", qty(t.qty)).num("T", t.time.UnixMilli()).bool("m", t.buyerIsMaker).bool("M", true)
		return w.close()
	}
	w.num("a", t.agg).str("p", price(t.price)).str("q", qty(t.qty))
	if b.cfg.Futures && !b.cfg.Pair { // nq, the quantity without RPI orders, is USDⓈ-M's only (streams-usdm.md §1; COIN-M's §1 has none)
		w.str("nq", qty(t.qty))
	}
	w.num("f", t.id).num("l", t.id).num("T", t.time.UnixMilli()).bool("m", t.buyerIsMaker)
	if !b.cfg.Futures {
		w.bool("M", true)
	}
	return w.close()
}

func (f *bookFeed) bookTicker(now time.Time) []byte {
	b := f.b
	if b.updateID == f.lastU {
		return nil
	}
	f.lastU = b.updateID
	bid, ask := b.mid-1, b.mid+1
	w := newJSON()
	if b.cfg.Futures {
		w.str("e", "bookTicker").num("u", b.updateID).num("E", now.UnixMilli()).num("T", now.UnixMilli())
	} else {
		w.num("u", b.updateID)
	}
	w.str("s", b.sym).str("b", price(bid)).str("B", qty(b.bids[bid])).str("a", price(ask)).str("A", qty(b.asks[ask]))
	if b.cfg.Pair {
		w.str("ps", b.pair())
	}
	return w.close()
}

// diff is a diff-depth event: every level changed since the previous event,
// with its new absolute quantity (0 removes it).
func (f *bookFeed) diff(now time.Time) []byte {
	b := f.b
	if b.updateID == f.lastU {
		return nil
	}
	bids, asks := map[int64]int64{}, map[int64]int64{}
	i, _ := slices.BinarySearchFunc(b.changes, f.lastU+1, func(c change, id int64) int { return int(c.id - id) })
	for _, c := range b.changes[i:] {
		if c.bid {
			bids[c.price] = c.qty
		} else {
			asks[c.price] = c.qty
		}
	}
	w := f.depthHeader(now)
	w.levels("b", bids, true, 0).levels("a", asks, false, 0)
	return w.close()
}

func (f *bookFeed) depthHeader(now time.Time) *jsonWriter {
	b := f.b
	w := newJSON()
	w.str("e", "depthUpdate").num("E", now.UnixMilli())
	if b.cfg.Futures {
		w.num("T", now.UnixMilli())
	}
	w.str("s", b.sym)
	if b.cfg.Pair {
		w.str("ps", b.pair())
	}
	w.num("U", f.lastU+1).num("u", b.updateID)
	if b.cfg.Futures {
		w.num("pu", f.lastU)
	}
	f.lastU = b.updateID
	return w
}

// partial is a snapshot of the top levels.
func (f *bookFeed) partial(now time.Time) []byte {
	b := f.b
	n := f.st.levels
	if b.cfg.Futures {
		if b.updateID == f.lastU {
			return nil
		}
		w := f.depthHeader(now)
		w.levels("b", b.bids, true, n).levels("a", b.asks, false, n)
		return w.close()
	}
	w := newJSON()
	w.num("lastUpdateId", b.updateID).levels("bids", b.bids, true, n).levels("asks", b.asks, false, n)
	return w.close()
}

// pair is the COIN-M pair of the book's symbol: BTCUSD for BTCUSD_PERP.
func (b *Book) pair() string {
	p, _, _ := strings.Cut(b.sym, "_")
	return p
}

// Format helpers.

func price(ticks int64) string { return fixed(ticks, 2) }
func qty(lots int64) string    { return fixed(lots, 3) }

func fixed(v int64, dec int) string {
	s := strconv.FormatInt(v, 10)
	neg := v < 0
	if neg {
		s = s[1:]
	}
	for len(s) <= dec {
		s = "0" + s
	}
	s = s[:len(s)-dec] + "." + s[len(s)-dec:]
	if neg {
		s = "-" + s
	}
	return s
}

// jsonWriter writes one flat JSON object with members in call order.
type jsonWriter struct{ b []byte }

func newJSON() *jsonWriter { return &jsonWriter{b: append(make([]byte, 0, 256), '{')} }

func (w *jsonWriter) key(k string) {
	if len(w.b) > 1 {
		w.b = append(w.b, ',')
	}
	w.b = strconv.AppendQuote(w.b, k)
	w.b = append(w.b, ':')
}

func (w *jsonWriter) str(k, v string) *jsonWriter {
	w.key(k)
	w.b = strconv.AppendQuote(w.b, v)
	return w
}

func (w *jsonWriter) num(k string, v int64) *jsonWriter {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
	return w
}

func (w *jsonWriter) bool(k string, v bool) *jsonWriter {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
	return w
}

func (w *jsonWriter) raw(k string, v []byte) *jsonWriter {
	w.key(k)
	w.b = append(w.b, v...)
	return w
}

// levels writes [["price","qty"],...] best first; n > 0 keeps the top n.
func (w *jsonWriter) levels(k string, book map[int64]int64, bid bool, n int) *jsonWriter {
	prices := bestFirst(book, bid, n)
	w.key(k)
	w.b = append(w.b, '[')
	for i, p := range prices {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = append(w.b, '[')
		w.b = strconv.AppendQuote(w.b, price(p))
		w.b = append(w.b, ',')
		w.b = strconv.AppendQuote(w.b, qty(book[p]))
		w.b = append(w.b, ']')
	}
	w.b = append(w.b, ']')
	return w
}

func (w *jsonWriter) close() []byte { return append(w.b, '}') }
