package gen

import (
	"slices"
	"strconv"
	"strings"
)

// bookFirst maps the schema's first-event rules to orderbook.FirstRule
// constants, with the diff-stream sequence kind each requires.
var bookFirst = map[string]struct{ constant, kind string }{
	"next":     {"FirstNext", "consecutive"},
	"covering": {"FirstCovering", "linked"},
}

// orderBook checks a market's order_book block: it has a diff stream (with
// its REST snapshot), snapshot streams, or both. A block with snapshot
// streams only sets nothing of the diff stream and the REST snapshot.
func (v *validator) orderBook(b *OrderBook, m *Market, types map[string]*Type, enums map[string]*Enum, where string) {
	where += "order_book: "
	switch {
	case b.Diff == "" && len(b.Snapshots) == 0:
		v.errf(b.Line, "%sneeds a diff stream, snapshot streams, or both", where)
	case b.Diff != "":
		v.bookDiff(b, m, types, enums, where)
	default:
		set := []struct {
			key string
			set bool
		}{
			{"diff_params", len(b.DiffParams) > 0}, {"bids", b.Bids != ""}, {"asks", b.Asks != ""},
			{"first", b.First != ""}, {"path", b.Path != ""}, {"rest", len(b.REST) > 0},
			{"update_id", b.UpdateID != ""}, {"limit", b.Limit != nil}, {"weights", len(b.Weights) > 0},
			{"weight_per_minute", b.WeightPerMinute != 0},
		}
		for _, k := range set {
			if k.set {
				v.errf(b.Line, "%s%s needs a diff stream (the block has snapshot streams only)", where, k.key)
			}
		}
	}
	names := unique{what: "snapshot stream"}
	for _, sn := range b.Snapshots {
		v.unique(&names, sn.Stream, sn.Line, where+"snapshots: ")
		v.bookSnapshot(sn, m, types, enums, where+"snapshots: ")
	}
}

