package wire

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"
)

// The drift report counts what the exchange sends that the schema does not
// describe: keys the generated decoders skip, event kinds the dispatch
// functions hand back as an UnknownEvent, and payloads they reject for a
// missing required key or another event kind. Staying up is right for
// the first two, and the third is a decode error, but either way the user
// must learn that the exchange changed; DriftReport says what changed,
// where, how often, with a sample.
//
// The report is process-wide: every generated decoder of every market, on
// every connection, counts into the same registry, and ResetDrift clears
// it. A payload decoded twice (two subscriptions to one stream, or the
// hand-off between two sockets) is counted twice.
//
// While every key is known counting costs one pointer store per payload
// (UnmarshalJSON sets Decoder.Drift): a generated decoder reaches the
// registry only from the branch of a key it does not know, or from its
// error return. A repeated entry is counted without allocating; the first
// of a kind allocates its entry and copies its sample.

// DriftKind says what kind of drift a DriftEntry counts.
type DriftKind string

const (
	// DriftUnknownKey is a key the schema does not know, skipped. Path is
	// the key's path from the payload's top, such as "k.X" for a key X
	// in a kline's k; the elements of an array add nothing to it ("B.X"
	// for a key of a balance in the array B). A tuple's extra element (a
	// column the schema does not know) counts here too, named by its
	// index, such as "b.2".
	DriftUnknownKey DriftKind = "unknown key"
	// DriftUnknownEvent is an event kind that a dispatch function (such
	// as DecodeUser) does not know and returned as an UnknownEvent. Path
	// is the kind; Event names the dispatch group, such as "user".
	DriftUnknownEvent DriftKind = "unknown event"
	// DriftMissingKey is a key the schema marks required that a payload
	// lacked (the decode failed with ErrMissing). Path is the key's path.
	DriftMissingKey DriftKind = "missing key"
	// DriftWrongEvent is a payload whose event-kind key named another
	// event than its decoder's (the decode failed with an EventError).
	// Path is the event key, such as "e"; the sample is the kind found.
	DriftWrongEvent DriftKind = "wrong event"
)

// DriftEntry is one line of the drift report.
type DriftEntry struct {
	Market string    // schema market name, such as "spot"
	Event  string    // the payload's event, as in decode errors ("aggTrade", "Kline"), or a dispatch group ("user")
	Path   string    // what is new or missing: see the DriftKind constants
	Kind   DriftKind // unknown key, unknown event, missing key or wrong event
	Count  uint64    // how many payloads had it
	Sample string    // the first one's value (raw JSON, at most 64 bytes and "…"), or for a missing key the payload
}

// String returns the entry as one line, such as
// `spot aggTrade: unknown key "X" (12 times, e.g. 42)`.
func (e DriftEntry) String() string {
	var b strings.Builder
	b.WriteString(e.Market + " " + e.Event + ": " + string(e.Kind) + " " + strconv.Quote(e.Path) + " (")
	b.WriteString(strconv.FormatUint(e.Count, 10))
	if e.Count == 1 {
		b.WriteString(" time")
	} else {
		b.WriteString(" times")
	}
	if e.Sample != "" {
		b.WriteString(", e.g. " + e.Sample)
	}
	b.WriteByte(')')
	return b.String()
}

// DriftScope is where one generated decoder counts drift: the market and
// the event of the payload as a whole. The generated packages declare one
// per payload type and dispatch group, and set it as Decoder.Drift before
// decoding, so that a nested object's decoder counts under the event that
// holds it. Market and Event label its entries in the report; a
// DriftScope must not be copied after first use.
type DriftScope struct {
	Market string
	Event  string

	entries atomic.Pointer[driftEntries] // replaced, never changed, under drift.mu
	last    atomic.Pointer[driftEntry]   // the byKey entry found last: a payload that drifts usually does so the same way every time
}

// driftEntries are the entries of a scope, found two ways. A key skipped
// by the decoder of a type that sits at one path in the payload is found
// by that type's scope and the key, with no need to know the path: it was
// worked out once, when the entry was made. Everything else is found by
// its kind's code and its whole path.
type driftEntries struct {
	byKey  map[driftKey]*driftEntry
	byPath map[string]*driftEntry // code byte, then path
}

type driftKey struct {
	in  *DriftScope // the scope of the type whose decoder skipped the key
	key string
}

type driftEntry struct {
	at     driftKey // under byKey; zero under byPath
	kind   DriftKind
	path   string
	sample string
	count  atomic.Uint64
}

// drift is the process-wide registry: the scopes that have entries.
var drift struct {
	mu     sync.Mutex
	scopes []*DriftScope
}

// The first byte of a byPath key, before the path.
const (
	codeUnknownKey   = 'k'
	codeUnknownEvent = 'e'
	codeMissingKey   = 'm'
	codeWrongEvent   = 'w'
)

var kindOfCode = map[byte]DriftKind{
	codeUnknownKey:   DriftUnknownKey,
	codeUnknownEvent: DriftUnknownEvent,
	codeMissingKey:   DriftMissingKey,
	codeWrongEvent:   DriftWrongEvent,
}

