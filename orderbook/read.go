package orderbook

import "math"

// BestBid returns the best bid; ok is false when the book is not Synced
// or has no bids.
func (b *Book) BestBid() (l Level, ok bool) { return b.best(&b.bids, 1) }

// BestAsk returns the best ask; ok is false when the book is not Synced
// or has no asks.
func (b *Book) BestAsk() (l Level, ok bool) { return b.best(&b.asks, -1) }

func (b *Book) best(s *side, sign int64) (Level, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.state != Synced {
		return Level{}, false
	}
	x, ok := s.best()
	if !ok {
		return Level{}, false
	}
	return Level{Price: Fixed{x.key * sign, b.ps}, Qty: Fixed{x.qty, b.qs}}, true
}

// Top copies the best n levels of each side (all when n <= 0) into dst,
// reusing its slices, with the update id they are as of. It fails with
// ErrNotSynced unless the book is Synced; dst is then left empty.
func (b *Book) Top(n int, dst *Snapshot) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	dst.Symbol = b.symbol
	dst.Bids, dst.Asks = dst.Bids[:0], dst.Asks[:0]
	if b.state != Synced {
		dst.LastUpdateID = 0
		return ErrNotSynced
	}
	dst.LastUpdateID = b.last
	dst.Bids = b.copySide(dst.Bids, &b.bids, 1, n)
	dst.Asks = b.copySide(dst.Asks, &b.asks, -1, n)
	return nil
}

// Snapshot returns a copy of the whole book (see Top).
func (b *Book) Snapshot() (Snapshot, error) {
	var s Snapshot
	err := b.Top(0, &s)
	return s, err
}

func (b *Book) copySide(dst []Level, s *side, sign int64, n int) []Level {
	if n <= 0 || n > s.n {
		n = s.n
	}
	if cap(dst) < n {
		dst = make([]Level, 0, n)
	}
	for bi := len(s.blocks) - 1; bi >= 0 && len(dst) < n; bi-- {
		blk := s.blocks[bi]
		for i := len(blk) - 1; i >= 0 && len(dst) < n; i-- {
			dst = append(dst, Level{Price: Fixed{blk[i].key * sign, b.ps}, Qty: Fixed{blk[i].qty, b.qs}})
		}
	}
	return dst
}

// DepthToPrice returns the total quantity of the levels of side s priced
// at price or better (bids at or above it, asks at or below it), and how
// many levels that is.
func (b *Book) DepthToPrice(s Side, price Fixed) (qty Fixed, levels int, err error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.state != Synced {
		return Fixed{}, 0, ErrNotSynced
	}
	sd, sign := b.side(s)
	var p int64
	ok := true
	switch {
	case price.Scale > b.ps && exact(price, b.ps):
		p = price.Int / pow10[price.Scale-b.ps]
	case price.Scale > b.ps:
		ok = false
	default:
		p, ok = price.at(b.ps)
	}
	if !ok {
		return b.depthToPriceSlow(sd, sign, price)
	}
	var sum int64
	overflow := false
	sd.each(func(l level) bool {
		if l.key < p*sign {
			return false
		}
		if sum > math.MaxInt64-l.qty {
			overflow = true
			return false
		}
		sum += l.qty
		levels++
		return true
	})
	if overflow {
		return Fixed{}, 0, errRange
	}
	return Fixed{sum, b.qs}, levels, nil
}

func (b *Book) depthToPriceSlow(sd *side, sign int64, price Fixed) (Fixed, int, error) {
	var sum int64
	levels := 0
	overflow := false
	sd.each(func(l level) bool {
		c := Fixed{l.key * sign, b.ps}.Cmp(price)
		if sign == 1 && c < 0 || sign == -1 && c > 0 {
			return false
		}
		if sum > math.MaxInt64-l.qty {
			overflow = true
			return false
		}
		sum += l.qty
		levels++
		return true
	})
	if overflow {
		return Fixed{}, 0, errRange
	}
	return Fixed{sum, b.qs}, levels, nil
}

// exact reports whether f has no non-zero digit beyond scale s.
func exact(f Fixed, s int8) bool {
	if f.Scale <= s {
		return true
	}
	return f.Int%pow10[f.Scale-s] == 0
}

// DepthToQty walks side s from the best level until qty is reached and
// returns the price of the last level it needed and the quantity found
// (less than qty when the whole side holds less).
func (b *Book) DepthToQty(s Side, qty Fixed) (price, filled Fixed, err error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.state != Synced {
		return Fixed{}, Fixed{}, ErrNotSynced
	}
	sd, sign := b.side(s)
	var sum, last int64
	overflow := false
	sd.each(func(l level) bool {
		if sum > math.MaxInt64-l.qty {
			overflow = true
			return false
		}
		sum += l.qty
		last = l.key * sign
		return (Fixed{sum, b.qs}).Cmp(qty) < 0
	})
	if overflow {
		return Fixed{}, Fixed{}, errRange
	}
	return Fixed{last, b.ps}, Fixed{sum, b.qs}, nil
}

func (b *Book) side(s Side) (*side, int64) {
	if s == Bid {
		return &b.bids, 1
	}
	return &b.asks, -1
}
