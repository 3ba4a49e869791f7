package wire

import (
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

// PeekString returns the string value of key in the top-level JSON object
// data, without decoding the rest. The result shares memory with data: it is
// valid only until data changes, so copy it to keep it.
func PeekString(data []byte, key string) (string, error) {
	if len(data) == 0 {
		return "", &TypeError{Want: "object", Got: "end of input"}
	}
	var d Decoder
	d.ResetString(unsafe.String(&data[0], len(data)))
	if err := d.ObjectStart(); err != nil {
		return "", err
	}
	for {
		k, ok, err := d.NextKey()
		if err != nil {
			return "", err
		}
		if !ok {
			return "", &TypeError{Offset: d.Offset(), Want: "key " + key, Got: "end of object"}
		}
		if k == key {
			return d.String()
		}
		if err := d.Skip(); err != nil {
			return "", err
		}
	}
}
