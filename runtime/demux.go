package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file holds the hand-written frame reader. A grammar, compiled once
// from the market's Dialect, says which top-level members matter; scan walks
// a frame once, without decoding or allocating, and keeps those members as
// sub-slices. The data span is handed to the stream's Decoder as is, so each
// payload is decoded exactly once.

// maxMembers bounds the members a grammar keeps; a Dialect names far fewer.
const maxMembers = 16

// grammar is a Dialect compiled for scanning.
type grammar struct {
	d                                   *Dialect
	names                               []string // the members scan keeps, by index
	data                                int      // index of Dialect.Data
	id                                  int      // index of Dialect.ReplyID; -1 for none
	result                              int      // index of Dialect.Result; -1 for none
	errObj                              int      // "error"
	code                                int      // "code"
	msg                                 int      // "msg"
	message                             int      // "message"
	key                                 [][]path // the parts of the routing key
	ack, errs, shutdown, ignore, authOK []match
}

// path is a member index followed by the rest of a dotted path.
type path struct {
	head int
	rest []string
}

// match is a compiled Match.
type match struct {
	member int
	value  string
}

func compile(d *Dialect) (*grammar, error) {
	g := &grammar{d: d, id: -1, result: -1}
	index := func(name string) int {
		for i, n := range g.names {
			if n == name {
				return i
			}
		}
		g.names = append(g.names, name)
		return len(g.names) - 1
	}
	if d.Data == "" || len(d.Key) == 0 {
		return nil, errors.New("runtime: dialect needs Data and Key")
	}
	g.data = index(d.Data)
	if d.ReplyID != "" {
		g.id = index(d.ReplyID)
	}
	if d.Result != "" {
		g.result = index(d.Result)
	}
	g.errObj, g.code, g.msg, g.message = index("error"), index("code"), index("msg"), index("message")
	for _, part := range d.Key {
		var alts []path
		for _, p := range part {
			segs := strings.Split(p, ".")
			alts = append(alts, path{head: index(segs[0]), rest: segs[1:]})
		}
		g.key = append(g.key, alts)
	}
	matches := func(ms []Match) []match {
		out := make([]match, len(ms))
		for i, m := range ms {
			out[i] = match{member: index(m.Member), value: m.Value}
		}
		return out
	}
	g.ack, g.errs, g.shutdown, g.ignore, g.authOK = matches(d.Ack), matches(d.Errors), matches(d.Shutdown), matches(d.Ignore), matches(d.AuthOK)
	if len(g.names) > maxMembers {
		return nil, fmt.Errorf("runtime: dialect names %d frame members, more than %d", len(g.names), maxMembers)
	}
	return g, nil
}

// frame holds the members of one frame that its grammar keeps: each a
// sub-slice of the frame (the raw value), nil when absent.
type frame struct {
	g    *grammar
	vals [maxMembers][]byte
	lazy bool // the data span was taken to the frame's end without walking it
}

var (
	errNotObject = errors.New("frame is not a JSON object")
	errSyntax    = errors.New("invalid JSON")
)

func (f *frame) get(i int) []byte {
	if i < 0 {
		return nil
	}
	return f.vals[i]
}

func unquote(v []byte) []byte {
	if len(v) >= 2 && v[0] == '"' {
		return v[1 : len(v)-1]
	}
	return nil
}

// matches reports whether any of ms selects the frame.
func (f *frame) matches(ms []match) bool {
	for _, m := range ms {
		v := f.vals[m.member]
		if v != nil && (m.value == "" || string(unquote(v)) == m.value) {
			return true
		}
	}
	return false
}

// routeKey appends the frame's routing key to buf. cut is where its last
// part starts (the key without it is buf[:cut]), or -1 for a one-part key;
// ok is false when the frame has no first part.
func (f *frame) routeKey(buf []byte) (key []byte, cut int, ok bool) {
	cut = -1
	for i, alts := range f.g.key {
		var v []byte
		for _, p := range alts {
			if v = lookup(f.vals[p.head], p.rest); v != nil {
				break
			}
		}
		if v == nil {
			if i == 0 {
				return buf, -1, false
			}
			continue
		}
		if i > 0 {
			cut = len(buf)
			buf = append(buf, ':')
		}
		buf = append(buf, v...)
	}
	return buf, cut, true
}

// lookup follows a dotted path (object members, array indexes) from the raw
// value v and returns the string it ends at, or nil.
func lookup(v []byte, rest []string) []byte {
	for _, seg := range rest {
		if len(v) == 0 {
			return nil
		}
		var err error
		switch v[0] {
		case '{':
			v, err = memberOf(v, seg)
		case '[':
			v, err = elementOf(v, seg)
		default:
			return nil
		}
		if err != nil {
			return nil
		}
	}
	return unquote(v)
}

// memberOf returns the raw value of one member of the object v, or nil.
func memberOf(v []byte, name string) ([]byte, error) {
	var found []byte
	err := members(v, func(key, val []byte) {
		if found == nil && string(key) == name {
			found = val
		}
	}, nil)
	return found, err
}

