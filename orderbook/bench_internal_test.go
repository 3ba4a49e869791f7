package orderbook

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"github.com/marketwire/marketwire/wire"
)

// The benchmarks run the book's own path for a decoded diff event (read
// the levels, check the sequence, apply under the lock, check crossing) on
// a book of 5,000 levels per side, next to the cheapest consumer of the
// same event (parsing its decimals only) and to a map-based book, the
// usual alternative, in the same run.

const benchLevels = 5000

func price(ticks int64) wire.Decimal { return wire.MustDecimal(Fixed{ticks, 2}.String()) }

// benchBook returns a Synced book with benchLevels levels per side around
// 1000.00 (bids up to 999.99, asks from 1000.01) at update id 1.
func benchBook(tb testing.TB) *Book {
	b, _ := testBook(tb, FirstNext)
	b.o.onEvent = nil
	var bids, asks [][2]wire.Decimal
	for i := int64(0); i < benchLevels; i++ {
		q := wire.MustDecimal(strconv.FormatInt(1000+i, 10) + ".125")
		bids = append(bids, [2]wire.Decimal{price(99999 - i), q})
		asks = append(asks, [2]wire.Decimal{price(100001 + i), q})
	}
	b.handle(&testEvent{U: 1, u: 1})
	if !b.install(snap(0, bids, asks)) || b.State() != Synced {
		tb.Fatal("bench book not synced")
	}
	return b
}

// benchEvents returns n events of 20 bids and 20 asks each: near the top
// (the 20 best prices of each side), or anywhere in the book (deep); about
// a quarter of the levels are removed, the rest set (re-inserting those an
// earlier event removed).
func benchEvents(n int, deep bool) []*testEvent {
	rng := rand.New(rand.NewPCG(1, 2))
	evs := make([]*testEvent, n)
	for k := range evs {
		e := &testEvent{}
		for i := int64(0); i < 20; i++ {
			off := i
			if deep {
				off = rng.Int64N(benchLevels)
			}
			q := wire.MustDecimal(strconv.FormatInt(int64(k)+i+1, 10) + ".5")
			if (int(i)+k)%4 == 0 {
				q = wire.MustDecimal("0")
			}
			e.bids = append(e.bids, [2]wire.Decimal{price(99999 - off), q})
			e.asks = append(e.asks, [2]wire.Decimal{price(100001 + off), q})
		}
		evs[k] = e
	}
	return evs
}

func BenchmarkApply20x20(b *testing.B) {
	for _, c := range []struct {
		name string
		deep bool
	}{{"top", false}, {"deep", true}} {
		b.Run("book/"+c.name, func(b *testing.B) {
			book := benchBook(b)
			evs := benchEvents(64, c.deep)
			id := int64(1)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e := evs[i%len(evs)]
				id++
				e.U, e.u = id, id
				book.handle(e)
			}
			b.StopTimer()
			if st := book.Stats(); st.Applied != uint64(b.N) || book.State() != Synced {
				b.Fatalf("applied %d of %d events, state %v", st.Applied, b.N, book.State())
			}
		})
		b.Run("map/"+c.name, func(b *testing.B) {
			m := newMapBook()
			evs := benchEvents(64, c.deep)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m.apply(evs[i%len(evs)])
			}
		})
	}
	b.Run("parse-only", func(b *testing.B) {
		evs := benchEvents(64, false)
		var sink int64
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			e := evs[i%len(evs)]
			for _, l := range e.bids {
				p, _ := ParseFixed(l[0].String())
				q, _ := ParseFixed(l[1].String())
				sink += p.Int + q.Int
			}
			for _, l := range e.asks {
				p, _ := ParseFixed(l[0].String())
				q, _ := ParseFixed(l[1].String())
				sink += p.Int + q.Int
			}
		}
		if sink == 0 {
			b.Fatal("nothing parsed")
		}
	})
}

