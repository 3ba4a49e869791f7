package wire

import (
	"reflect"
	"testing"
	"unsafe"
)

// TestDecimalPair checks the compact pair reader against the long tuple
// path: the same values where it applies, and nothing consumed where it
// does not.
func TestDecimalPair(t *testing.T) {
	cases := []struct {
		in   string
		a, b string // want, when ok
		ok   bool
	}{
		{`["4123.45","12.345"]`, "4123.45", "12.345", true},
		{`["0","0.00000001"],`, "0", "0.00000001", true},
		{`["-1e5","2E-3"]`, "-1e5", "2E-3", true},
		{`[ "1","2"]`, "", "", false},     // whitespace
		{`["1", "2"]`, "", "", false},     // whitespace
		{`["1","2","3"]`, "", "", false},  // a third column
		{`["1","2" ]`, "", "", false},     // whitespace
		{`["\u0031","2"]`, "", "", false}, // escape
		{`["01","2"]`, "", "", false},     // not a decimal
		{`["1.","2"]`, "", "", false},     // not a decimal
		{`["1","2"`, "", "", false},       // truncated
		{`["1",`, "", "", false},          // truncated
		{`[1,2]`, "", "", false},          // numbers, not strings
		{`{"p":"1"}`, "", "", false},      // not an array
		{`["","2"]`, "", "", false},       // empty
	}
	for _, c := range cases {
		var d Decoder
		d.ResetShared([]byte(c.in))
		a, b, ok := d.DecimalPair()
		if ok != c.ok || a.String() != c.a || b.String() != c.b {
			t.Errorf("%s: got %q %q %v, want %q %q %v", c.in, a, b, ok, c.a, c.b, c.ok)
			continue
		}
		if !ok && d.i != 0 {
			t.Errorf("%s: consumed %d bytes without reading a pair", c.in, d.i)
		}
		if ok && d.i != len(`[""," "]`)-1+len(c.a)+len(c.b) {
			t.Errorf("%s: at %d after the pair", c.in, d.i)
		}
	}
}

// TestSlab checks that slices taken from a slab never overlap, hold their
// exact capacity, and that appending past it leaves the neighbour alone.
func TestSlab(t *testing.T) {
	var s Slab[[2]int64]
	var all [][][2]int64
	for n := range 600 {
		v := s.Take(n % 50)
		if len(v) != 0 || cap(v) != n%50 || v == nil {
			t.Fatalf("Take(%d): len %d cap %d nil %v", n%50, len(v), cap(v), v == nil)
		}
		for i := range cap(v) {
			v = append(v, [2]int64{int64(n), int64(i)})
		}
		all = append(all, v)
	}
	all[0] = append(all[1][:len(all[1]):len(all[1])], [2]int64{-1, -1}) // moves out
	for n, v := range all[1:] {
		for i, x := range v {
			if x != [2]int64{int64(n + 1), int64(i)} {
				t.Fatalf("slice %d element %d is %v", n+1, i, x)
			}
		}
	}
	big := s.Take(1 << 20)
	if cap(big) != 1<<20 {
		t.Fatalf("a slice larger than a slab: cap %d", cap(big))
	}
	p, q := s.New(), s.New()
	if p == q || uintptr(unsafe.Pointer(q))-uintptr(unsafe.Pointer(p)) != unsafe.Sizeof(*p) {
		t.Fatalf("New: %p then %p", p, q)
	}
	if allocs := testing.AllocsPerRun(1000, func() { s.New() }); allocs > 0.01 {
		t.Fatalf("New allocates %.3f times per value", allocs)
	}
}

// TestArrayScratch checks ArrayRoom and ArrayKeep through DecodeArray with a
// slab: each array keeps its values when later ones are decoded through the
// same scratch slice, is exactly as long as its JSON array, and an array of
// the same type inside an element (which cannot borrow the scratch in use)
// decodes as well.
func TestArrayScratch(t *testing.T) {
	type node struct {
		n    int64
		kids []node
	}
	var elem func(*node, *Decoder) error
	elem = func(v *node, d *Decoder) error {
		if d.peek() == '[' {
			var err error
			v.kids, err = DecodeArray(d, v.kids[:0], elem)
			return err
		}
		var err error
		v.n, err = d.Int()
		return err
	}
	var slab Slab[node]
	var got [][]node
	for _, in := range []string{`[1,2,3]`, `[4,[5,6],7,8]`, `[]`, `[9]`, `[10,11,12,13,14,15,16,17,18,19,20]`} {
		var d Decoder
		d.Slab = &slab
		d.ResetShared([]byte(in))
		v, err := DecodeArray(&d, nil, elem)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if len(v) != cap(v) {
			t.Errorf("%s: len %d, cap %d", in, len(v), cap(v))
		}
		got = append(got, v)
	}
	want := [][]node{
		{{n: 1}, {n: 2}, {n: 3}},
		{{n: 4}, {kids: []node{{n: 5}, {n: 6}}}, {n: 7}, {n: 8}},
		{},
		{{n: 9}},
		{{n: 10}, {n: 11}, {n: 12}, {n: 13}, {n: 14}, {n: 15}, {n: 16}, {n: 17}, {n: 18}, {n: 19}, {n: 20}},
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("array %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if slab.lent || cap(slab.scratch) == 0 || !reflect.DeepEqual(slab.scratch[:cap(slab.scratch)][0], node{}) {
		t.Errorf("scratch after use: lent %v, cap %d, not cleared", slab.lent, cap(slab.scratch))
	}
}