// SkipUnknown skips the value of key, a key the decoder does not know
// (after NextKey), and counts it in d.Drift as an unknown key. in is the
// scope of the type whose decoder reads the object (the generated
// driftOf variable) when that type sits at one path only in any payload
// that holds it, and nil otherwise: then the key's path is found by
// reading the payload again from its top, each time. With a nil d.Drift
// it is Skip.
func (d *Decoder) SkipUnknown(key string, in *DriftScope) error {
	if d.Drift == nil {
		return d.Skip()
	}
	d.peek()
	start := d.i
	if err := d.Skip(); err != nil {
		return err
	}
	d.Drift.unknownKey(key, in, d.s, start, d.i)
	return nil
}

// unknownKey counts the value src[start:end] of key as an unknown key.
func (s *DriftScope) unknownKey(key string, in *DriftScope, src string, start, end int) {
	if in != nil {
		if e := s.last.Load(); e != nil && e.at.in == in && e.at.key == key {
			e.count.Add(1)
			return
		}
		if es := s.entries.Load(); es != nil {
			if e := es.byKey[driftKey{in, key}]; e != nil {
				e.count.Add(1)
				s.last.Store(e)
				return
			}
		}
		var path string
		if in == s {
			path = key // the payload's own decoder: a top-level key
		} else {
			p, ok := keyPath(nil, src, start)
			if !ok {
				return
			}
			path = string(p)
		}
		s.add(driftKey{in, key}, "", DriftUnknownKey, path, src[start:end])
		return
	}
	var arr [96]byte
	p, ok := keyPath(append(arr[:0], codeUnknownKey), src, start)
	if !ok {
		return
	}
	s.count(p, src[start:end])
}

// NewUnknownEvent counts kind as an unknown event, with data as the
// sample, and returns NewUnknownEvent(kind, data). Generated dispatch
// functions call it for a kind the schema does not know.
func (s *DriftScope) NewUnknownEvent(kind string, data []byte) *UnknownEvent {
	var arr [64]byte
	s.count(append(append(arr[:0], codeUnknownEvent), kind...), bytesString(data))
	return NewUnknownEvent(kind, data)
}

// DecodeError returns NewFieldError(s.Market, s.Event, key, err) for the
// failure err to decode data, and counts it when the payload lacked a
// required key (a missing key) or named another event (a wrong event).
// Other failures, such as malformed JSON, are not drift and are not
// counted. It returns nil when err is nil.
func (s *DriftScope) DecodeError(key string, data []byte, err error) error {
	err = NewFieldError(s.Market, s.Event, key, err)
	fe, ok := err.(*FieldError)
	if !ok {
		return err
	}
	var ee *EventError
	switch {
	case errors.Is(fe.Err, ErrMissing):
		s.count([]byte(string(rune(codeMissingKey))+fe.Key), bytesString(data))
	case errors.As(fe.Err, &ee):
		s.count([]byte(string(rune(codeWrongEvent))+fe.Key), strconv.Quote(ee.Got))
	}
	return err
}

// count adds one to the byPath entry of code (its kind's code, then its
// path), creating it with sample if it is new.
func (s *DriftScope) count(code []byte, sample string) {
	if es := s.entries.Load(); es != nil {
		if e := es.byPath[string(code)]; e != nil { // no allocation: the conversion is only for the lookup
			e.count.Add(1)
			return
		}
	}
	s.add(driftKey{}, string(code), kindOfCode[code[0]], string(code[1:]), sample)
}

// add counts one for the entry under byKey k (when k.in is set) or byPath
// code, creating it with kind, path and sample (copied, clipped) if no
// other goroutine did first.
func (s *DriftScope) add(k driftKey, code string, kind DriftKind, path, sample string) {
	drift.mu.Lock()
	defer drift.mu.Unlock()
	old := s.entries.Load()
	if old == nil {
		old = &driftEntries{}
		drift.scopes = append(drift.scopes, s)
	}
	e := old.byPath[code]
	if k.in != nil {
		e = old.byKey[k]
	}
	if e != nil {
		e.count.Add(1)
		return
	}
	es := &driftEntries{byKey: maps.Clone(old.byKey), byPath: maps.Clone(old.byPath)}
	e = &driftEntry{kind: kind, path: strings.Clone(path), sample: clipSample(sample)}
	e.count.Store(1)
	if k.in != nil {
		if es.byKey == nil {
			es.byKey = map[driftKey]*driftEntry{}
		}
		k.key = strings.Clone(k.key)
		e.at = k
		es.byKey[k] = e
	} else {
		if es.byPath == nil {
			es.byPath = map[string]*driftEntry{}
		}
		es.byPath[strings.Clone(code)] = e
	}
	s.entries.Store(es)
}

// maxSample is the longest sample kept, in bytes, before "…".
const maxSample = 64

