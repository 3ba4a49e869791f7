package wire

import (
	"errors"
	"math/big"
	"math/bits"
	"strconv"
)

// Decimal is an exact decimal number kept as its wire text, such as
// "123456789012.12345678", "-1.5" or "1e-7". The zero value is unset.
//
// The text always follows the JSON number grammar, so it can be written
// both quoted and as a bare JSON number.
type Decimal struct{ s string }

// ParseDecimal checks that s is a decimal number and returns it: an
// optional '-', an integer part without leading zeros, an optional '.' and
// digits, and an optional exponent (e or E, an optional sign, digits).
func ParseDecimal(s string) (Decimal, error) {
	if s == "" || scanNumber(s, 0) != len(s) {
		return Decimal{}, errors.New("wire: invalid decimal " + strconv.Quote(s))
	}
	return Decimal{s}, nil
}

// MustDecimal is like ParseDecimal but panics on bad input. Use it for
// literals and in tests.
func MustDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// String returns the exact text; "" when unset.
func (d Decimal) String() string { return d.s }

// IsSet reports whether d holds a value.
func (d Decimal) IsSet() bool { return d.s != "" }

// IsZero reports whether d is zero ("0", "0.000", "-0") or unset.
func (d Decimal) IsZero() bool {
	return splitDecimal(d.s).isZero()
}

// Sign returns -1, 0 or +1. Unset counts as zero.
func (d Decimal) Sign() int {
	p := splitDecimal(d.s)
	switch {
	case p.isZero():
		return 0
	case p.neg:
		return -1
	}
	return 1
}

// Float64 returns the nearest float64; 0 when unset. Values beyond the
// float64 range give ±Inf.
func (d Decimal) Float64() float64 {
	if d.s == "" {
		return 0
	}
	f, _ := strconv.ParseFloat(d.s, 64)
	return f
}

// Cmp compares the values of d and o exactly and returns -1, 0 or +1.
// "1.0" equals "1", "-0" equals "0", and unset counts as zero.
func (d Decimal) Cmp(o Decimal) int {
	if d.s == o.s {
		return 0
	}
	a, b := splitDecimal(d.s), splitDecimal(o.s)
	az, bz := a.isZero(), b.isZero()
	switch {
	case az && bz:
		return 0
	case az:
		if b.neg {
			return 1
		}
		return -1
	case bz:
		if a.neg {
			return -1
		}
		return 1
	case a.neg != b.neg:
		if a.neg {
			return -1
		}
		return 1
	}
	c := cmpMagnitude(a, b)
	if a.neg {
		c = -c
	}
	return c
}

// MarshalJSON writes d as a quoted string, or null when unset.
func (d Decimal) MarshalJSON() ([]byte, error) {
	return AppendDecimal(make([]byte, 0, len(d.s)+2), d), nil
}

// UnmarshalJSON reads a quoted decimal or a bare JSON number; null unsets d.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	var dec Decoder
	dec.Reset(b)
	var v Decimal
	var err error
	switch {
	case dec.IsNull():
	case dec.peek() == '"':
		v, err = dec.Decimal()
	default:
		v, err = dec.DecimalNumber()
	}
	if err == nil {
		err = dec.End()
	}
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText returns the text; empty when unset.
func (d Decimal) MarshalText() ([]byte, error) {
	return []byte(d.s), nil
}

