package runtime

import (
	"strings"
	"time"

	"github.com/marketwire/marketwire/wire"
)

// Dialect is how a venue's stream service is spoken: where a socket
// connects, how streams are subscribed, how replies are recognised and how
// data frames find their stream. Every generated Market carries its venue's
// Dialect, built from the dialect block of schema/streams.yaml; the runtime
// itself knows no venue.
//
// Message templates are JSON text with placeholders in braces: {id} (the
// request id), {streams} (the names of a batch as JSON strings separated by
// commas), {token}, {method} and {params} (Conn.Call), and any of the
// stream's Vars. Values are JSON-escaped; the template supplies the quotes.
type Dialect struct {
	// Path is appended to the endpoint (after the route, if any) for a socket
	// whose streams are subscribed by message, e.g. "/stream".
	Path string
	// RawPath is the URL path of a socket that carries one stream named in
	// the URL, with {stream} for its name, e.g. "/ws/{stream}"; "" when the
	// venue has no such form (WithRawStreams is then refused).
	RawPath string

	// Subscribe and Unsubscribe list message templates. Each stream uses the
	// first template whose placeholders it can fill, so one venue can have
	// several forms (by symbol, by address).
	Subscribe, Unsubscribe []string
	// Batch is how many streams one subscribe or unsubscribe message may
	// carry in {streams}; 0 sends one message per stream.
	Batch int
	// Request is the message template of Conn.Call; "" when the venue has
	// no generic requests.
	Request string

	// ReplyID names the member of a reply that echoes the request's {id},
	// and Result the member holding its result. Empty when replies carry no
	// id.
	ReplyID, Result string
	// Ack matches the frames that confirm the oldest subscribe still waiting,
	// for venues whose replies carry no id. With neither ReplyID nor Ack, a
	// request counts as done once it is written.
	Ack []Match
	// Errors matches frames that report an error; such a frame fails the
	// request it answers (by id, else the oldest waiting).
	Errors []Match

	// Key lists the parts of a data frame's routing key, joined with ":".
	// Each part lists alternative paths into the frame ("stream",
	// "data.s", "data.0.s"); a part none of whose paths holds a string is
	// left out. A frame is delivered to the streams whose Key equals its
	// key, or failing that its key without the last part.
	Key [][]string
	// Data names the member holding the payload.
	Data string
	// Shutdown matches frames announcing that the server will soon close the
	// connection; the runtime then replaces it without a gap.
	Shutdown []Match
	// Ignore matches control frames that carry nothing for the client, such
	// as a welcome or a pong.
	Ignore []Match
	// Unsolicited says the server pushes streams nobody subscribed to; their
	// frames are dropped and counted (Conn.Stats) instead of reported as
	// errors.
	Unsolicited bool

	// KeepAlive is a message the client sends every KeepAliveEvery to keep
	// the connection open; "" for none (server pings are always answered).
	KeepAlive      string
	KeepAliveEvery time.Duration

	// ProbePing says the client may send WebSocket ping frames, which the
	// server answers with a pong; Probe is a text message the server answers
	// instead ("" for none). The runtime sends one when a connection has
	// been quiet for a while, so that a half-open connection is noticed
	// within seconds rather than at the server's next ping.
	ProbePing bool
	Probe     string

	// Auth is the login message template, with {token}; AuthOK matches its
	// confirmation. Streams with Auth set need it; see WithToken.
	Auth   string
	AuthOK []Match
}

// Match selects frames by one top-level member: present (Value "") or holding
// the string Value.
type Match struct {
	Member string
	Value  string
}

// fill renders template t, asking vars for each placeholder. ok is false
// when a placeholder has no value.
func fill(t string, vars func(name string) string) (string, bool) {
	var b strings.Builder
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			b.WriteString(t)
			return b.String(), true
		}
		j := strings.IndexByte(t[i:], '}')
		if j < 0 || !isPlaceholder(t[i+1:i+j]) {
			b.WriteString(t[:i+1]) // JSON, not a placeholder
			t = t[i+1:]
			continue
		}
		v := vars(t[i+1 : i+j])
		if v == "" {
			return "", false
		}
		b.WriteString(t[:i])
		b.WriteString(v)
		t = t[i+j+1:]
	}
}

func isPlaceholder(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}

// jsonEscape returns s escaped for use between the quotes of a JSON string.
func jsonEscape(s string) string {
	q := wire.AppendString(nil, s)
	return string(q[1 : len(q)-1])
}
