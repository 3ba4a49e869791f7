package wire

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// Raw is the verbatim JSON text of a value, kept for payload parts the
// schema does not describe.
type Raw string

// AppendString appends s as a quoted JSON string. It escapes '"', '\\' and
// control characters, keeps valid UTF-8 (including '<', '>' and '&') as it
// is, and replaces each invalid UTF-8 byte with \ufffd.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				const hex = "0123456789abcdef"
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendDecimal appends v as a quoted string, or null when unset.
func AppendDecimal(dst []byte, v Decimal) []byte {
	if v.s == "" {
		return append(dst, "null"...)
	}
	dst = append(dst, '"')
	dst = append(dst, v.s...)
	return append(dst, '"')
}

// AppendDecimalNumber appends v as a bare JSON number, or null when unset.
func AppendDecimalNumber(dst []byte, v Decimal) []byte {
	if v.s == "" {
		return append(dst, "null"...)
	}
	return append(dst, v.s...)
}

// AppendInt appends v as a JSON number.
func AppendInt(dst []byte, v int64) []byte {
	return strconv.AppendInt(dst, v, 10)
}

// AppendIntString appends v as a quoted integer, such as "123".
func AppendIntString(dst []byte, v int64) []byte {
	dst = append(dst, '"')
	dst = strconv.AppendInt(dst, v, 10)
	return append(dst, '"')
}

// AppendUint appends v as a JSON number.
func AppendUint(dst []byte, v uint64) []byte {
	return strconv.AppendUint(dst, v, 10)
}

// AppendFloat appends v in the shortest form that reads back as the same
// float64, as encoding/json writes it. NaN and infinities, which JSON
// cannot hold, are written as null.
func AppendFloat(dst []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(dst, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(v); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, v, format, -1, 64)
	if format == 'e' {
		// Shorten a two-digit negative exponent: 1e-07 becomes 1e-7.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// AppendBool appends true or false.
func AppendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

// AppendRaw appends v verbatim, or null when it is empty.
func AppendRaw(dst []byte, v Raw) []byte {
	if v == "" {
		return append(dst, "null"...)
	}
	return append(dst, v...)
}
