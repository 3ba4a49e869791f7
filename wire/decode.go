package wire

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxDepth is the deepest nesting Skip accepts, the same limit as
// encoding/json.
const maxDepth = 10000

// Decoder scans one JSON document held in a string. The zero value holds an
// empty document; call Reset or ResetString first.
//
// Object and array readers are used in pairs: ObjectStart then NextKey until
// it reports false, reading each value in between; ArrayStart then NextElem
// until it reports false, reading each element in between. After an error
// the position is unspecified: stop, or start again with Reset.
type Decoder struct {
	s     string
	i     int
	first bool // an opening '{' or '[' was just consumed: no ',' expected

	// Drift is where SkipUnknown counts the keys it skips (see
	// DriftReport); nil counts nothing. Reset leaves it as it is. A
	// generated UnmarshalJSON sets it to its type's scope.
	Drift *DriftScope

	// Slab, when it holds a *Slab[T], is where DecodeArray takes the
	// memory of a new []T; other slices are allocated one by one. Reset
	// leaves it as it is.
	Slab any
}

// Reset copies b into a string, the one allocation of a decode, and starts
// reading at its beginning. Returned strings share this copy.
func (d *Decoder) Reset(b []byte) {
	d.s = string(b)
	d.i = 0
	d.first = false
}

// ResetShared starts reading b without copying it: returned strings alias
// b, so b must never be modified afterwards, for as long as any of them is
// in use. The runtime reads frames into write-once memory for this.
func (d *Decoder) ResetShared(b []byte) {
	d.s = unsafe.String(unsafe.SliceData(b), len(b))
	d.i = 0
	d.first = false
}

// ResetString starts reading s at its beginning, without copying it.
func (d *Decoder) ResetString(s string) {
	d.s = s
	d.i = 0
	d.first = false
}

// Offset returns the current byte offset in the input.
func (d *Decoder) Offset() int { return d.i }

// peek skips whitespace and returns the next byte, or 0 at the end.
func (d *Decoder) peek() byte {
	s, i := d.s, d.i
	if i < len(s) && s[i] > ' ' { // compact JSON: no whitespace to skip
		return s[i]
	}
	for i < len(s) && space[s[i]] {
		i++
	}
	d.i = i
	if i < len(s) {
		return s[i]
	}
	return 0
}

// space marks JSON whitespace.
var space = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

// ObjectStart consumes the '{' that opens an object.
func (d *Decoder) ObjectStart() error {
	if d.peek() != '{' {
		return d.typeErr("object")
	}
	d.i++
	d.first = true
	return nil
}

// NextKey returns the next key of the current object and consumes the ':'
// after it, so the value can be read next. The key is the raw text between
// the quotes; escape sequences are not decoded. ok is false, with the
// closing '}' consumed, when the object has no more keys.
func (d *Decoder) NextKey() (key string, ok bool, err error) {
	s := d.s
	var c byte
	if i := d.i; !d.first && i+1 < len(s) && s[i] == ',' && s[i+1] == '"' { // compact `,"key"`
		d.i, c = i+1, '"'
	} else {
		c = d.peek()
		if c == '}' {
			d.i++
			d.first = false
			return "", false, nil
		}
		if !d.first {
			if c != ',' {
				return "", false, d.syntaxErr(d.i, "expected ',' or '}' after object value")
			}
			d.i++
			c = d.peek()
		}
	}
	d.first = false
	if c != '"' {
		return "", false, d.syntaxErr(d.i, "expected string for object key")
	}
	start := d.i + 1
	end := start
	for end < len(s) && strSafe[s[end]] {
		end++
	}
	if end >= len(s) || s[end] != '"' { // an escape, or an error
		var sok bool
		if end, _, sok = scanString(s, end); !sok {
			return "", false, d.stringErr(end)
		}
	}
	if i := end + 1; i < len(s) && s[i] == ':' { // the usual compact form
		d.i = i + 1
		return s[start:end], true, nil
	}
	d.i = end + 1
	if d.peek() != ':' {
		return "", false, d.syntaxErr(d.i, "expected ':' after object key")
	}
	d.i++
	return s[start:end], true, nil
}

// ArrayStart consumes the '[' that opens an array.
func (d *Decoder) ArrayStart() error {
	if d.peek() != '[' {
		return d.typeErr("array")
	}
	d.i++
	d.first = true
	return nil
}