// UnmarshalText parses a decimal as ParseDecimal does; empty text unsets d.
func (d *Decimal) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Decimal{}
		return nil
	}
	v, err := ParseDecimal(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// scanNumber scans a JSON number starting at s[i] and returns the offset just
// past it, or -1 when s[i:] does not start with a valid number.
func scanNumber(s string, i int) int {
	n := len(s)
	if i < n && s[i] == '-' {
		i++
	}
	if i >= n {
		return -1
	}
	switch c := s[i]; {
	case c == '0':
		i++
	case '1' <= c && c <= '9':
		i = digits(s, i+1)
	default:
		return -1
	}
	if i < n && s[i] == '.' {
		j := i + 1
		i = digits(s, j)
		if i == j {
			return -1
		}
	}
	if i < n && s[i]|0x20 == 'e' {
		i++
		if i < n && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < n && isDigit(s[i]) {
			i++
		}
		if i == j {
			return -1
		}
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digits returns the offset of the first byte at or after s[i] that is not
// an ASCII digit, or len(s). It tests eight bytes at a time: in each byte,
// x-0x30 sets the high bit when the byte is below '0' (or 0xB0 and up), and
// x+0x46 sets it when the byte is above '9' (and below 0xBA). A borrow or
// carry only disturbs the bytes above the first non-digit, so the lowest
// flagged byte is exact.
func digits(s string, i int) int {
	for i+8 <= len(s) {
		t := s[i : i+8]
		x := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		if m := ((x - 0x3030303030303030) | (x + 0x4646464646464646)) & 0x8080808080808080; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
		i += 8
	}
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// decParts is a validated decimal text split into its pieces.
type decParts struct {
	neg  bool
	intp string // integer digits
	frac string // fraction digits, without the '.'
	exp  string // exponent with optional sign, without the 'e'
}

func splitDecimal(s string) decParts {
	var p decParts
	if s != "" && s[0] == '-' {
		p.neg = true
		s = s[1:]
	}
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	p.intp = s[:i]
	if i < len(s) && s[i] == '.' {
		j := i + 1
		i = j
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		p.frac = s[j:i]
	}
	if i < len(s) {
		p.exp = s[i+1:]
	}
	return p
}

func (p decParts) isZero() bool {
	return allZeros(p.intp) && allZeros(p.frac)
}

func allZeros(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

// digit returns digit k of intp followed by frac, and '0' past the end.
func (p *decParts) digit(k int) byte {
	if k < len(p.intp) {
		return p.intp[k]
	}
	k -= len(p.intp)
	if k < len(p.frac) {
		return p.frac[k]
	}
	return '0'
}

// leadingZeros counts the zeros that start intp followed by frac.
func (p *decParts) leadingZeros() int {
	n := len(p.intp) + len(p.frac)
	k := 0
	for k < n && p.digit(k) == '0' {
		k++
	}
	return k
}

// cmpMagnitude compares |a| and |b|; both are non-zero.
//
// A value with digits D (intp then frac, leading zeros removed) equals
// 0.D × 10^A with A = len(intp) - leading zeros + exponent, so the larger
// A wins and equal A compares D digit by digit.
func cmpMagnitude(a, b decParts) int {
	la, lb := a.leadingZeros(), b.leadingZeros()
	if c := cmpAdjExp(len(a.intp)-la, a.exp, len(b.intp)-lb, b.exp); c != 0 {
		return c
	}
	na := len(a.intp) + len(a.frac) - la
	nb := len(b.intp) + len(b.frac) - lb
	for k := 0; k < na || k < nb; k++ {
		x, y := a.digit(la+k), b.digit(lb+k)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// cmpAdjExp compares ca+ea with cb+eb, where ea and eb are exponent texts.
func cmpAdjExp(ca int, ea string, cb int, eb string) int {
	xa, oka := smallExp(ea)
	xb, okb := smallExp(eb)
	if oka && okb {
		x, y := int64(ca)+xa, int64(cb)+xb
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	// An exponent too large for int64 arithmetic: rare, use math/big.
	return bigExp(ca, ea).Cmp(bigExp(cb, eb))
}

// smallExp parses an exponent text when its magnitude is below 10^15.
func smallExp(e string) (int64, bool) {
	if e == "" {
		return 0, true
	}
	neg := false
	switch e[0] {
	case '-':
		neg = true
		e = e[1:]
	case '+':
		e = e[1:]
	}
	var v int64
	for i := 0; i < len(e); i++ {
		v = v*10 + int64(e[i]-'0')
		if v >= 1e15 {
			return 0, false
		}
	}
	if neg {
		v = -v
	}
	return v, true
}

func bigExp(c int, e string) *big.Int {
	x := big.NewInt(int64(c))
	if e != "" {
		if e[0] == '+' {
			e = e[1:]
		}
		y, _ := new(big.Int).SetString(e, 10)
		if y != nil {
			x.Add(x, y)
		}
	}
	return x
}