// bookDiff checks the diff half of an order_book block: its diff stream
// exists, takes a symbol and every other parameter from diff_params,
// reveals gaps (a consecutive or linked sequence that matches the
// first-event rule), and carries the bids and asks as lists of [price,
// quantity] decimal tuples; the snapshot has a path, REST hosts, and
// limits whose weights cover them.
func (v *validator) bookDiff(b *OrderBook, m *Market, types map[string]*Type, enums map[string]*Enum, where string) {
	var diff *Stream
	for _, s := range m.Streams {
		if s.Name == b.Diff {
			diff = s
		}
	}
	if diff == nil {
		v.errf(b.Line, "%sdiff %q is not a stream of the market", where, b.Diff)
		return
	}
	rule, ok := bookFirst[b.First]
	switch {
	case !ok:
		v.errf(b.Line, "%sfirst %q is not next or covering", where, b.First)
	case diff.Sequence == nil || diff.Sequence.Kind != rule.kind:
		v.errf(b.Line, "%sfirst %s needs a diff stream whose sequence kind is %s", where, b.First, rule.kind)
	}
	hasSymbol := false
	for _, p := range diff.Params {
		switch val, set := b.DiffParams[p.Name]; {
		case p.Name == "symbol" && (p.Type == "symbol" || p.Type == "string"):
			hasSymbol = true
		case !set && !p.Optional && p.Default == "":
			v.errf(b.Line, "%sdiff_params: no value for parameter %q of stream %q", where, p.Name, b.Diff)
		case set && enums[p.Type] != nil && !slices.Contains(enums[p.Type].Values, val):
			v.errf(b.Line, "%sdiff_params: %q is not a %s value", where, val, p.Type)
		}
	}
	if !hasSymbol {
		v.errf(b.Line, "%sdiff stream %q has no symbol parameter", where, b.Diff)
	}
	for name := range b.DiffParams {
		if name == "symbol" || !slices.ContainsFunc(diff.Params, func(p *Param) bool { return p.Name == name }) {
			v.errf(b.Line, "%sdiff_params: %q is not a settable parameter of stream %q", where, name, b.Diff)
		}
	}
	payload := types[diff.Payload]
	for _, key := range []string{b.Bids, b.Asks} {
		if payload == nil || diff.Array {
			v.errf(b.Line, "%sdiff stream %q has no object payload", where, b.Diff)
			break
		}
		if !levelsField(payload, key, types) {
			v.errf(b.Line, "%sbids and asks: %q is not a list of [price, quantity] decimal tuples in %s", where, key, payload.Name)
		}
	}
	if b.Path == "" || !strings.HasPrefix(b.Path, "/") {
		v.errf(b.Line, "%spath %q must be an absolute URL path", where, b.Path)
	}
	if len(b.REST) == 0 {
		v.errf(b.Line, "%sno rest hosts", where)
	}
	hosts := unique{what: "rest host"}
	for _, e := range b.REST {
		v.unique(&hosts, e.Name, e.Line, where)
		if !strings.HasPrefix(e.URL, "https://") && !strings.HasPrefix(e.URL, "http://") {
			v.errf(e.Line, "%srest %q: url %q must start with https:// or http://", where, e.Name, e.URL)
		}
	}
	if b.UpdateID == "" {
		v.errf(b.Line, "%sno update_id", where)
	}
	if b.WeightPerMinute < 0 {
		v.errf(b.Line, "%sweight_per_minute %d is negative", where, b.WeightPerMinute)
	}
	l := b.Limit
	if l == nil {
		v.errf(b.Line, "%sno limit", where)
		return
	}
	top := l.Max
	switch {
	case len(l.Values) > 0 && l.Max != 0:
		v.errf(l.Line, "%slimit: give either max or values, not both", where)
	case len(l.Values) > 0:
		for i, n := range l.Values {
			if n < 1 || i > 0 && n <= l.Values[i-1] {
				v.errf(l.Line, "%slimit: values must be positive and strictly ascending", where)
				break
			}
		}
		top = l.Values[len(l.Values)-1]
		if !slices.Contains(l.Values, l.Default) {
			v.errf(l.Line, "%slimit: default %d is not one of the values", where, l.Default)
		}
	case l.Max < 1:
		v.errf(l.Line, "%slimit: needs max or values", where)
	case l.Default < 1 || l.Default > l.Max:
		v.errf(l.Line, "%slimit: default %d is not within 1..%d", where, l.Default, l.Max)
	}
	prev := 0
	for _, w := range b.Weights {
		if w.UpTo <= prev || w.Weight < 1 {
			v.errf(w.Line, "%sweights: up_to must ascend and weight be positive", where)
		}
		prev = w.UpTo
	}
	if prev < top {
		v.errf(b.Line, "%sweights cover limits up to %d, not %d", where, prev, top)
	}
}

// levelsField reports whether key is a required list of two-decimal tuples
// in t.
func levelsField(t *Type, key string, types map[string]*Type) bool {
	for _, f := range t.Fields {
		if f.Key != key {
			continue
		}
		name, slice := strings.CutPrefix(f.Type, "[]")
		lt := types[name]
		if !slice || lt == nil || !lt.Tuple || len(lt.Fields) != 2 {
			return false
		}
		return lt.Fields[0].Type == "decimal" && lt.Fields[1].Type == "decimal"
	}
	return false
}