// NextElem moves to the next element of the current array, consuming the
// ',' before it. ok is false, with the closing ']' consumed, when the array
// has no more elements.
func (d *Decoder) NextElem() (ok bool, err error) {
	if i := d.i; !d.first && i+1 < len(d.s) && d.s[i] == ',' && d.s[i+1] > ' ' { // compact ",<value>"
		d.i = i + 1
		return true, nil
	}
	c := d.peek()
	if c == ']' {
		d.i++
		d.first = false
		return false, nil
	}
	if !d.first {
		if c != ',' {
			return false, d.syntaxErr(d.i, "expected ',' or ']' after array element")
		}
		d.i++
		d.peek()
	}
	d.first = false
	return true, nil
}

// TupleElem moves to the next element of a tuple: a JSON array read as a
// row of typed fields, after ArrayStart. It is an error when the array has
// ended.
func TupleElem(d *Decoder) error {
	ok, err := d.NextElem()
	if err == nil && !ok {
		err = errShortTuple
	}
	return err
}

// errShortTuple reports an array with fewer elements than a tuple has fields.
var errShortTuple = errors.New("array has too few elements")

// TupleEnd skips any elements after a tuple's last field (the exchange may
// append columns, as it may add object keys), counting each as an unknown
// key (see SkipUnknown), and consumes the ']'.
func TupleEnd(d *Decoder) error {
	for {
		ok, err := d.NextElem()
		if err != nil || !ok {
			return err
		}
		if err := d.SkipUnknown("", nil); err != nil {
			return err
		}
	}
}

// IsNull skips whitespace and, when the next value is null, consumes it and
// reports true.
func (d *Decoder) IsNull() bool {
	if d.peek() == 'n' && strings.HasPrefix(d.s[d.i:], "null") {
		d.i += 4
		return true
	}
	return false
}

// String reads a JSON string. Without escape sequences the result is a
// substring of the input; with them it is a new, unescaped string (a lone
// UTF-16 surrogate becomes U+FFFD). Other bytes are returned as they are.
func (d *Decoder) String() (string, error) {
	if d.peek() != '"' {
		return "", d.typeErr("string")
	}
	s := d.s
	start := d.i + 1
	end := start
	for end < len(s) && strSafe[s[end]] {
		end++
	}
	if end < len(s) && s[end] == '"' {
		d.i = end + 1
		return s[start:end], nil
	}
	// An escape, or an error.
	end, _, ok := scanString(s, end)
	if !ok {
		return "", d.stringErr(end)
	}
	d.i = end + 1
	return unescape(s[start:end]), nil
}

// Decimal reads a JSON string holding a decimal, such as "0.00100000".
// A JSON null gives the unset Decimal, which is how AppendDecimal writes it.
func (d *Decoder) Decimal() (Decimal, error) {
	if d.peek() != '"' {
		if d.IsNull() {
			return Decimal{}, nil
		}
		return Decimal{}, d.typeErr("string")
	}
	start := d.i + 1
	if end := scanNumber(d.s, start); end >= 0 && end < len(d.s) && d.s[end] == '"' {
		d.i = end + 1
		return Decimal{d.s[start:end]}, nil
	}
	// Escapes or bad text: decode the string, then check it.
	s, err := d.String()
	if err != nil {
		return Decimal{}, err
	}
	if s == "" || scanNumber(s, 0) != len(s) {
		d.i = start - 1
		return Decimal{}, d.syntaxErr(d.i, "invalid decimal "+strconv.Quote(s))
	}
	return Decimal{s}, nil
}

// DecimalNumber reads a bare JSON number and keeps its exact text. A JSON
// null gives the unset Decimal, which is how AppendDecimalNumber writes it.
func (d *Decoder) DecimalNumber() (Decimal, error) {
	if d.IsNull() {
		return Decimal{}, nil
	}
	start, end, err := d.number("number")
	if err != nil {
		return Decimal{}, err
	}
	return Decimal{d.s[start:end]}, nil
}

// number consumes a JSON number token and returns its bounds.
func (d *Decoder) number(want string) (start, end int, err error) {
	c := d.peek()
	if c != '-' && !isDigit(c) {
		return 0, 0, d.typeErr(want)
	}
	start = d.i
	end = scanNumber(d.s, start)
	if end < 0 {
		return 0, 0, d.syntaxErr(start, "invalid number")
	}
	d.i = end
	return start, end, nil
}

