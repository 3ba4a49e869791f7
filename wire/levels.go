package wire

import "math/bits"

// The levels of an order book, [["price","quantity"],...], are most of a
// depth payload. NextDecimalPair and DecimalPair read one compact level in
// one step; anything else is left to the general readers.

// DecimalPair reads a tuple of two quoted decimals written compactly, such
// as the ["price","quantity"] levels of an order book, in one step. When
// the next value is not of that form (whitespace, escapes, more elements,
// bad text) it consumes nothing and ok is false: decode it the long way.
func (d *Decoder) DecimalPair() (a, b Decimal, ok bool) {
	a, b, end, ok := decimalPairAt(d.s, d.i)
	if ok {
		d.i, d.first = end, false
	}
	return a, b, ok
}

// NextDecimalPair reads the next element of an array, after ArrayStart, when
// it is a compact pair of quoted decimals (see DecimalPair), consuming the
// ',' before it. Otherwise (the end of the array, whitespace, an element of
// another form, bad text) it consumes nothing and ok is false: move to the
// element with NextElem and decode it the long way, which also reports any
// error.
func (d *Decoder) NextDecimalPair() (a, b Decimal, ok bool) {
	i := d.i
	if !d.first {
		if i >= len(d.s) || d.s[i] != ',' {
			return Decimal{}, Decimal{}, false
		}
		i++
	}
	a, b, end, ok := shortPairAt(d.s, i)
	if !ok {
		a, b, end, ok = longPairAt(d.s, i)
	}
	if ok {
		d.i, d.first = end, false
	}
	return a, b, ok
}

// decimalPairAt reads the compact pair ["a","b"] at s[i] and returns the
// offset after it; ok is false when s[i:] does not start with one.
func decimalPairAt(s string, i int) (a, b Decimal, end int, ok bool) {
	if a, b, end, ok := shortPairAt(s, i); ok {
		return a, b, end, true
	}
	return longPairAt(s, i)
}

// longPairAt is decimalPairAt by the JSON number grammar.
func longPairAt(s string, i int) (a, b Decimal, end int, ok bool) {
	if i < 0 || i+2 >= len(s) || s[i] != '[' || s[i+1] != '"' {
		return Decimal{}, Decimal{}, 0, false
	}
	e1 := quotedDecimalEnd(s, i+2)
	if e1 < 0 || e1+3 >= len(s) || s[e1+1] != ',' || s[e1+2] != '"' {
		return Decimal{}, Decimal{}, 0, false
	}
	e2 := quotedDecimalEnd(s, e1+3)
	if e2 < 0 || e2+1 >= len(s) || s[e2+1] != ']' {
		return Decimal{}, Decimal{}, 0, false
	}
	return Decimal{s[i+2 : e1]}, Decimal{s[e1+3 : e2]}, e2 + 2, true
}

// shortPairAt is decimalPairAt for a pair of at most 32 bytes whose
// decimals are digits with an optional fraction, such as
// ["16800.10000000","0.12500000"]; it is not ok for anything else, valid or
// not. It reads the 32 bytes at once as a bit mask of their non-digits and
// walks its set bits, which in such a pair are exactly the brackets,
// quotes, comma and decimal points: each must be the byte expected there.
func shortPairAt(s string, i int) (a, b Decimal, end int, ok bool) {
	if i < 0 || i+32 > len(s) {
		return Decimal{}, Decimal{}, 0, false
	}
	w := s[i : i+32]
	if w[0] != '[' || w[1] != '"' {
		return Decimal{}, Decimal{}, 0, false
	}
	n := nonDigitBits(le64(w[0:8])) | nonDigitBits(le64(w[8:16]))<<8 |
		nonDigitBits(le64(w[16:24]))<<16 | nonDigitBits(le64(w[24:32]))<<24
	n &^= 3                      // `["`
	p := bits.TrailingZeros32(n) // '.' or the closing '"'
	dot := p
	if p < 32 && w[p] == '.' {
		n &= n - 1
		p = bits.TrailingZeros32(n)
	}
	if p >= 29 || w[p] != '"' || w[p+1] != ',' || w[p+2] != '"' || !shortDecimal(w, 2, dot, p) {
		return Decimal{}, Decimal{}, 0, false
	}
	n &= n - 1 // the '"' at p
	n &= n - 1 // ','
	n &= n - 1 // '"'
	q := bits.TrailingZeros32(n)
	dot2 := q
	if q < 32 && w[q] == '.' {
		n &= n - 1
		q = bits.TrailingZeros32(n)
	}
	if q >= 31 || w[q] != '"' || w[q+1] != ']' || !shortDecimal(w, p+3, dot2, q) {
		return Decimal{}, Decimal{}, 0, false
	}
	return Decimal{w[2:p]}, Decimal{w[p+3 : q]}, i + q + 2, true
}

// shortDecimal reports whether w[from:to], whose only non-digit byte is
// the '.' at dot (dot == to when there is none), is a decimal: digits, no
// leading zero, and at least one digit either side of the point.
func shortDecimal(w string, from, dot, to int) bool {
	return from < dot && (dot == to || dot < to-1) && (w[from] != '0' || dot == from+1)
}

// quotedDecimalEnd returns the offset of the '"' that closes the quoted
// decimal whose text starts at s[i], or -1 when there is none: the text is
// not a decimal by the JSON number grammar, or is not followed by '"'.
func quotedDecimalEnd(s string, i int) int {
	if end := scanNumber(s, i); end >= 0 && end < len(s) && s[end] == '"' {
		return end
	}
	return -1
}

// le64 reads 8 bytes as a little-endian uint64.
func le64(t string) uint64 {
	_ = t[7]
	return uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
		uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
}

// nonDigitBits returns a bit mask of the bytes of x (least significant
// first) that are not ASCII digits. Each byte is tested on its own, its high
// bit cleared first so that no add carries into the next: t+0x50 sets bit 7
// when t >= '0', t+0x46 when t > '9'. The multiply gathers the eight flags
// into the top byte.
func nonDigitBits(x uint64) uint32 {
	const hi = 0x8080808080808080
	t := x &^ hi
	m := (x | (t + 0x4646464646464646) | ^(t + 0x5050505050505050)) & hi
	return uint32(((m >> 7) * 0x0102040810204080) >> 56)
}