func BenchmarkTop20(b *testing.B) {
	b.Run("book", func(b *testing.B) {
		book := benchBook(b)
		var s Snapshot
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := book.Top(20, &s); err != nil || len(s.Bids) != 20 {
				b.Fatal(err)
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		m := newMapBook()
		for i := int64(0); i < benchLevels; i++ {
			m.bids[99999-i], m.asks[100001+i] = 1, 1
		}
		var keys []int64
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			keys = m.top(keys[:0])
			if len(keys) != 40 {
				b.Fatal(len(keys))
			}
		}
	})
}

// BenchmarkMemory reports the heap one book of 5,000 levels per side takes.
func BenchmarkMemory(b *testing.B) {
	const n = 20
	books := make([]*Book, 0, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		books = append(books, benchBook(b))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/book")
	for range b.N {
	}
	runtime.KeepAlive(books)
}

// mapBook is the baseline: a map of price to quantity per side, sorted on
// each read.
type mapBook struct{ bids, asks map[int64]int64 }

func newMapBook() *mapBook { return &mapBook{map[int64]int64{}, map[int64]int64{}} }

func (m *mapBook) apply(e *testEvent) {
	for _, side := range []struct {
		lv [][2]wire.Decimal
		m  map[int64]int64
	}{{e.bids, m.bids}, {e.asks, m.asks}} {
		for _, l := range side.lv {
			p, _ := ParseFixed(l[0].String())
			q, _ := ParseFixed(l[1].String())
			pi, _ := p.at(2)
			qi, _ := q.at(3)
			if qi == 0 {
				delete(side.m, pi)
			} else {
				side.m[pi] = qi
			}
		}
	}
}

func (m *mapBook) top(dst []int64) []int64 {
	for _, side := range []map[int64]int64{m.bids, m.asks} {
		keys := make([]int64, 0, len(side))
		for k := range side {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if len(side) > 0 && side[keys[0]] != 0 && &side == &m.bids {
			slices.Reverse(keys)
		}
		dst = append(dst, keys[:20]...)
	}
	return dst
}

// BenchmarkSide40 sets 40 pre-parsed levels (20 per side, as one 20+20
// diff) on a side of 5,000 levels: the blocked side the book uses, one
// flat sorted slice, and a map.
func BenchmarkSide40(b *testing.B) {
	for _, deep := range []bool{false, true} {
		where := "top"
		if deep {
			where = "deep"
		}
		ops := make([]level, 0, 64*40)
		for _, e := range benchEvents(64, deep) {
			for _, l := range append(e.bids, e.asks...) {
				p, _ := ParseFixed(l[0].String())
				q, _ := ParseFixed(l[1].String())
				pk, _ := p.at(2)
				qk, _ := q.at(1)
				if pk > 100000 {
					pk = 200000 - pk // asks mirrored onto the bid side
				}
				ops = append(ops, level{pk, qk})
			}
		}
		b.Run("blocked/"+where, func(b *testing.B) {
			var s side
			for i := int64(0); i < benchLevels; i++ {
				s.set(99999-i, 1)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, o := range ops[(i%64)*40 : (i%64+1)*40] {
					s.set(o.key, o.qty)
				}
			}
		})
		b.Run("flat/"+where, func(b *testing.B) {
			var s flatSide
			for i := int64(0); i < benchLevels; i++ {
				s.set(99999-i, 1)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, o := range ops[(i%64)*40 : (i%64+1)*40] {
					s.set(o.key, o.qty)
				}
			}
		})
		b.Run("map/"+where, func(b *testing.B) {
			m := map[int64]int64{}
			for i := int64(0); i < benchLevels; i++ {
				m[99999-i] = 1
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, o := range ops[(i%64)*40 : (i%64+1)*40] {
					if o.qty == 0 {
						delete(m, o.key)
					} else {
						m[o.key] = o.qty
					}
				}
			}
		})
	}
}