// Int reads a JSON integer in the int64 range. A fraction or an exponent
// is an error.
func (d *Decoder) Int() (int64, error) {
	c := d.peek()
	if c != '-' && !isDigit(c) {
		return 0, d.typeErr("integer")
	}
	// Fast path: up to 18 digits cannot overflow.
	s, i := d.s, d.i
	if c == '-' {
		i++
	}
	start := i
	var u uint64
	for stop := min(len(s), start+18); i < stop && isDigit(s[i]); i++ {
		u = u*10 + uint64(s[i]-'0')
	}
	if n := i - start; n > 0 && (n == 1 || s[start] != '0') && (i == len(s) || !numberByte[s[i]]) {
		d.i = i
		if c == '-' {
			return -int64(u), nil
		}
		return int64(u), nil
	}
	v, end, msg := parseInt(s, d.i, true)
	if msg != "" {
		return 0, d.syntaxErr(d.i, msg)
	}
	d.i = end
	return v, nil
}

// IntString reads an integer written inside a JSON string, such as "123".
func (d *Decoder) IntString() (int64, error) {
	if d.peek() != '"' {
		return 0, d.typeErr("string")
	}
	start := d.i
	if v, end, msg := parseInt(d.s, start+1, false); msg == "" && end < len(d.s) && d.s[end] == '"' {
		d.i = end + 1
		return v, nil
	}
	// Escapes or bad text: decode the string, then check it.
	s, err := d.String()
	if err != nil {
		return 0, err
	}
	v, end, msg := parseInt(s, 0, false)
	if msg == "" && end != len(s) {
		msg = "invalid integer"
	}
	if msg != "" {
		d.i = start
		return 0, d.syntaxErr(start, msg+" in string "+strconv.Quote(s))
	}
	return v, nil
}

// Uint reads a non-negative JSON integer in the uint64 range.
func (d *Decoder) Uint() (uint64, error) {
	c := d.peek()
	if c == '-' {
		return 0, d.syntaxErr(d.i, "negative number for unsigned integer")
	}
	if !isDigit(c) {
		return 0, d.typeErr("integer")
	}
	start := d.i
	u, i, over := parseDigits(d.s, start, math.MaxUint64)
	if msg := checkJSONInt(d.s, start, i, over); msg != "" {
		return 0, d.syntaxErr(start, msg)
	}
	d.i = i
	return u, nil
}

// Float reads a JSON number as the nearest float64.
func (d *Decoder) Float() (float64, error) {
	start, end, err := d.number("number")
	if err != nil {
		return 0, err
	}
	f, perr := strconv.ParseFloat(d.s[start:end], 64)
	if perr != nil {
		d.i = start
		return 0, d.syntaxErr(start, "number "+d.s[start:end]+" out of float64 range")
	}
	return f, nil
}

// Bool reads true or false.
func (d *Decoder) Bool() (bool, error) {
	switch d.peek() {
	case 't':
		if strings.HasPrefix(d.s[d.i:], "true") {
			d.i += 4
			return true, nil
		}
	case 'f':
		if strings.HasPrefix(d.s[d.i:], "false") {
			d.i += 5
			return false, nil
		}
	}
	return false, d.typeErr("bool")
}

// Raw returns the verbatim text of the next value, checked by skipping it.
func (d *Decoder) Raw() (Raw, error) {
	d.peek()
	start := d.i
	if err := d.Skip(); err != nil {
		return "", err
	}
	return Raw(d.s[start:d.i]), nil
}

// Skip consumes the next value of any type, checking its syntax.
func (d *Decoder) Skip() error {
	return d.skip(0)
}

// skip consumes one value inside depth open objects and arrays.
func (d *Decoder) skip(depth int) error {
	c := d.peek()
	switch {
	case c == '"':
		end, _, ok := scanString(d.s, d.i+1)
		if !ok {
			return d.stringErr(end)
		}
		d.i = end + 1
		return nil
	case c == '{':
		return d.skipObject(depth + 1)
	case c == '[':
		return d.skipArray(depth + 1)
	case c == '-' || isDigit(c):
		end := scanNumber(d.s, d.i)
		if end < 0 {
			return d.syntaxErr(d.i, "invalid number")
		}
		d.i = end
		return nil
	case c == 't' || c == 'f' || c == 'n':
		if lit := literalAt(d.s, d.i); lit != "" {
			d.i += len(lit)
			return nil
		}
	}
	return d.valueErr()
}

