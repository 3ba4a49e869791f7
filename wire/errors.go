package wire

import (
	"strconv"
	"strings"
)

// SyntaxError reports malformed JSON at a byte offset of the input.
type SyntaxError struct {
	Offset int    // byte offset in the input where the problem was found
	Msg    string // what was wrong
}

// Error returns "wire: offset N: msg".
func (e *SyntaxError) Error() string {
	return "wire: offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// TypeError reports a JSON value of another type than the one asked for.
type TypeError struct {
	Offset int    // byte offset of the value
	Want   string // the type asked for, e.g. "string", "integer", "object"
	Got    string // object, array, string, number, bool, null or "end of input"
}

// Error returns "expected <Want>, got <Got>".
func (e *TypeError) Error() string {
	return "expected " + e.Want + ", got " + e.Got
}

// FieldError wraps the failure to decode one field of an event.
type FieldError struct {
	Market string // schema market name, e.g. "spot"
	Event  string // event or type name, e.g. "aggTrade"
	Key    string // JSON key; a dotted path ("k.o") for nested objects; "" for the value as a whole
	Err    error  // the underlying error
}

// Error returns `market: decode event field "key": err`; an empty market,
// event or key is left out.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Market != "" {
		b.WriteString(e.Market + ": ")
	}
	b.WriteString("decode")
	if e.Event != "" {
		b.WriteString(" " + e.Event)
	}
	if e.Key != "" {
		b.WriteString(" field " + strconv.Quote(e.Key))
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("<nil>")
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *FieldError) Unwrap() error { return e.Err }

// NewFieldError wraps err, the failure to decode field key of an event.
// It returns nil when err is nil.
//
// When err is itself a *FieldError (a field of a nested object failed), the
// result keeps its underlying error and joins the keys into a path: outer
// key "k" around inner key "o" gives "k.o". Market and Event are the outer
// ones. An empty key stands for the whole value (a generated UnmarshalJSON
// uses it) and adds nothing to the path.
func NewFieldError(market, event, key string, err error) error {
	if err == nil {
		return nil
	}
	if fe, ok := err.(*FieldError); ok {
		switch {
		case key == "":
			key = fe.Key
		case fe.Key != "":
			key += "." + fe.Key
		}
		err = fe.Err
	}
	return &FieldError{Market: market, Event: event, Key: key, Err: err}
}

// EventError reports a payload whose event-kind key names another event
// than the one its decoder reads, such as a trade arriving where an
// aggTrade was expected. Generated decoders return it wrapped in a
// FieldError for the key.
type EventError struct {
	Got  string   // the kind the payload names
	Want []string // the kinds the decoder accepts
}

// Error returns `event "trade", want "aggTrade"` (or `want one of ...`).
func (e *EventError) Error() string {
	var b strings.Builder
	b.WriteString("event " + strconv.Quote(e.Got) + ", want ")
	if len(e.Want) > 1 {
		b.WriteString("one of ")
	}
	for i, w := range e.Want {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(w))
	}
	return b.String()
}

// NewEventError returns an EventError for the kind got; it copies got,
// which may point into a payload buffer that will be reused.
func NewEventError(got string, want []string) error {
	return &EventError{Got: strings.Clone(got), Want: want}
}
