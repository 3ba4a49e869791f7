package sim

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// Books holds one order-book model per symbol, each made on first use with
// a seed derived from Seed and the symbol, and Levels levels per side.
// Simulators of snapshot streams keep their books in one.
type Books struct {
	Seed   uint64
	Levels int

	mu sync.Mutex
	m  map[string]*Book // symbol as subscribed (case-sensitive) -> model
}

// Book returns the model of symbol, made on first use; nil with create
// false when there is none.
func (bs *Books) Book(symbol string, create bool) *Book {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.m[symbol]
	if b == nil && create {
		seed := bs.Seed
		for _, c := range []byte(symbol) {
			seed = seed*131 + uint64(c)
		}
		b = NewBook(BookConfig{Symbol: strings.ToLower(symbol), Seed: seed, Levels: bs.Levels})
		if bs.m == nil {
			bs.m = map[string]*Book{}
		}
		bs.m[symbol] = b
	}
	return b
}

// StateAt returns the book of symbol as of update id id (Book.StateAt); ok
// is false when symbol has no book yet or the id is not remembered.
func (bs *Books) StateAt(symbol string, id int64) (st BookState, ok bool) {
	b := bs.Book(symbol, false)
	if b == nil {
		return BookState{}, false
	}
	return b.StateAt(id)
}

// SideLevels returns one side of st best first, each level built by level
// from its price and quantity text (Price, Qty): the levels of a snapshot
// payload.
func SideLevels[T any](st BookState, bid bool, level func(price, qty string) T) []T {
	side := st.Asks
	if bid {
		side = st.Bids
	}
	prices := st.Levels(bid, 0)
	out := make([]T, len(prices))
	for i, p := range prices {
		out[i] = level(Price(p), Qty(side[p]))
	}
	return out
}

// Top steps the model to now, as a stream's Next would, and returns the
// best n levels per side (every level when n <= 0) as of the book's
// current update id. Simulators of venues whose depth streams send the top
// of the book whole (snapshot streams) build their payloads from it; the
// book as of that id stays available from StateAt while it is recent.
func (b *Book) Top(now time.Time, n int) BookState {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance(now)
	return BookState{UpdateID: b.updateID, Bids: topLevels(b.bids, true, n), Asks: topLevels(b.asks, false, n)}
}

// Levels returns the prices of one side of st best first (bids
// descending, asks ascending), at most n of them (all when n <= 0).
func (st BookState) Levels(bid bool, n int) []int64 {
	if bid {
		return bestFirst(st.Bids, true, n)
	}
	return bestFirst(st.Asks, false, n)
}

// bestFirst returns the prices of a side best first (bids descending, asks
// ascending), at most n of them (all when n <= 0).
func bestFirst(side map[int64]int64, bid bool, n int) []int64 {
	prices := make([]int64, 0, len(side))
	for p := range side {
		prices = append(prices, p)
	}
	slices.Sort(prices)
	if bid {
		slices.Reverse(prices)
	}
	if n > 0 && len(prices) > n {
		prices = prices[:n]
	}
	return prices
}

// topLevels copies the best n levels of one side (all when n <= 0).
func topLevels(side map[int64]int64, bid bool, n int) map[int64]int64 {
	st := BookState{Bids: side, Asks: side}
	prices := st.Levels(bid, n)
	out := make(map[int64]int64, len(prices))
	for _, p := range prices {
		out[p] = side[p]
	}
	return out
}

// Price formats a price in ticks of 0.01 as the book's payloads do
// ("38080.48").
func Price(ticks int64) string { return price(ticks) }

// Qty formats a quantity in lots of 0.001 as the book's payloads do
// ("12.345").
func Qty(lots int64) string { return qty(lots) }