func (d *Decoder) skipObject(depth int) error {
	if depth > maxDepth {
		return d.syntaxErr(d.i, "exceeded max depth")
	}
	d.i++ // '{'
	c := d.peek()
	if c == '}' {
		d.i++
		return nil
	}
	for {
		if c != '"' {
			return d.syntaxErr(d.i, "expected string for object key")
		}
		end, _, ok := scanString(d.s, d.i+1)
		if !ok {
			return d.stringErr(end)
		}
		d.i = end + 1
		if d.peek() != ':' {
			return d.syntaxErr(d.i, "expected ':' after object key")
		}
		d.i++
		if err := d.skip(depth); err != nil {
			return err
		}
		switch d.peek() {
		case '}':
			d.i++
			return nil
		case ',':
			d.i++
			c = d.peek()
		default:
			return d.syntaxErr(d.i, "expected ',' or '}' after object value")
		}
	}
}

func (d *Decoder) skipArray(depth int) error {
	if depth > maxDepth {
		return d.syntaxErr(d.i, "exceeded max depth")
	}
	d.i++ // '['
	if d.peek() == ']' {
		d.i++
		return nil
	}
	for {
		if err := d.skip(depth); err != nil {
			return err
		}
		switch d.peek() {
		case ']':
			d.i++
			return nil
		case ',':
			d.i++
		default:
			return d.syntaxErr(d.i, "expected ',' or ']' after array element")
		}
	}
}

// countElems estimates the elements of the array whose '[' was just
// consumed, without moving the decoder: it counts the commas outside strings
// and nested values up to the array's closing bracket. It does not validate
// (the decoding pass that follows does), so on bad input the count is only a
// capacity hint.
func (d *Decoder) countElems() int {
	s := d.s
	n, depth, some := 0, 0, false
	for i := d.i; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 {
				if some {
					n++
				}
				return n
			}
			depth--
		case ',':
			if depth == 0 {
				n++
			}
		}
		if c > ' ' && c != ']' {
			some = true
		}
	}
	return n
}

// End checks that only whitespace is left.
func (d *Decoder) End() error {
	if d.peek(); d.i < len(d.s) {
		return d.syntaxErr(d.i, "invalid character "+quoteByte(d.s[d.i])+" after top-level value")
	}
	return nil
}

// DecodeArray reads a JSON array, appending each element decoded by elem to
// dst, and returns the extended slice. Pass dst[:0] to reuse its capacity.
// A JSON null gives a nil slice; an empty array gives a non-nil empty slice.
//
// elem receives a *Decoder that is valid only during the call and must not
// be kept. It is a pooled stand-in for d, so that d itself does not escape
// to the heap because of the indirect call.
func DecodeArray[T any](d *Decoder, dst []T, elem func(*T, *Decoder) error) ([]T, error) {
	if d.IsNull() {
		return nil, nil
	}
	if err := d.ArrayStart(); err != nil {
		return dst, err
	}
	dst, lent := ArrayRoom(d, dst)
	sub := subPool.Get().(*Decoder)
	*sub = *d
	var err error
	for {
		var ok bool
		if ok, err = sub.NextElem(); err != nil || !ok {
			break
		}
		var zero T
		dst = append(dst, zero)
		if err = elem(&dst[len(dst)-1], sub); err != nil {
			break
		}
	}
	*d = *sub
	*sub = Decoder{} // do not keep the payload alive from the pool
	subPool.Put(sub)
	return ArrayKeep(d, dst, lent), err
}

// ArrayRoom returns where to decode the array whose '[' d just consumed
// (see ArrayStart): dst itself when it has capacity, to be reused as it is
// and grown by append; otherwise, when d.Slab holds a *Slab[T], the slab's
// scratch slice (lent is true), which ArrayKeep copies into slab memory at
// its final length, so that the elements are neither counted first nor
// allocated twice; otherwise a new slice with room for the elements, counted
// by the commas between them. Every ArrayRoom must be followed by an
// ArrayKeep with its results.
func ArrayRoom[T any](d *Decoder, dst []T) (buf []T, lent bool) {
	if cap(dst) != 0 {
		return dst, false
	}
	slab, ok := d.Slab.(*Slab[T])
	if !ok {
		return make([]T, 0, d.countElems()), false
	}
	if slab.lent {
		return slab.Take(d.countElems()), false // an array of T inside an element of one
	}
	slab.lent = true
	return slab.scratch[:0], true
}

