package orderbook

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/marketwire/marketwire/wire"
)

// Fixed is an exact decimal number: Int × 10^-Scale. The levels a Book
// returns share one price scale and one quantity scale, the most decimals
// the book has seen.
type Fixed struct {
	Int   int64
	Scale int8
}

// maxScale bounds the decimals of a Fixed: 10^18 still fits an int64.
const maxScale = 18

var pow10 = func() [maxScale + 1]int64 {
	var p [maxScale + 1]int64
	p[0] = 1
	for i := 1; i <= maxScale; i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// mulLimit[k] is the largest magnitude that can be multiplied by 10^k.
var mulLimit = func() [maxScale + 1]int64 {
	var l [maxScale + 1]int64
	for i := range l {
		l[i] = math.MaxInt64 / pow10[i]
	}
	return l
}()

// Errors of decimal conversion.
var (
	errRange  = errors.New("orderbook: decimal out of range (more than 18 significant digits or 18 decimals)")
	errSyntax = errors.New("orderbook: invalid decimal")
)

// ParseFixed parses a decimal such as "38080.48", "0.00100000", "-1.5" or
// "1e-7" exactly; trailing zeros after the point are dropped from Scale,
// so that up to 18 significant digits fit.
func ParseFixed(s string) (Fixed, error) {
	// The fast path: [-]int[.frac] with at most 18 significant digits.
	// Leading zeros of int and trailing zeros of frac are trimmed first,
	// so that the digit loops need no other test.
	t, neg := s, false
	if len(t) > 0 && t[0] == '-' {
		t, neg = t[1:], true
	}
	in, frac := t, ""
	for i := 0; i < len(t); i++ {
		if t[i] == '.' {
			in, frac = t[:i], t[i+1:]
			break
		}
	}
	if len(in) == 0 || len(in) > 1 && in[0] == '0' || len(frac) == 0 && len(in) < len(t) {
		return parseFixedSlow(s)
	}
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	if in == "0" {
		in = ""
	}
	if len(in)+len(frac) > 18 || len(frac) > maxScale {
		return parseFixedSlow(s)
	}
	var v int64
	for i := 0; i < len(in); i++ {
		c := in[i] - '0'
		if c > 9 {
			return parseFixedSlow(s)
		}
		v = v*10 + int64(c)
	}
	for i := 0; i < len(frac); i++ {
		c := frac[i] - '0'
		if c > 9 {
			return parseFixedSlow(s)
		}
		v = v*10 + int64(c)
	}
	if v == 0 {
		return Fixed{}, nil
	}
	if neg {
		v = -v
	}
	return Fixed{Int: v, Scale: int8(len(frac))}, nil
}

// parseFixedSlow parses what the fast path does not: exponents, and gives
// the errors.
func parseFixedSlow(s string) (Fixed, error) {
	i, neg := 0, false
	if i < len(s) && s[i] == '-' {
		neg, i = true, i+1
	}
	var v int64
	scale, digits := 0, 0
	point, seen := false, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			seen = true
			if point {
				scale++
			}
			if v == 0 && c == '0' {
				continue
			}
			digits++
			if digits > 18 {
				return Fixed{}, errRange
			}
			v = v*10 + int64(c-'0')
		case c == '.' && !point:
			point = true
		case c == 'e' || c == 'E':
			if !seen {
				return Fixed{}, errSyntax
			}
			exp, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
			if err != nil {
				return Fixed{}, errSyntax
			}
			scale -= exp
			i = len(s)
		default:
			return Fixed{}, errSyntax
		}
	}
	if !seen {
		return Fixed{}, errSyntax
	}
	for scale > 0 && v%10 == 0 && v != 0 {
		v /= 10
		scale--
	}
	if v == 0 {
		scale = 0
	}
	for scale < 0 {
		if v > math.MaxInt64/10 {
			return Fixed{}, errRange
		}
		v *= 10
		scale++
	}
	if scale > maxScale {
		return Fixed{}, errRange
	}
	if neg {
		v = -v
	}
	return Fixed{Int: v, Scale: int8(scale)}, nil
}

// at returns f's Int at scale s >= f.Scale, or false when it overflows.
func (f Fixed) at(s int8) (int64, bool) {
	k := s - f.Scale
	if k == 0 {
		return f.Int, true
	}
	if k < 0 || k > maxScale {
		return 0, false
	}
	if f.Int > mulLimit[k] || f.Int < -mulLimit[k] {
		return 0, false
	}
	return f.Int * pow10[k], true
}

// Cmp compares f and g exactly and returns -1, 0 or +1.
func (f Fixed) Cmp(g Fixed) int {
	s := max(f.Scale, g.Scale)
	a, okA := f.at(s)
	b, okB := g.at(s)
	if !okA || !okB { // one side overflows at the common scale: compare as text
		return wire.MustDecimal(f.String()).Cmp(wire.MustDecimal(g.String()))
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// IsZero reports whether f is zero.
func (f Fixed) IsZero() bool { return f.Int == 0 }

// String returns f in plain decimal notation with exactly Scale decimals.
func (f Fixed) String() string {
	return string(f.Append(nil))
}

// Append appends f's text to dst.
func (f Fixed) Append(dst []byte) []byte {
	if f.Scale <= 0 {
		dst = strconv.AppendInt(dst, f.Int, 10)
		for i := int8(0); i < -f.Scale; i++ {
			dst = append(dst, '0')
		}
		return dst
	}
	u := uint64(f.Int)
	if f.Int < 0 {
		dst = append(dst, '-')
		u = -u
	}
	var buf [24]byte
	digits := strconv.AppendUint(buf[:0], u, 10)
	n := int(f.Scale)
	for len(digits) <= n {
		digits = append([]byte{'0'}, digits...)
	}
	dst = append(dst, digits[:len(digits)-n]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-n:]...)
}

// Decimal returns f as a wire.Decimal.
func (f Fixed) Decimal() wire.Decimal { return wire.MustDecimal(f.String()) }
