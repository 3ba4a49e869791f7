package zdexsim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// conn is one accepted websocket. Its reader handles the client's messages;
// its writer sends queued frames and enforces the idle timeout.
type conn struct {
	srv *Server
	id  int
	out chan []byte

	// ws is set by attach once the handshake is done, before the reader
	// and writer start (they use it without wsMu).
	wsMu sync.Mutex
	ws   *websocket.Conn

	// Guarded by srv.mu.
	streams  map[string]bool
	authed   bool
	messages []string
	pings    int
	errors   int

	lastPing  atomic.Int64 // unix nanoseconds of the last ping, or of the connect
	reason    string       // written once, before closed is closed
	closed    chan struct{}
	closeOnce sync.Once
}

func newConn(s *Server, id int) *conn {
	c := &conn{
		srv:     s,
		id:      id,
		out:     make(chan []byte, s.outBuffer),
		streams: map[string]bool{},
		closed:  make(chan struct{}),
	}
	c.lastPing.Store(time.Now().UnixNano())
	return c
}

// close ends the connection abruptly, once, and reports whether this call
// did it. It never takes srv.mu, so it may be called with it held; the
// reader forgets the connection when it ends.
func (c *conn) close(reason string) bool {
	done := false
	c.closeOnce.Do(func() {
		c.reason = reason
		close(c.closed)
		c.wsMu.Lock()
		ws := c.ws
		c.wsMu.Unlock()
		if ws != nil { // else attach closes it
			ws.Close()
		}
		done = true
	})
	return done
}

// attach gives c its websocket once the handshake is done. Call it before
// starting the reader and writer. If c was closed meanwhile, the websocket
// is closed at once (close could not).
func (c *conn) attach(ws *websocket.Conn) {
	c.wsMu.Lock()
	c.ws = ws
	c.wsMu.Unlock()
	select {
	case <-c.closed:
		ws.Close()
	default:
	}
}

// send queues one frame without blocking; a full queue closes the
// connection as too slow.
func (c *conn) send(frame []byte) bool {
	select {
	case <-c.closed:
		return false
	default:
	}
	select {
	case c.out <- frame:
		return true
	default:
		c.close("slow consumer")
		return false
	}
}

func (c *conn) writeLoop() {
	defer c.srv.wg.Done()
	idle := c.srv.idle
	var timeout <-chan time.Time
	var t *time.Timer
	if idle > 0 {
		t = time.NewTimer(idle)
		defer t.Stop()
		timeout = t.C
	}
	for {
		select {
		case <-c.closed:
			return
		case f := <-c.out:
			_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := c.ws.WriteMessage(websocket.TextMessage, f); err != nil {
				c.close("write failed")
				return
			}
		case now := <-timeout:
			if left := idle - now.Sub(time.Unix(0, c.lastPing.Load())); left > 0 {
				t.Reset(left)
				continue
			}
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "idle timeout")
			_ = c.ws.WriteControl(websocket.CloseMessage, msg, now.Add(time.Second))
			c.close("idle timeout")
			return
		}
	}
}

func (c *conn) readLoop() {
	defer c.srv.wg.Done()
	defer c.srv.forget(c)
	defer c.close("client closed")
	c.ws.SetReadLimit(1 << 20)
	for {
		typ, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		c.srv.handle(c, typ, b)
	}
}

// tokenMember matches a "token" member of a JSON message, even a truncated one.
var tokenMember = regexp.MustCompile(`("token"\s*:\s*)"(?:[^"\\]|\\.)*("?)`)

// redact replaces the value of every "token" member of msg, and the
// configured token wherever it appears, with <redacted>.
func (s *Server) redact(msg string) string {
	msg = tokenMember.ReplaceAllString(msg, `$1"<redacted>$2`)
	if s.token != "" {
		msg = strings.ReplaceAll(msg, s.token, "<redacted>")
	}
	return msg
}

// handle answers one client message. Replies are queued under srv.mu, so
// they precede any data the new state causes.
func (s *Server) handle(c *conn, typ int, b []byte) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if typ != websocket.TextMessage {
		s.errorLocked(c, "binary messages are not supported")
		return
	}
	c.messages = append(c.messages, s.redact(string(b)))
	var req map[string]json.RawMessage
	if err := json.Unmarshal(b, &req); err != nil {
		s.errorLocked(c, "Invalid JSON message")
		return
	}
	action, ok1 := str(req, "action")
	channel, ok2 := str(req, "channel")
	symbol, ok3 := str(req, "symbol")
	if !ok1 || !ok2 || !ok3 {
		s.errorLocked(c, "action, channel and symbol must be strings")
		return
	}
	switch action {
	case "ping":
		c.pings++
		c.lastPing.Store(now.UnixNano())
		c.send(pongFrame(now))
	case "auth":
		token, ok := str(req, "token")
		if !ok || s.token == "" || token != s.token {
			s.errorLocked(c, "Invalid or expired token")
			return
		}
		c.authed = true
		c.send(authenticatedFrame())
		c.send(stateFrame(s.stateLocked(now), now))
	case "subscribe":
		switch {
		case channel == accountStream:
			if !c.authed {
				s.errorLocked(c, "Authentication required for channel account")
				return
			}
			s.subscribeLocked(c, accountStream)
			c.send(subscribedFrame(accountStream, ""))
			c.send(stateFrame(s.stateLocked(now), now))
		case symbol == "" && slices.Contains(marketChannels, channel):
			s.errorLocked(c, fmt.Sprintf("Missing symbol for channel %s", channel))
		case !slices.Contains(marketChannels, channel) && (symbol == "" || s.feedLocked(channel+":"+symbol) == nil):
			// Channels beyond the documented five exist when the source
			// serves them (a channel added to the schema, say).
			s.errorLocked(c, fmt.Sprintf("Unknown channel %q", channel))
		case !s.knownSymbol(symbol):
			s.errorLocked(c, fmt.Sprintf("Unknown symbol %q", symbol))
		default:
			s.subscribeLocked(c, channel+":"+symbol)
			c.send(subscribedFrame(channel, symbol))
		}
	case "unsubscribe": // the venue documents no reply
		if channel == accountStream {
			s.unsubscribeLocked(c, accountStream)
		} else {
			s.unsubscribeLocked(c, channel+":"+symbol)
		}
	case "":
		s.errorLocked(c, "Missing action")
	default:
		s.errorLocked(c, fmt.Sprintf("Unknown action %q", action))
	}
}

// errorLocked sends an error frame, never containing the token, and counts it.
func (s *Server) errorLocked(c *conn, msg string) {
	c.errors++
	c.send(errorFrame(s.redact(msg)))
}

// str returns the string member key of req ("" when absent), and false when
// it is present but not a string.
func str(req map[string]json.RawMessage, key string) (string, bool) {
	raw, ok := req[key]
	if !ok {
		return "", true
	}
	var v string
	return v, json.Unmarshal(raw, &v) == nil
}
