package runtime

import (
	"errors"
	"strconv"
)

// This file holds the hand-written frame scanner. It walks one frame once,
// without decoding or allocating, and reports where the top-level members the
// runtime cares about are: the stream name and the data span of a combined
// envelope, and the members of a control reply. The data span is handed to
// the stream's Decoder as is, so payloads are decoded exactly once.

// envelope is what scan finds at the top level of one JSON object. Each field
// is a sub-slice of the frame, nil when the member is absent. String members
// (stream, event) hold the bytes between the quotes.
type envelope struct {
	stream []byte // "stream"
	data   []byte // "data", the raw value
	id     []byte // "id", the raw value
	result []byte // "result", the raw value
	errObj []byte // "error", the raw value
	code   []byte // "code", the raw value
	msg    []byte // "msg", the raw value
	event  []byte // "e", when it is a string
}

var (
	errNotObject = errors.New("frame is not a JSON object")
	errSyntax    = errors.New("invalid JSON")
)

// isReply reports whether the object is a reply to a control request rather
// than stream data.
func (e *envelope) isReply() bool {
	return e.stream == nil && e.event == nil && (e.id != nil || e.result != nil || e.errObj != nil || (e.code != nil && e.msg != nil))
}

// scan fills env from the top-level members of the object in b. Members may
// come in any order, with any whitespace; unknown members are skipped.
func scan(b []byte, env *envelope) error {
	*env = envelope{}
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
		vEnd, err := skipValue(b, vStart)
		if err != nil {
			return err
		}
		val := b[vStart:vEnd]
		switch string(key) {
		case "stream":
			if val[0] == '"' {
				env.stream = val[1 : len(val)-1]
			}
		case "data":
			env.data = val
		case "id":
			env.id = val
		case "result":
			env.result = val
		case "error":
			env.errObj = val
		case "code":
			env.code = val
		case "msg":
			env.msg = val
		case "e":
			if val[0] == '"' {
				env.event = val[1 : len(val)-1]
			}
		}
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

// parseID reads a control reply's id; ok is false for null, strings and
// anything that is not an unsigned integer.
func parseID(raw []byte) (uint64, bool) {
	if len(raw) == 0 || raw[0] < '0' || raw[0] > '9' {
		return 0, false
	}
	id, err := strconv.ParseUint(string(raw), 10, 64)
	return id, err == nil
}

// replyError returns the *ServerError carried by a reply, or nil.
func replyError(env *envelope) error {
	if env.errObj != nil && len(env.errObj) > 0 && env.errObj[0] == '{' {
		var inner envelope
		if scan(env.errObj, &inner) == nil {
			return newServerError(inner.code, inner.msg)
		}
		return &ServerError{Code: -1, Msg: string(env.errObj)}
	}
	if env.code != nil && env.msg != nil {
		return newServerError(env.code, env.msg)
	}
	return nil
}

func newServerError(code, msg []byte) *ServerError {
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

// deliver hands one data frame of link l to the stream's subscriptions.
func (s *socket) deliver(l *link, name, data []byte) {
	if l.retired.Load() {
		return
	}
	if h := s.handoff.Load(); h != nil {
		h.deliver(s, l, name, data)
		return
	}
	s.dispatch(name, data)
}

// deliverRaw hands a bare payload to the socket's only stream. It is used in
// raw mode and after SET_PROPERTY combined=false.
func (s *socket) deliverRaw(l *link, data []byte) {
	if s.only != nil {
		s.deliver(l, s.only, data)
		return
	}
	t := *s.table.Load()
	var name string
	n := 0
	for k, subs := range t {
		if subs != nil {
			name = k
			n++
		}
	}
	if n != 1 {
		s.emit(Event{Kind: EventError, Err: frameError(s.route, nil, data, errBareFrame)})
		return
	}
	s.deliver(l, []byte(name), data)
}

// dispatch decodes data once per subscription and queues the value.
func (s *socket) dispatch(name, data []byte) {
	subs, ok := (*s.table.Load())[string(name)]
	if !ok {
		s.emit(Event{Kind: EventError, Stream: string(name), Err: frameError(s.route, name, data, ErrUnknownStream)})
		return
	}
	for _, sub := range subs {
		v, err := sub.stream.Decode(data)
		if err != nil {
			s.emit(Event{Kind: EventError, Stream: sub.stream.Name, Subscription: sub, Err: frameError(s.route, name, data, err)})
			continue
		}
		sub.push(v)
	}
}
