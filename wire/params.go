package wire

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
)

// ErrRequired reports a required stream parameter left empty.
var ErrRequired = errors.New("is required")

// ParamError reports an invalid stream parameter, before anything is sent.
type ParamError struct {
	Market string // schema market name, e.g. "spot"
	Stream string // schema stream name, e.g. "kline"
	Param  string // parameter name as in the template, e.g. "interval"
	Err    error  // what is wrong with it
}

// Error returns `spot: stream kline: parameter interval: ...`.
func (e *ParamError) Error() string {
	return e.Market + ": stream " + e.Stream + ": parameter " + e.Param + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *ParamError) Unwrap() error { return e.Err }

// EnumError reports a value outside an enum's set.
type EnumError struct {
	Enum    string   // Go type name, e.g. "Interval"
	Value   string   // the rejected value
	Allowed []string // every valid value
}

// Error names the value and the allowed values.
func (e *EnumError) Error() string {
	what := strconv.Quote(e.Value) + " is not a valid " + e.Enum
	if e.Value == "" {
		what = "empty; it must be a " + e.Enum
	}
	return what + " (allowed: " + strings.Join(e.Allowed, ", ") + ")"
}

// PatternError reports a parameter that does not match its pattern.
type PatternError struct {
	Value   string
	Pattern string
}

// Error names the value and the pattern.
func (e *PatternError) Error() string {
	return strconv.Quote(e.Value) + " does not match " + e.Pattern
}

// UnknownStreamError reports a stream name that no stream of a market has.
type UnknownStreamError struct {
	Market string
	Name   string
}

// Error names the market and the stream name.
func (e *UnknownStreamError) Error() string {
	return e.Market + ": unknown stream " + strconv.Quote(e.Name)
}

// CheckSymbol reports whether s can stand for an instrument in a stream
// name: not empty, and free of white space and the characters @ / ! < > [ ]
// that structure stream names and URLs. Non-ASCII letters are allowed
// (Binance lists such symbols).
func CheckSymbol(s string) error {
	if s == "" {
		return ErrRequired
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("@/!<>[]?&#%\"", r) {
			return errors.New(strconv.Quote(s) + " is not a valid symbol (it contains " + strconv.QuoteRune(r) + ")")
		}
	}
	return nil
}
