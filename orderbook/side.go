package orderbook

// side is one side of a book: its levels sorted by key ascending, the best
// last. A bid's key is its price and an ask's the negated price, so both
// sides share the code, and the levels that change most (near the top) sit
// at the end of the slice, where inserting or removing one moves few
// others.
type side struct {
	lv []level
}

// level is a price level in the book's scales: key is the price (negated
// for asks), qty the quantity.
type level struct {
	key, qty int64
}

// search returns the index of the first level whose key is >= key.
func (s *side) search(key int64) int {
	lo, hi := 0, len(s.lv)
	// The top of the book is where most changes land: look there first.
	if n := len(s.lv); n > 8 && key >= s.lv[n-8].key {
		lo = n - 8
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.lv[m].key < key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// set sets the quantity at key; 0 removes the level.
func (s *side) set(key, qty int64) {
	i := s.search(key)
	found := i < len(s.lv) && s.lv[i].key == key
	switch {
	case found && qty == 0:
		s.lv = append(s.lv[:i], s.lv[i+1:]...)
	case found:
		s.lv[i].qty = qty
	case qty != 0:
		s.lv = append(s.lv, level{})
		copy(s.lv[i+1:], s.lv[i:])
		s.lv[i] = level{key, qty}
	}
}

// best returns the best level.
func (s *side) best() (level, bool) {
	if len(s.lv) == 0 {
		return level{}, false
	}
	return s.lv[len(s.lv)-1], true
}