// bookSnapshot checks one of an order_book's snapshot streams: it exists
// and takes a symbol, its levels parameter is an enum of positive integers,
// params sets every other parameter it needs, its payload carries the bids
// and asks as lists of [price, quantity] decimal tuples, and update_id is
// an int member that its sequence declares (the id, or the last id), so
// that a message going backwards is told by it.
func (v *validator) bookSnapshot(sn *BookSnapshot, m *Market, types map[string]*Type, enums map[string]*Enum, where string) {
	var st *Stream
	for _, s := range m.Streams {
		if s.Name == sn.Stream {
			st = s
		}
	}
	if st == nil {
		v.errf(sn.Line, "%sstream %q is not a stream of the market", where, sn.Stream)
		return
	}
	where += sn.Stream + ": "
	switch {
	case sn.Levels == "" && sn.FixedLevels == 0:
		v.errf(sn.Line, "%sneeds levels (the parameter choosing the levels per side) or fixed_levels (a fixed depth)", where)
	case sn.Levels != "" && sn.FixedLevels != 0:
		v.errf(sn.Line, "%sgive either levels or fixed_levels, not both", where)
	case sn.FixedLevels < 0:
		v.errf(sn.Line, "%sfixed_levels %d is not positive", where, sn.FixedLevels)
	case sn.DefaultLevels != 0 && sn.Levels == "":
		v.errf(sn.Line, "%sdefault_levels needs levels, an optional parameter", where)
	case sn.DefaultLevels < 0:
		v.errf(sn.Line, "%sdefault_levels %d is not positive", where, sn.DefaultLevels)
	}
	hasSymbol, hasLevels := false, sn.Levels == ""
	for _, p := range st.Params {
		val, set := sn.Params[p.Name]
		switch {
		case p.Name == "symbol" && (p.Type == "symbol" || p.Type == "string"):
			hasSymbol = true
		case p.Name == sn.Levels:
			hasLevels = true
			v.bookLevels(sn, p, enums, where)
		case !set && !p.Optional && p.Default == "":
			v.errf(sn.Line, "%sparams: no value for parameter %q", where, p.Name)
		case set && enums[p.Type] != nil && !slices.Contains(enums[p.Type].Values, val):
			v.errf(sn.Line, "%sparams: %q is not a %s value", where, val, p.Type)
		}
	}
	if !hasSymbol {
		v.errf(sn.Line, "%sstream has no symbol parameter", where)
	}
	if !hasLevels {
		v.errf(sn.Line, "%slevels %q is not a parameter of the stream", where, sn.Levels)
	}
	for name := range sn.Params {
		if name == "symbol" || name == sn.Levels || !slices.ContainsFunc(st.Params, func(p *Param) bool { return p.Name == name }) {
			v.errf(sn.Line, "%sparams: %q is not a settable parameter of the stream", where, name)
		}
	}
	payload := types[st.Payload]
	if payload == nil || st.Array {
		v.errf(sn.Line, "%sstream has no object payload", where)
		return
	}
	for _, key := range []string{sn.Bids, sn.Asks} {
		if !levelsField(payload, key, types) {
			v.errf(sn.Line, "%sbids and asks: %q is not a list of [price, quantity] decimal tuples in %s", where, key, payload.Name)
		}
	}
	idField := slices.ContainsFunc(payload.Fields, func(f *Field) bool {
		return f.Key == sn.UpdateID && f.Type == "int" && !f.Optional && !f.Nullable
	})
	switch {
	case sn.UpdateID == "":
		v.errf(sn.Line, "%sno update_id", where)
	case !idField:
		v.errf(sn.Line, "%supdate_id %q is not a required int member of %s", where, sn.UpdateID, payload.Name)
	case st.Sequence == nil || st.Sequence.Kind == "time" || st.Sequence.ID != sn.UpdateID && st.Sequence.Last != sn.UpdateID:
		v.errf(sn.Line, "%supdate_id %q is not the id or last id of the stream's sequence", where, sn.UpdateID)
	}
}

// bookLevels checks the levels parameter p of a snapshot stream: an enum
// of positive integers, and, with default_levels, optional and without
// that value among its own (the empty value stands for it).
func (v *validator) bookLevels(sn *BookSnapshot, p *Param, enums map[string]*Enum, where string) {
	e := enums[p.Type]
	if e == nil {
		v.errf(sn.Line, "%slevels: parameter %q is not an enum", where, p.Name)
		return
	}
	for _, ev := range e.Values {
		n, err := strconv.Atoi(ev)
		if err != nil || n < 1 {
			v.errf(sn.Line, "%slevels: %s value %q is not a positive integer", where, p.Type, ev)
		}
		if sn.DefaultLevels > 0 && n == sn.DefaultLevels {
			v.errf(sn.Line, "%sdefault_levels %d is also a %s value", where, n, p.Type)
		}
	}
	switch {
	case sn.DefaultLevels > 0 && (!p.Optional || p.Default != ""):
		v.errf(sn.Line, "%sdefault_levels: parameter %q is not optional without a default", where, p.Name)
	case sn.DefaultLevels == 0 && p.Optional && p.Default == "":
		v.errf(sn.Line, "%slevels: parameter %q is optional: say in default_levels how many levels the stream sends without it", where, p.Name)
	}
}
