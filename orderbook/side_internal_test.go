package orderbook

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSideModel checks the blocked side against a map through random sets
// and removals, near the top and deep, with its invariants after each.
func TestSideModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var s side
	model := map[int64]int64{}
	for op := 0; op < 60000; op++ {
		key := rng.Int64N(3000)
		if op%3 == 0 {
			key = 3000 - rng.Int64N(40) // near the top
		}
		qty := rng.Int64N(5) // 0 removes
		s.set(key, qty)
		if qty == 0 {
			delete(model, key)
		} else {
			model[key] = qty
		}
		if op%997 != 0 && op < 59990 {
			continue
		}
		var got []level
		s.each(func(l level) bool { got = append(got, l); return true })
		keys := make([]int64, 0, len(model))
		for k := range model {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		slices.Reverse(keys)
		if len(got) != len(keys) || s.n != len(keys) {
			t.Fatalf("op %d: %d levels (n %d), want %d", op, len(got), s.n, len(keys))
		}
		for i, k := range keys {
			if got[i] != (level{k, model[k]}) {
				t.Fatalf("op %d: level %d is %v, want %v", op, i, got[i], level{k, model[k]})
			}
		}
		for bi, blk := range s.blocks {
			if len(blk) == 0 || len(blk) > blockMax || s.lasts[bi] != blk[len(blk)-1].key || len(s.lasts) != len(s.blocks) {
				t.Fatalf("op %d: block %d has %d levels, last key %d (recorded %d)", op, bi, len(blk), blk[len(blk)-1].key, s.lasts[bi])
			}
		}
	}
	if len(s.blocks) < 10 {
		t.Fatalf("only %d blocks: splits not exercised", len(s.blocks))
	}
}