// ArrayKeep returns the array that buf, from ArrayRoom, holds: buf itself
// unless lent, and otherwise a copy of it carved from the slab, the scratch
// slice kept (cleared) for the next array.
func ArrayKeep[T any](d *Decoder, buf []T, lent bool) []T {
	if !lent {
		return buf
	}
	slab := d.Slab.(*Slab[T])
	out := append(slab.Take(len(buf)), buf...)
	clear(buf) // do not keep the payload's strings alive
	if cap(buf) <= maxScratch {
		slab.scratch = buf[:0]
	}
	slab.lent = false
	return out
}

// maxScratch is the most elements of scratch space a Slab keeps between
// arrays (an order-book snapshot of 5,000 levels takes 10,000).
const maxScratch = 1 << 14

// subPool holds the stand-in decoders DecodeArray passes to elem functions.
var subPool = sync.Pool{New: func() any { return new(Decoder) }}

// DecodeArrayOrOne is DecodeArray for payloads that the exchange sends
// either as an array or as a single object: an object becomes an array of
// one.
func DecodeArrayOrOne[T any](d *Decoder, dst []T, elem func(*T, *Decoder) error) ([]T, error) {
	if d.peek() != '{' {
		return DecodeArray(d, dst, elem)
	}
	var zero T
	dst = append(dst[:0], zero)
	sub := subPool.Get().(*Decoder)
	*sub = *d
	err := elem(&dst[0], sub)
	*d = *sub
	*sub = Decoder{}
	subPool.Put(sub)
	return dst, err
}

// ReadString decodes a string element; see Decoder.String.
func ReadString(v *string, d *Decoder) error {
	s, err := d.String()
	*v = s
	return err
}

// ReadDecimal decodes a quoted decimal element; see Decoder.Decimal.
func ReadDecimal(v *Decimal, d *Decoder) error {
	x, err := d.Decimal()
	*v = x
	return err
}

// ReadInt decodes an integer element; see Decoder.Int.
func ReadInt(v *int64, d *Decoder) error {
	x, err := d.Int()
	*v = x
	return err
}

// ReadBool decodes a bool element; see Decoder.Bool.
func ReadBool(v *bool, d *Decoder) error {
	x, err := d.Bool()
	*v = x
	return err
}

// ReadFloat decodes a number element; see Decoder.Float.
func ReadFloat(v *float64, d *Decoder) error {
	x, err := d.Float()
	*v = x
	return err
}