// clipSample returns a copy of s cut to maxSample bytes (at a character
// boundary, then "…"), with control characters (line breaks, tabs, and
// any a malformed payload holds) turned into spaces, so that an entry
// prints as one plain line.
func clipSample(s string) string {
	clipped := false
	if len(s) > maxSample {
		i := maxSample
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s, clipped = s[:i], true
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.Clone(s)
	if clipped {
		s += "…"
	}
	return s
}

// bytesString returns b as a string without copying; it is valid while b
// is unchanged.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// DriftReport returns every entry of the drift report, sorted by market,
// event, path and kind. The report is process-wide: it holds what every
// generated decoder of every market counted since the start (or the last
// ResetDrift), whichever connection or caller decoded the payloads.
// Entries of two decoders with the same market and event are merged.
func DriftReport() []DriftEntry {
	drift.mu.Lock()
	scopes := slices.Clone(drift.scopes)
	drift.mu.Unlock()
	type id struct {
		market, event, path string
		kind                DriftKind
	}
	at := map[id]int{}
	var out []DriftEntry
	for _, s := range scopes {
		es := s.entries.Load()
		if es == nil {
			continue
		}
		for _, e := range slices.Concat(slices.Collect(maps.Values(es.byKey)), slices.Collect(maps.Values(es.byPath))) {
			k := id{s.Market, s.Event, e.path, e.kind}
			if i, ok := at[k]; ok {
				out[i].Count += e.count.Load()
				continue
			}
			at[k] = len(out)
			out = append(out, DriftEntry{Market: s.Market, Event: s.Event, Path: e.path, Kind: e.kind, Count: e.count.Load(), Sample: e.sample})
		}
	}
	slices.SortFunc(out, func(a, b DriftEntry) int {
		if c := strings.Compare(a.Market, b.Market); c != 0 {
			return c
		}
		if c := strings.Compare(a.Event, b.Event); c != 0 {
			return c
		}
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(string(a.Kind), string(b.Kind))
	})
	return out
}

// ResetDrift empties the process-wide drift report, for tests. Counts
// made while it runs may be lost.
func ResetDrift() {
	drift.mu.Lock()
	defer drift.mu.Unlock()
	for _, s := range drift.scopes {
		s.entries.Store(nil)
		s.last.Store(nil)
	}
	drift.scopes = nil
}

// keyPath appends to dst the path of the value that starts at offset
// target of the JSON text src: the keys of the objects around it, from
// the outside in, joined by '.'. An array adds nothing for the element
// the value is inside, and the index of the element when the value is
// one. Past maxSegs segments the path ends with "…". ok is false when no
// value starts at target.
func keyPath(dst []byte, src string, target int) (path []byte, ok bool) {
	w := pathWalker{target: target}
	w.d.ResetString(src)
	if w.d.peek() == 0 || w.d.i >= target || !w.inside(0) {
		return dst, false
	}
	for i := range min(w.n, maxSegs) {
		if i > 0 {
			dst = append(dst, '.')
		}
		if sg := w.segs[i]; sg.start < 0 {
			dst = strconv.AppendInt(dst, int64(sg.end), 10)
		} else {
			dst = append(dst, src[sg.start:sg.end]...)
		}
	}
	if w.n > maxSegs {
		dst = append(dst, ".…"...)
	}
	return dst, true
}

// maxSegs is the most segments keyPath spells out.
const maxSegs = 16

// pathWalker finds the path to a value. It keeps the segments as offsets,
// not strings, so that a walk allocates nothing.
type pathWalker struct {
	d      Decoder
	target int
	n      int                               // segments on the path so far
	segs   [maxSegs]struct{ start, end int } // a key is src[start:end]; an index i is {-1, i}
}

func (w *pathWalker) push(start, end int) {
	if w.n < maxSegs {
		w.segs[w.n].start, w.segs[w.n].end = start, end
	}
	w.n++
}

// inside walks the object or array at the decoder's position, which holds
// target, down to it, pushing the segments of the path; it reports
// whether a value starts at target. Values that end before target are
// skipped, not walked; only those around it are read twice.
func (w *pathWalker) inside(depth int) bool {
	d := &w.d
	if depth > maxDepth {
		return false
	}
	// child looks at the value at the decoder's position: it is target, or
	// holds it, or ends before it.
	child := func() (found, done bool) {
		start := d.i
		if start == w.target {
			return true, true
		}
		if d.Skip() != nil {
			return false, true
		}
		if d.i <= w.target {
			return false, false
		}
		d.i = start
		if c := d.s[start]; c != '{' && c != '[' {
			return false, true // target is inside a string or a number
		}
		return w.inside(depth + 1), true
	}
	switch d.s[d.i] {
	case '{':
		d.ObjectStart()
		for {
			key, ok, err := d.NextKey()
			if err != nil || !ok {
				return false
			}
			// The key is raw text just before the decoder's position: find
			// its offset from its end, the closing quote before the ':'.
			end := strings.LastIndexByte(d.s[:d.i], '"')
			n := w.n
			w.push(end-len(key), end)
			d.peek()
			if found, done := child(); done {
				return found
			}
			w.n = n
		}
	case '[':
		d.ArrayStart()
		for i := 0; ; i++ {
			ok, err := d.NextElem()
			if err != nil || !ok {
				return false
			}
			n := w.n
			if d.i == w.target {
				w.push(-1, i)
			}
			if found, done := child(); done {
				return found
			}
			w.n = n
		}
	}
	return false
}
