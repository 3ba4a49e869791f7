package orderbook

// flatSide is the first design, kept as a benchmark baseline: one sorted
// slice, best last.
type flatSide struct {
	lv []level
}

// search returns the index of the first level whose key is >= key.
func (s *flatSide) search(key int64) int {
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
func (s *flatSide) set(key, qty int64) {
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
