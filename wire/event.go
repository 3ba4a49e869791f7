package wire

import (
	"errors"
	"strings"
	"unsafe"
)

// UnknownEvent is an event whose kind the schema does not describe. Dispatch
// functions return it instead of an error, so that an event kind the
// exchange adds never stops a stream.
type UnknownEvent struct {
	Kind string // the value of the dispatch key, e.g. "SOMETHING_NEW"
	Raw  Raw    // the whole payload
}

// NewUnknownEvent returns an UnknownEvent holding a copy of data.
func NewUnknownEvent(kind string, data []byte) *UnknownEvent {
	return &UnknownEvent{Kind: strings.Clone(kind), Raw: Raw(data)}
}

// AppendJSON appends the raw payload to dst.
func (e *UnknownEvent) AppendJSON(dst []byte) []byte { return AppendRaw(dst, e.Raw) }

// MarshalJSON returns the raw payload.
func (e UnknownEvent) MarshalJSON() ([]byte, error) { return e.AppendJSON(nil), nil }

// UnmarshalJSON keeps a copy of data; Kind is left as it is.
func (e *UnknownEvent) UnmarshalJSON(data []byte) error {
	var d Decoder
	d.Reset(data)
	if err := d.Skip(); err != nil {
		return err
	}
	if err := d.End(); err != nil {
		return err
	}
	e.Raw = Raw(data)
	return nil
}

// LookupString returns the string value of key in the top-level JSON object
// data, without decoding the rest; found is false when the object has no
// such key. The result shares memory with data: it is valid only until data
// changes, so copy it to keep it.
func LookupString(data []byte, key string) (value string, found bool, err error) {
	d, found, err := lookup(data, key)
	if err != nil || !found {
		return "", found, err
	}
	value, err = d.String()
	return value, err == nil, err
}

// LookupRaw returns the raw JSON text of key's value in the top-level JSON
// object data, as a sub-slice of data; found is false when there is no such
// key.
func LookupRaw(data []byte, key string) (value []byte, found bool, err error) {
	d, found, err := lookup(data, key)
	if err != nil || !found {
		return nil, found, err
	}
	start := d.Offset()
	if err := d.Skip(); err != nil {
		return nil, false, err
	}
	// Skip stops after the value; leading white space was skipped by it too.
	raw := bytesTrimSpace(data[start:d.Offset()])
	return raw, true, nil
}

// lookup positions a decoder over data at the value of key.
func lookup(data []byte, key string) (d *Decoder, found bool, err error) {
	if len(data) == 0 {
		return nil, false, &TypeError{Want: "object", Got: "end of input"}
	}
	d = new(Decoder)
	d.ResetString(unsafe.String(&data[0], len(data)))
	if err := d.ObjectStart(); err != nil {
		return nil, false, err
	}
	for {
		k, ok, err := d.NextKey()
		if err != nil || !ok {
			return nil, false, err
		}
		if k == key {
			return d, true, nil
		}
		if err := d.Skip(); err != nil {
			return nil, false, err
		}
	}
}

func bytesTrimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// ErrMissing reports a key that a payload must have.
var ErrMissing = errors.New("missing")
