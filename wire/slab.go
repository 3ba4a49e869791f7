package wire

import "unsafe"

// Slab hands out values of T carved from larger allocations, so that
// decoding many payloads costs one allocation per slab rather than one per
// value. A value it returned keeps its whole slab alive (at most
// slabBytes), which the garbage collector frees once no value of it is in
// use. The zero Slab is ready to use; it is not safe for concurrent use.
type Slab[T any] struct {
	free []T
	next int // bytes of the next slab: from firstSlabBytes, doubling up to slabBytes

	scratch []T  // where ArrayRoom decodes an array before ArrayKeep copies it out
	lent    bool // scratch is in use
}

// slabBytes is the size a slab aims at; slabs hold at least minSlab values.
// A Slab's first slab is firstSlabBytes, and each next one twice the last,
// so that a decoder of a stream that sees few events (one of thousands a
// Conn carries) holds about 1 KiB instead of 16.
const (
	slabBytes      = 16 << 10
	firstSlabBytes = 1 << 10
	minSlab        = 8
)

// New returns a pointer to a zero T.
func (s *Slab[T]) New() *T {
	if len(s.free) == 0 {
		s.free = make([]T, s.size(1))
	}
	v := &s.free[0]
	s.free = s.free[1:]
	return v
}

// Take returns an empty slice with room for n values of T, its capacity
// exactly n, so that appending beyond n moves it out of the slab instead of
// overwriting a neighbour. Slices larger than a slab are allocated alone.
func (s *Slab[T]) Take(n int) []T {
	if n == 0 {
		return []T{} // not nil: an empty array is not a JSON null
	}
	if n > len(s.free) {
		size := s.size(n)
		if n > size/2 {
			return make([]T, 0, n)
		}
		s.free = make([]T, size)
	}
	v := s.free[:0:n]
	s.free = s.free[n:]
	return v
}

// size is the number of values of a new slab that must hold at least n.
func (s *Slab[T]) size(n int) int {
	var zero T
	b := max(s.next, firstSlabBytes)
	s.next = min(2*b, slabBytes)
	size := b / max(int(unsafe.Sizeof(zero)), 1)
	return max(size, minSlab, n)
}
