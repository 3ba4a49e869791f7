package orderbook

// side is one side of a book: its levels sorted by key ascending, the best
// last, in blocks of at most blockMax levels. A bid's key is its price and
// an ask's the negated price, so both sides share the code and the best
// level is always the last of the last block. Setting a level is two
// binary searches and a move of at most blockMax levels, wherever the
// level is; reading the top N levels walks the last blocks backwards.
// (One flat sorted slice is as fast near the top but moves up to the whole
// side for a change deep in the book; see BenchmarkApply20x20.)
type side struct {
	blocks [][]level // each sorted and non-empty; block i's keys < block i+1's
	lasts  []int64   // the last key of each block, searched without touching the blocks
	n      int       // levels in all blocks
}

// level is a price level in the book's scales: key is the price (negated
// for asks), qty the quantity.
type level struct {
	key, qty int64
}

const (
	blockMax = 128          // a full block splits in two
	blockMin = blockMax / 4 // a block this small merges with a neighbour when they fit in one
)

// find returns the index of the block where key is or would go: the first
// whose last key is >= key, or the last block.
func (s *side) find(key int64) int {
	n := len(s.blocks)
	if n == 0 {
		return 0
	}
	// Most changes land near the top, in the last block.
	if n == 1 || key > s.lasts[n-2] {
		return n - 1
	}
	return lowerBound(s.lasts[:n-1], key)
}

// search returns the index of the first level of blk whose key is >= key.
func search(blk []level, key int64) int {
	n := len(blk)
	if n == 0 {
		return 0
	}
	// A binary search without a branch on the comparison (the compiler
	// makes it a conditional move): levels deep in a book are cache misses
	// that a mispredicted branch would wait for.
	base := 0
	for n > 1 {
		half := n / 2
		if blk[base+half].key < key {
			base += half
		}
		n -= half
	}
	if blk[base].key < key {
		base++
	}
	return base
}

// lowerBound is search over keys alone: the index of the first >= key.
func lowerBound(keys []int64, key int64) int {
	n := len(keys)
	if n == 0 {
		return 0
	}
	base := 0
	for n > 1 {
		half := n / 2
		if keys[base+half] < key {
			base += half
		}
		n -= half
	}
	if keys[base] < key {
		base++
	}
	return base
}

// set sets the quantity at key; 0 removes the level.
func (s *side) set(key, qty int64) {
	if len(s.blocks) == 0 {
		if qty != 0 {
			blk := make([]level, 1, blockMax)
			blk[0] = level{key, qty}
			s.blocks, s.lasts, s.n = append(s.blocks, blk), append(s.lasts, key), 1
		}
		return
	}
	bi := s.find(key)
	blk := s.blocks[bi]
	i := search(blk, key)
	found := i < len(blk) && blk[i].key == key
	switch {
	case found && qty != 0:
		blk[i].qty = qty
	case found:
		blk = append(blk[:i], blk[i+1:]...)
		s.blocks[bi] = blk
		s.n--
		if len(blk) > 0 {
			s.lasts[bi] = blk[len(blk)-1].key
		}
		if len(blk) < blockMin {
			s.shrink(bi)
		}
	case qty != 0:
		if len(blk) == blockMax {
			s.split(bi)
			if i > blockMax/2 {
				bi, i = bi+1, i-blockMax/2
			}
			blk = s.blocks[bi]
		}
		blk = append(blk, level{})
		copy(blk[i+1:], blk[i:])
		blk[i] = level{key, qty}
		s.blocks[bi] = blk
		s.lasts[bi] = blk[len(blk)-1].key
		s.n++
	}
}

// split moves the upper half of full block bi into a new block after it.
func (s *side) split(bi int) {
	blk := s.blocks[bi]
	upper := make([]level, blockMax/2, blockMax)
	copy(upper, blk[blockMax/2:])
	s.blocks[bi] = blk[:blockMax/2]
	s.blocks = append(s.blocks, nil)
	copy(s.blocks[bi+2:], s.blocks[bi+1:])
	s.blocks[bi+1] = upper
	s.lasts = append(s.lasts, 0)
	copy(s.lasts[bi+2:], s.lasts[bi+1:])
	s.lasts[bi] = blk[blockMax/2-1].key
	s.lasts[bi+1] = upper[len(upper)-1].key
}

// shrink removes block bi when empty, or merges it into a neighbour when
// both fit in one block.
func (s *side) shrink(bi int) {
	blk := s.blocks[bi]
	switch {
	case len(blk) == 0:
	case bi > 0 && len(s.blocks[bi-1])+len(blk) <= blockMax:
		s.blocks[bi-1] = append(s.blocks[bi-1], blk...)
		s.lasts[bi-1] = s.lasts[bi]
	case bi+1 < len(s.blocks) && len(s.blocks[bi+1])+len(blk) <= blockMax:
		next := s.blocks[bi+1]
		s.blocks[bi] = append(blk, next...)
		s.lasts[bi] = s.lasts[bi+1]
		bi++ // drop the next block instead
	default:
		return
	}
	s.blocks = append(s.blocks[:bi], s.blocks[bi+1:]...)
	s.lasts = append(s.lasts[:bi], s.lasts[bi+1:]...)
}

// reset empties the side.
func (s *side) reset() {
	clear(s.blocks)
	s.blocks, s.lasts, s.n = s.blocks[:0], s.lasts[:0], 0
}

// best returns the best level.
func (s *side) best() (level, bool) {
	if len(s.blocks) == 0 {
		return level{}, false
	}
	last := s.blocks[len(s.blocks)-1]
	return last[len(last)-1], true
}

// each calls fn for the levels from the best down until it returns false.
func (s *side) each(fn func(level) bool) {
	for bi := len(s.blocks) - 1; bi >= 0; bi-- {
		blk := s.blocks[bi]
		for i := len(blk) - 1; i >= 0; i-- {
			if !fn(blk[i]) {
				return
			}
		}
	}
}

// scale multiplies every key (price) or quantity by m, or fails when one
// overflows, leaving the side unchanged.
func (s *side) scale(m int64, price bool) bool {
	lim := int64(1<<63-1) / m
	for _, blk := range s.blocks {
		for _, l := range blk {
			v := l.qty
			if price {
				v = l.key
			}
			if v > lim || v < -lim {
				return false
			}
		}
	}
	for _, blk := range s.blocks {
		for i := range blk {
			if price {
				blk[i].key *= m
			} else {
				blk[i].qty *= m
			}
		}
	}
	if price {
		for i := range s.lasts {
			s.lasts[i] *= m
		}
	}
	return true
}
