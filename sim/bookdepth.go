package sim

import (
	"slices"
	"time"
)

// BookState is the whole order book of a Book as of one update id: prices
// in ticks of 0.01 and quantities in lots of 0.001, by price.
type BookState struct {
	UpdateID   int64
	Bids, Asks map[int64]int64
}

// StateAt returns the book as of update id id, undoing the changes after
// it; ok is false when id is newer than the book or older than the
// changes it remembers (about the last 8,000).
func (b *Book) StateAt(id int64) (BookState, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stateAt(id)
}

func (b *Book) stateAt(id int64) (BookState, bool) {
	if id > b.updateID {
		return BookState{}, false
	}
	i, _ := slices.BinarySearchFunc(b.changes, id+1, func(c change, id int64) int { return int(c.id - id) })
	if i == 0 && len(b.changes) > 0 && b.changes[0].id > id+1 {
		return BookState{}, false
	}
	st := BookState{UpdateID: id, Bids: cloneLevels(b.bids), Asks: cloneLevels(b.asks)}
	for j := len(b.changes) - 1; j >= i; j-- {
		c := b.changes[j]
		side := st.Asks
		if c.bid {
			side = st.Bids
		}
		if c.old == 0 {
			delete(side, c.price)
		} else {
			side[c.price] = c.old
		}
	}
	return st, true
}

// idAt returns the update id of the book as of time t: the last change
// made at or before t (the oldest remembered when t is older).
func (b *Book) idAt(t time.Time) int64 {
	i, _ := slices.BinarySearchFunc(b.changes, t, func(c change, t time.Time) int {
		if c.at.After(t) {
			return 1
		}
		return -1
	})
	if i == 0 {
		if len(b.changes) == 0 {
			return b.updateID
		}
		return b.changes[0].id - 1
	}
	return b.changes[i-1].id
}

// depth is the REST depth snapshot of the book lagging by lag, with at most
// limit levels per side, as a JSON object with the update id under idKey.
func (b *Book) depth(limit int, lag time.Duration, idKey string, now time.Time) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := BookState{UpdateID: b.updateID, Bids: b.bids, Asks: b.asks}
	if lag > 0 {
		if s, ok := b.stateAt(b.idAt(b.last.Add(-lag))); ok {
			st = s
		}
	}
	w := newJSON()
	w.num(idKey, st.UpdateID)
	if b.cfg.Futures {
		w.num("E", now.UnixMilli()).num("T", now.UnixMilli())
	}
	if b.cfg.Pair {
		w.str("symbol", b.sym).str("pair", b.pair())
	}
	w.levels("bids", st.Bids, true, limit).levels("asks", st.Asks, false, limit)
	return w.close()
}

func cloneLevels(m map[int64]int64) map[int64]int64 {
	out := make(map[int64]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