// elementOf returns element seg (a decimal index) of the array v, or nil.
func elementOf(v []byte, seg string) ([]byte, error) {
	n := 0
	for i := 0; i < len(seg); i++ { // digits only; a member name means no match
		if seg[i] < '0' || seg[i] > '9' || i > 6 {
			return nil, nil
		}
		n = n*10 + int(seg[i]-'0')
	}
	i := skipSpace(v, 1)
	for k := 0; i < len(v) && v[i] != ']'; k++ {
		end, err := skipValue(v, i)
		if err != nil {
			return nil, err
		}
		if k == n {
			return v[i:end], nil
		}
		i = skipSpace(v, end)
		if i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return nil, nil
}

// scan fills f with the members of the object in b that f's grammar keeps.
// Members may come in any order, with any whitespace. When the data member
// holds an object or array and the frame closes right after it (the usual
// envelope, where data comes last), its span is taken up to there without
// walking it, and f.lazy is set: the payload's decoder then validates it,
// and a payload that does not decode is scanned again in full (scanFull)
// before it is reported, in case data was not the last member after all.
// The same holds when only a few scalar members follow the data member
// (scalarTail), which are kept.
func (f *frame) scan(b []byte) error {
	f.vals = [maxMembers][]byte{}
	f.lazy = false
	if f.scanEnvelope(b) {
		return nil
	}
	data := f.g.names[f.g.data]
	return members(b, f.keep, func(key []byte) bool {
		if string(key) == data {
			f.lazy = true
			return true
		}
		return false
	})
}

// scanEnvelope is scan's fast path for the usual envelope, written without
// whitespace: {"<member>":"<string>","<data>":<object or array>}, with no
// escape in the first member. It keeps both members, taking the data span
// up to the frame's closing brace as scan does (f.lazy), and reports false,
// having kept nothing, for any other frame.
func (f *frame) scanEnvelope(b []byte) bool {
	if len(b) < 4 || b[0] != '{' || b[1] != '"' {
		return false
	}
	k := bytes.IndexByte(b[2:], '"')
	if k < 0 {
		return false
	}
	key := b[2 : 2+k]
	i := 2 + k + 1 // at the ':'
	if i+1 >= len(b) || b[i] != ':' || b[i+1] != '"' {
		return false
	}
	v := bytes.IndexByte(b[i+2:], '"')
	if v < 0 {
		return false
	}
	val := b[i+1 : i+2+v+1] // with its quotes
	if bytes.IndexByte(key, '\\') >= 0 || bytes.IndexByte(val, '\\') >= 0 {
		return false
	}
	i += 2 + v + 1 // at the ','
	data := f.g.names[f.g.data]
	start := i + len(data) + 4 // after `,"<data>":`
	if start >= len(b) || b[i] != ',' || b[i+1] != '"' || string(b[i+2:i+2+len(data)]) != data ||
		b[i+2+len(data)] != '"' || b[i+3+len(data)] != ':' || b[start] != '{' && b[start] != '[' {
		return false
	}
	end := closesAfter(b, b[start]+2)
	if end <= start {
		return false
	}
	f.keep(key, val)
	f.vals[f.g.data] = b[start:end]
	f.lazy = true
	return true
}

// scanFull is scan walking every member.
func (f *frame) scanFull(b []byte) error {
	f.vals = [maxMembers][]byte{}
	f.lazy = false
	return members(b, f.keep, nil)
}

func (f *frame) keep(key, val []byte) {
	for i, n := range f.g.names {
		if string(key) == n {
			f.vals[i] = val
			return
		}
	}
}

// members calls fn with the key and raw value of every top-level member of
// the object in b, and checks that b holds exactly one object. If last
// reports true for a member whose value is an object or array that the
// frame closes right after, or that only a few scalar members follow
// (scalarTail), members stops there, without walking the value, and calls
// fn for those members.
func members(b []byte, fn func(key, val []byte), last func(key []byte) bool) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errNotObject
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return trailing(b, i+1)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return errSyntax
		}
		kEnd, err := skipString(b, i)
		if err != nil {
			return err
		}
		key := b[i+1 : kEnd-1]
		i = skipSpace(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			return errSyntax
		}
		vStart := skipSpace(b, i+1)
		if last != nil && vStart < len(b) && (b[vStart] == '{' || b[vStart] == '[') {
			closer := b[vStart] + 2
			if end := closesAfter(b, closer); end > vStart && last(key) {
				fn(key, b[vStart:end])
				return nil
			}
			var tail [maxTail][2][]byte
			if end, n := scalarTail(b, closer, &tail); end > vStart && last(key) {
				fn(key, b[vStart:end])
				for k := n - 1; k >= 0; k-- {
					fn(tail[k][0], tail[k][1])
				}
				return nil
			}
		}
		vEnd, err := skipValue(b, vStart)
		if err != nil {
			return err
		}
		fn(key, b[vStart:vEnd])
		i = skipSpace(b, vEnd)
		if i >= len(b) {
			return errSyntax
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return trailing(b, i+1)
		default:
			return errSyntax
		}
	}
}