// strSafe marks the bytes that may appear in a JSON string as they are.
var strSafe = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString scans the body of a JSON string starting at s[i], just after
// the opening quote. It returns the offset of the closing quote and whether
// the body holds escape sequences. When the string is malformed ok is false
// and end is the offset of the problem (len(s) when it is unterminated).
func scanString(s string, i int) (end int, esc, ok bool) {
	for {
		for i < len(s) && strSafe[s[i]] {
			i++
		}
		if i >= len(s) {
			return len(s), esc, false
		}
		switch s[i] {
		case '"':
			return i, esc, true
		case '\\':
			esc = true
			if i+1 >= len(s) {
				return len(s), esc, false
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := i + 2; k < i+6; k++ {
					if k >= len(s) {
						return len(s), esc, false
					}
					if !isHex(s[k]) {
						return i, esc, false
					}
				}
				i += 6
			default:
				return i, esc, false
			}
		default: // a control character
			return i, esc, false
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f'
}

// unescape decodes the body of a string that scanString accepted.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s)) // unescaping never makes a string longer
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			j := strings.IndexByte(s[i:], '\\')
			if j < 0 {
				j = len(s) - i
			}
			b.WriteString(s[i : i+j])
			i += j
			continue
		}
		switch s[i+1] {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r := hex4(s[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if pair := utf16.DecodeRune(r, hex4(s[i+2:i+6])); pair != utf8.RuneError {
						b.WriteRune(pair)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			b.WriteRune(r)
			continue
		default: // '"', '\\', '/'
			b.WriteByte(s[i+1])
		}
		i += 2
	}
	return b.String()
}

// hex4 decodes four hex digits that scanString checked.
func hex4(s string) rune {
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case c <= '9':
			c -= '0'
		default:
			c = c | 0x20 - 'a' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// numberByte marks the bytes that can continue a JSON number.
var numberByte = [256]bool{'0': true, '1': true, '2': true, '3': true, '4': true,
	'5': true, '6': true, '7': true, '8': true, '9': true, '.': true, 'e': true, 'E': true}

// parseDigits reads decimal digits from s[i] and returns their value, the
// offset after them, and whether the value exceeds limit.
func parseDigits(s string, i int, limit uint64) (v uint64, end int, over bool) {
	start := i
	for ; i < len(s) && isDigit(s[i]); i++ {
		c := uint64(s[i] - '0')
		// 19 digits always fit in a uint64; check from the 20th on.
		if i-start >= 19 && v > (math.MaxUint64-c)/10 {
			over = true
			continue
		}
		v = v*10 + c
	}
	return v, i, over || v > limit
}

// parseInt reads an optionally negative integer from s[i]. In JSON mode it
// also rejects leading zeros and a following fraction or exponent. msg is
// empty on success.
func parseInt(s string, i int, json bool) (v int64, end int, msg string) {
	start := i
	neg := i < len(s) && s[i] == '-'
	if neg {
		i++
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	u, end, over := parseDigits(s, i, limit)
	if end == i {
		return 0, end, "invalid integer"
	}
	if json {
		if msg := checkJSONInt(s, start, end, over); msg != "" {
			return 0, end, msg
		}
	} else if over {
		return 0, end, "integer " + s[start:end] + " overflows"
	}
	if neg {
		return int64(-u), end, ""
	}
	return int64(u), end, ""
}

// checkJSONInt checks the integer token s[start:end] in JSON text.
func checkJSONInt(s string, start, end int, over bool) string {
	digits := start
	if s[digits] == '-' {
		digits++
	}
	if end == digits || s[digits] == '0' && end > digits+1 {
		return "invalid number"
	}
	if end < len(s) && (s[end] == '.' || s[end]|0x20 == 'e') {
		if n := scanNumber(s, start); n > 0 {
			end = n
		}
		return "number " + s[start:end] + " is not an integer"
	}
	if over {
		return "integer " + s[start:end] + " overflows"
	}
	return ""
}

// literalAt returns the literal true, false or null that starts s[i:], or "".
func literalAt(s string, i int) string {
	for _, lit := range [...]string{"true", "false", "null"} {
		if strings.HasPrefix(s[i:], lit) {
			return lit
		}
	}
	return ""
}

// kindOf names the type of the value starting at s[i], or "" when no valid
// value starts there.
func kindOf(s string, i int) string {
	switch c := s[i]; {
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == '"':
		return "string"
	case c == '-' || isDigit(c):
		return "number"
	case c == 't' || c == 'f':
		if literalAt(s, i) != "" {
			return "bool"
		}
	case c == 'n':
		if literalAt(s, i) != "" {
			return "null"
		}
	}
	return ""
}

// typeErr reports that the value at the current offset is not of type want.
func (d *Decoder) typeErr(want string) error {
	if d.i >= len(d.s) {
		return &TypeError{Offset: d.i, Want: want, Got: "end of input"}
	}
	if got := kindOf(d.s, d.i); got != "" {
		return &TypeError{Offset: d.i, Want: want, Got: got}
	}
	return d.valueErr()
}

// valueErr reports that no valid value starts at the current offset.
func (d *Decoder) valueErr() error {
	if d.i >= len(d.s) {
		return d.syntaxErr(d.i, "unexpected end of input")
	}
	return d.syntaxErr(d.i, "invalid character "+quoteByte(d.s[d.i])+" looking for beginning of value")
}

// stringErr reports a malformed string; off is where scanString stopped.
func (d *Decoder) stringErr(off int) error {
	switch {
	case off >= len(d.s):
		return d.syntaxErr(off, "unexpected end of input in string")
	case d.s[off] == '\\':
		return d.syntaxErr(off, "invalid escape sequence in string")
	}
	return d.syntaxErr(off, "invalid control character "+quoteByte(d.s[off])+" in string")
}

func (d *Decoder) syntaxErr(off int, msg string) error {
	return &SyntaxError{Offset: off, Msg: msg}
}

// quoteByte quotes a byte for an error message.
func quoteByte(c byte) string {
	if c < utf8.RuneSelf {
		return strconv.QuoteRune(rune(c))
	}
	return "byte 0x" + strconv.FormatUint(uint64(c), 16)
}
