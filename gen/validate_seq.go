package gen

import (
	"fmt"
	"strconv"
	"strings"
)

// seqKinds are the sequence kinds of the schema, as runtime.SeqKind names
// them, with the Go constant each becomes.
var seqKinds = map[string]string{
	"none":        "SeqNone",
	"consecutive": "SeqConsecutive",
	"linked":      "SeqLinked",
	"increasing":  "SeqIncreasing",
	"time":        "SeqTime",
}

// timeScale is how a time field becomes milliseconds in a sequence key:
// multiply by mul, then divide by div.
var timeScale = map[string]struct{ mul, div int64 }{
	"time_s": {1000, 1}, "time_ms": {1, 1}, "time_us": {1, 1000}, "time_ns": {1, 1000000},
}

// sequence checks a stream's sequence key: it must be declared, its kind
// known, its keys the right ones for the kind, and each key must name a
// required integer or time field of the payload (of every type its dispatch
// group decodes, for a stream decoded whole).
func (v *validator) sequence(s *Stream, types map[string]*Type, groups []*Dispatch, where string) {
	q := s.Sequence
	if q == nil {
		v.errf(s.Line, "%sno sequence: declare the payload fields that order its events, e.g. sequence: {kind: time, id: E}, or sequence: {kind: none} when the payload has none", where)
		return
	}
	where += "sequence: "
	if _, ok := seqKinds[q.Kind]; !ok {
		v.errf(q.Line, "%skind %q is not one of none, consecutive, linked, increasing, time", where, q.Kind)
		return
	}
	if q.Kind == "none" {
		if q.ID != "" || q.First != "" || q.Last != "" || q.Prev != "" {
			v.errf(q.Line, "%skind none takes no keys", where)
		}
		return
	}
	switch {
	case q.ID != "" && (q.First != "" || q.Last != ""):
		v.errf(q.Line, "%sgive either id or first and last, not both", where)
		return
	case q.ID == "" && (q.First == "" || q.Last == ""):
		v.errf(q.Line, "%skind %s needs id, or first and last", where, q.Kind)
		return
	case q.Kind == "linked" && q.Prev == "":
		v.errf(q.Line, "%skind linked needs prev (the key holding the last of the previous event)", where)
		return
	case q.Kind != "linked" && q.Prev != "":
		v.errf(q.Line, "%sprev applies to kind linked only", where)
		return
	case q.Kind == "linked" && s.Array:
		v.errf(q.Line, "%skind linked does not apply to an array payload", where)
		return
	}
	// The types whose values the stream's decoder returns.
	var payloads []*Type
	if t := types[s.Payload]; t != nil {
		payloads = append(payloads, t)
	}
	for _, g := range groups {
		if s.Dispatch != "" && g.Name == s.Dispatch {
			for _, name := range append([]string{g.Default}, g.Types...) {
				if t := types[name]; t != nil && name != s.Payload {
					payloads = append(payloads, t)
				}
			}
		}
	}
	for _, key := range []string{q.ID, q.First, q.Last, q.Prev} {
		if key == "" {
			continue
		}
		for _, t := range payloads {
			f, err := seqField(t, key, types)
			if err != "" {
				v.errf(q.Line, "%skey %q: %s", where, key, err)
				continue
			}
			_, isTime := timeScale[f.Type]
			isInt := f.Type == "int" || f.Type == "uint"
			switch {
			case isInt || isTime && q.Kind == "time":
			case q.Kind == "time":
				v.errf(q.Line, "%skey %q: field %q of %s is a %s, not a time or an integer", where, key, f.Name, t.Name, f.Type)
			default:
				v.errf(q.Line, "%skey %q: field %q of %s is a %s; a key of kind %s must be an integer (int or uint)", where, key, f.Name, t.Name, f.Type, q.Kind)
			}
		}
	}
}

// seqField resolves a sequence key path in type t: wire keys joined by dots,
// element indexes for tuples. Every field on the way must be required,
// non-nullable and not a slice. It returns the problem as text.
func seqField(t *Type, path string, types map[string]*Type) (*Field, string) {
	parts := strings.Split(path, ".")
	for i, part := range parts {
		var f *Field
		if t.Tuple {
			if n, err := strconv.Atoi(part); err == nil && n >= 0 && n < len(t.Fields) {
				f = t.Fields[n]
			}
		} else {
			for _, x := range t.Fields {
				if x.Key == part {
					f = x
				}
			}
		}
		if f == nil {
			what := "a key"
			if t.Tuple {
				what = "an element index"
			}
			return nil, fmt.Sprintf("%q is not %s of %s", part, what, t.Name)
		}
		switch {
		case f.Optional || f.Nullable:
			return nil, fmt.Sprintf("field %q of %s is optional or nullable; a sequence key must always be there", f.Name, t.Name)
		case strings.HasPrefix(f.Type, "[]"):
			return nil, fmt.Sprintf("field %q of %s is a list", f.Name, t.Name)
		}
		if i == len(parts)-1 {
			if types[f.Type] != nil {
				return nil, fmt.Sprintf("field %q of %s is an object, not a number", f.Name, t.Name)
			}
			return f, ""
		}
		if t = types[f.Type]; t == nil {
			return nil, fmt.Sprintf("field %q is not an object, so %q has nothing inside it", f.Name, strings.Join(parts[:i+1], "."))
		}
	}
	return nil, "empty key"
}
