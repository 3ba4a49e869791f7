package dexsim

import (
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

const writeWait = 10 * time.Second

// conn is one accepted websocket. Its reader handles the client's control
// messages; its writer sends queued frames and pings and enforces the pong
// deadline and the keep-alive window.
type conn struct {
	srv  *Server
	id   int
	ws   *websocket.Conn // set by attach (under mu), before the reader and writer start
	path string
	out  chan []byte
	pong chan struct{} // a pong arrived (reader -> writer)

	keptAt atomic.Int64 // UnixNano of the connection's start or last keepAlive

	// Guarded by srv.mu.
	streams  map[string]bool // marketwire stream names
	address  string          // personal address, "" if none
	personal map[string]bool // personal topics subscribed for address

	mu         sync.Mutex // guards the fields below
	messages   []string
	keepAlives int
	invalid    int
	pings      int
	pongs      int
	reason     string

	closed    chan struct{}
	closeOnce sync.Once
}

func newConn(s *Server, id int, path string) *conn {
	c := &conn{
		srv:      s,
		id:       id,
		path:     path,
		out:      make(chan []byte, s.cfg.outBuffer),
		pong:     make(chan struct{}, 1),
		streams:  map[string]bool{},
		personal: map[string]bool{},
		closed:   make(chan struct{}),
	}
	c.keptAt.Store(time.Now().UnixNano())
	return c
}

// attach gives c its websocket once the handshake is done. Call it before
// starting the reader and writer. If c was closed meanwhile, the websocket
// is closed at once (close could not).
func (c *conn) attach(ws *websocket.Conn) {
	ws.SetPongHandler(func(string) error {
		c.mu.Lock()
		c.pongs++
		c.mu.Unlock()
		select {
		case c.pong <- struct{}{}:
		default:
		}
		return nil
	})
	c.mu.Lock()
	c.ws = ws
	c.mu.Unlock()
	select {
	case <-c.closed:
		ws.Close()
	default:
	}
}

// info describes c. Called with srv.mu held.
func (c *conn) info(open bool) ConnInfo {
	streams := make([]string, 0, len(c.streams))
	for st := range c.streams {
		streams = append(streams, st)
	}
	sort.Strings(streams)
	c.mu.Lock()
	defer c.mu.Unlock()
	return ConnInfo{
		ID: c.id, Path: c.path, Open: open, Address: c.address, Streams: streams,
		Messages: slices.Clone(c.messages), KeepAlives: c.keepAlives, Invalid: c.invalid,
		Pings: c.pings, Pongs: c.pongs, Closed: c.reason,
	}
}

// closeMsg is the payload of a close frame.
func closeMsg(code int, text string) []byte {
	return websocket.FormatCloseMessage(code, text)
}

// close ends the connection once: it sends the close frame msg first unless
// msg is nil (an abrupt close). The connection counts as closed (ConnInfo)
// before the client can notice.
func (c *conn) close(reason string, msg []byte) {
	c.closeOnce.Do(func() {
		c.srv.forget(c, reason)
		close(c.closed)
		c.mu.Lock()
		ws := c.ws
		c.mu.Unlock()
		if ws == nil {
			return // not attached yet: attach closes it
		}
		if msg != nil {
			_ = ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		}
		ws.Close()
	})
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
	case <-c.closed:
		return false
	default:
		c.close("slow consumer", nil)
		return false
	}
}

func (c *conn) writeLoop() {
	defer c.srv.wg.Done()
	cfg := &c.srv.cfg

	var pingC <-chan time.Time
	if cfg.pingEvery > 0 {
		t := time.NewTicker(cfg.pingEvery)
		defer t.Stop()
		pingC = t.C
	}
	pongWait := time.NewTimer(time.Hour)
	pongWait.Stop()
	defer pongWait.Stop()
	var waitingSince time.Time // first ping not answered yet, zero if none

	// The reader records keepAlives in keptAt; the timer checks it when it
	// fires and re-arms for the rest of the window.
	var expire *time.Timer
	var expireC <-chan time.Time
	if cfg.keepAlive > 0 {
		expire = time.NewTimer(cfg.keepAlive)
		defer expire.Stop()
		expireC = expire.C
	}

	for {
		select {
		case <-c.closed:
			return
		case f := <-c.out:
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.TextMessage, f); err != nil {
				c.close("write: "+err.Error(), nil)
				return
			}
		case now := <-pingC:
			c.mu.Lock()
			c.pings++
			n := c.pings
			c.mu.Unlock()
			if err := c.ws.WriteControl(websocket.PingMessage, []byte(strconv.Itoa(n)), now.Add(writeWait)); err != nil {
				c.close("ping: "+err.Error(), nil)
				return
			}
			if waitingSince.IsZero() {
				waitingSince = now
				pongWait.Reset(cfg.pongDeadline)
			}
		case <-c.pong:
			waitingSince = time.Time{}
			pongWait.Stop()
		case now := <-pongWait.C:
			if waitingSince.IsZero() {
				continue // stale
			}
			if left := cfg.pongDeadline - now.Sub(waitingSince); left > 0 {
				pongWait.Reset(left)
				continue
			}
			c.close("pong timeout", nil)
			return
		case now := <-expireC:
			if left := cfg.keepAlive - now.Sub(time.Unix(0, c.keptAt.Load())); left > 0 {
				expire.Reset(left)
				continue
			}
			c.close("keepAlive window expired", closeMsg(websocket.CloseNormalClosure, "keepAlive window expired"))
			return
		}
	}
}

func (c *conn) readLoop() {
	defer c.srv.wg.Done()
	defer c.close("client closed", nil)
	c.ws.SetReadLimit(1 << 20)
	for {
		typ, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if typ != websocket.TextMessage {
			c.countInvalid()
			continue
		}
		c.mu.Lock()
		c.messages = append(c.messages, string(b))
		c.mu.Unlock()
		if !c.handle(b) {
			c.countInvalid()
		}
	}
}

func (c *conn) countInvalid() {
	c.mu.Lock()
	c.invalid++
	c.mu.Unlock()
}