// maxTail is the most members scalarTail reads.
const maxTail = 4

// scalarTail reads backwards, from the end of the object in b, the members
// that follow a value ending in closer when they are a few scalars:
// `...<closer>,"ts":1672515782136}`, as ZDEX's envelope puts after its
// data. Each key and value must be free of escapes, each value a string, a
// number, true, false or null. It returns where the value ends and the
// members, last first, in tail[:n]; end is -1 for any other frame. Like
// closesAfter it does not walk the value, whose decoder checks it.
func scalarTail(b []byte, closer byte, tail *[maxTail][2][]byte) (end, n int) {
	j := backSpace(b, len(b)-1)
	if j < 0 || b[j] != '}' {
		return -1, 0
	}
	j = backSpace(b, j-1)
	for n < maxTail {
		// The value ends at b[j].
		vEnd := j + 1
		if j < 0 {
			return -1, 0
		}
		if b[j] == '"' {
			if j = backQuote(b, j); j < 0 {
				return -1, 0
			}
		} else {
			for j >= 0 && isLiteralByte(b[j]) {
				j--
			}
			j++
			if j == vEnd {
				return -1, 0
			}
		}
		val := b[j:vEnd]
		if j = backSpace(b, j-1); j < 0 || b[j] != ':' {
			return -1, 0
		}
		if j = backSpace(b, j-1); j < 0 || b[j] != '"' {
			return -1, 0
		}
		kEnd := j
		if j = backQuote(b, j); j < 0 {
			return -1, 0
		}
		tail[n] = [2][]byte{b[j+1 : kEnd], val}
		n++
		if j = backSpace(b, j-1); j < 0 || b[j] != ',' {
			return -1, 0
		}
		if j = backSpace(b, j-1); j >= 0 && b[j] == closer {
			return j + 1, n
		}
	}
	return -1, 0
}

// backSpace returns the last index at or before j that is not whitespace,
// or -1.
func backSpace(b []byte, j int) int {
	for j >= 0 && isSpace(b[j]) {
		j--
	}
	return j
}

// backQuote returns the index of the quote that opens the string whose
// closing quote is b[j], or -1 when the string has an escape.
func backQuote(b []byte, j int) int {
	for k := j - 1; k >= 0; k-- {
		switch b[k] {
		case '"':
			return k
		case '\\':
			return -1
		}
	}
	return -1
}

// closesAfter returns the end of a value ending in closer that the object
// in b closes right after ("...<closer>}" and trailing whitespace), or -1.
func closesAfter(b []byte, closer byte) int {
	j := backSpace(b, len(b)-1)
	if j < 1 || b[j] != '}' {
		return -1
	}
	if j = backSpace(b, j-1); j < 0 || b[j] != closer {
		return -1
	}
	return j + 1
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func trailing(b []byte, i int) error {
	if skipSpace(b, i) != len(b) {
		return errSyntax
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errSyntax
}

// skipValue returns the index just past the JSON value starting at b[i]. It
// checks only what it needs to find the end: strings, bracket nesting and
// the characters of literals. The Decoder validates the rest.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{' || c == '[':
		var stack [64]byte // expected closers; deeper nesting is an error
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				if depth == len(stack) {
					return 0, errSyntax
				}
				stack[depth] = b[j] + 2 // '{'+2 == '}', '['+2 == ']'
				depth++
			case '}', ']':
				if depth == 0 || stack[depth-1] != b[j] {
					return 0, errSyntax
				}
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errSyntax
	default:
		j := i
		for j < len(b) && isLiteralByte(b[j]) {
			j++
		}
		if j == i {
			return 0, errSyntax
		}
		return j, nil
	}
}

func isLiteralByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '-' || c == '+' || c == '.' || c == 'E'
}

// parseID reads a reply's id; ok is false for null, strings and anything
// that is not an unsigned integer.
func parseID(raw []byte) (uint64, bool) {
	if len(raw) == 0 || raw[0] < '0' || raw[0] > '9' {
		return 0, false
	}
	id, err := strconv.ParseUint(string(raw), 10, 64)
	return id, err == nil
}

// serverError returns the *ServerError a frame reports: from an "error"
// object (its code and msg or message), an "error" string, or top-level
// code and msg or message members.
func (f *frame) serverError() *ServerError {
	code, msg := f.get(f.g.code), f.get(f.g.msg)
	if msg == nil {
		msg = f.get(f.g.message)
	}
	if e := f.get(f.g.errObj); e != nil {
		switch e[0] {
		case '{':
			inner := frame{g: f.g}
			if inner.scanFull(e) == nil {
				return inner.serverError()
			}
		case '"':
			if msg == nil {
				msg = e
			}
		default:
			if msg == nil && string(e) != "null" && string(e) != "false" {
				msg = e
			}
		}
	}
	n, err := strconv.Atoi(string(code))
	if err != nil {
		n = -1
	}
	m := string(msg)
	if u, err := strconv.Unquote(m); err == nil {
		m = u
	}
	return &ServerError{Code: n, Msg: m}
}
