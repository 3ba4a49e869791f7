package sim

import (
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// conn is one accepted websocket. Its reader handles the client's frames;
// its writer sends queued frames and pings.
type conn struct {
	srv   *Server
	id    int
	ws    *websocket.Conn
	route string
	path  string
	delay time.Duration // latency of every queued frame
	out   chan outFrame

	// Guarded by srv.mu.
	streams    map[string]bool
	order      []string
	subscribes map[string]int

	mu       sync.Mutex // guards the fields below
	combined bool
	recent   []time.Time // receive times within the message window
	messages int
	maxRate  int
	pingData string
	pingAt   time.Time
	pings    int
	pongs    int
	badPongs int
	reason   string

	silent    atomic.Bool
	noPong    atomic.Bool
	closeNext bool // set by handle: close with 1008 after the reply (reader only)
	closed    chan struct{}
	closeOnce sync.Once
}

func newConn(s *Server, id int, ws *websocket.Conn, route, path string, combined bool) *conn {
	c := &conn{
		srv:        s,
		id:         id,
		ws:         ws,
		route:      route,
		path:       path,
		out:        make(chan outFrame, s.outBuffer),
		streams:    map[string]bool{},
		subscribes: map[string]int{},
		combined:   combined,
		closed:     make(chan struct{}),
	}
	ws.SetPingHandler(func(p string) error {
		if err := c.count(); err != nil {
			return err
		}
		if !c.silent.Load() && !c.noPong.Load() {
			_ = ws.WriteControl(websocket.PongMessage, []byte(p), time.Now().Add(10*time.Second))
		}
		return nil
	})
	ws.SetPongHandler(func(p string) error {
		c.mu.Lock()
		if p == c.pingData && !c.pingAt.IsZero() {
			c.pongs++
			c.pingAt = time.Time{}
		} else {
			c.badPongs++
		}
		c.mu.Unlock()
		return c.count()
	})
	return c
}

// outFrame is one entry of a connection's send queue.
type outFrame struct {
	b      []byte
	at     time.Time // when it was queued; written at at + the connection's delay
	end    string    // if set, close the connection for this reason instead of writing
	policy bool      // with end: send the 1008 close frame first
}

func (c *conn) info(open bool) ConnInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return ConnInfo{
		ID: c.id, Route: c.route, Path: c.path, Open: open, Combined: c.combined, Latency: c.delay,
		Streams: slices.Clone(c.order), Subs: maps.Clone(c.subscribes),
		Messages: c.messages, MaxRate: c.maxRate, Pings: c.pings, Pongs: c.pongs, BadPongs: c.badPongs,
		Closed: c.reason,
	}
}

func (c *conn) isCombined() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.combined
}

// count records one incoming frame and enforces the message limit.
func (c *conn) count() error {
	s := c.srv
	if s.msgLimit <= 0 {
		c.mu.Lock()
		c.messages++
		c.mu.Unlock()
		return nil
	}
	now := time.Now()
	c.mu.Lock()
	c.messages++
	i := 0
	for i < len(c.recent) && now.Sub(c.recent[i]) >= s.msgWindow {
		i++
	}
	c.recent = append(c.recent[i:], now)
	n := len(c.recent)
	c.maxRate = max(c.maxRate, n)
	c.mu.Unlock()
	if n > s.msgLimit {
		s.violation(func(v *Violations) { v.Messages++ })
		c.close("too many requests", true)
		return errClosed
	}
	return nil
}

// close ends the connection once. With policy set it first sends the close
// frame 1008 "Too many requests", as the exchange does.
func (c *conn) close(reason string, policy bool) {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.reason = reason
		c.mu.Unlock()
		if policy {
			msg := websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "Too many requests")
			_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		}
		close(c.closed)
		c.ws.Close()
		c.srv.forget(c)
	})
}

// closeQueued closes the connection once the frames queued before have been
// written.
func (c *conn) closeQueued(reason string, policy bool) bool {
	return c.queue(outFrame{end: reason, policy: policy, at: time.Now()}, false)
}

// send queues one frame. With wait set it waits for room; otherwise a full
// queue drops the connection as too slow, like the exchange.
func (c *conn) send(frame []byte, wait bool) bool {
	return c.queue(outFrame{b: frame, at: time.Now()}, wait)
}

func (c *conn) queue(f outFrame, wait bool) bool {
	if wait {
		select {
		case c.out <- f:
			return true
		case <-c.closed:
			return false
		}
	}
	select {
	case c.out <- f:
		return true
	case <-c.closed:
		return false
	default:
		c.close("slow consumer", false)
		return false
	}
}

// sendData queues one payload of stream, wrapped when the connection is combined.
func (c *conn) sendData(stream string, payload []byte, wait bool) bool {
	if !c.isCombined() {
		return c.send(payload, wait)
	}
	f := make([]byte, 0, len(stream)+len(payload)+22)
	f = append(f, `{"stream":`...)
	f = strconv.AppendQuote(f, stream)
	f = append(f, `,"data":`...)
	f = append(f, payload...)
	f = append(f, '}')
	return c.send(f, wait)
}

func (c *conn) writeLoop() {
	defer c.srv.wg.Done()
	s := c.srv
	var ping <-chan time.Time
	if s.pingEvery > 0 {
		t := time.NewTicker(min(s.pingEvery, s.pongDeadline))
		defer t.Stop()
		ping = t.C
	}
	var lastPing time.Time
	for {
		select {
		case <-c.closed:
			return
		case f := <-c.out:
			if c.delay > 0 && !c.sleepUntil(f.at.Add(c.delay)) {
				return
			}
			if f.end != "" {
				c.close(f.end, f.policy)
				return
			}
			if c.silent.Load() {
				continue
			}
			_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := c.ws.WriteMessage(websocket.TextMessage, f.b); err != nil {
				c.close("write: "+err.Error(), false)
				return
			}
		case now := <-ping:
			if c.silent.Load() {
				continue
			}
			c.mu.Lock()
			late := !c.pingAt.IsZero() && now.Sub(c.pingAt) > s.pongDeadline
			due := now.Sub(lastPing) >= s.pingEvery
			if due && c.pingAt.IsZero() {
				c.pingData = strconv.FormatInt(now.UnixNano(), 10)
				c.pingAt = now
				c.pings++
			}
			data := c.pingData
			c.mu.Unlock()
			if late {
				c.close("pong timeout", false)
				return
			}
			if due {
				lastPing = now
				if err := c.ws.WriteControl(websocket.PingMessage, []byte(data), now.Add(10*time.Second)); err != nil {
					c.close("ping: "+err.Error(), false)
					return
				}
			}
		}
	}
}

// sleepUntil waits until t and reports false if the connection closed first.
func (c *conn) sleepUntil(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-c.closed:
		return false
	}
}

// readLoop counts each frame against the message limit as it arrives and
// hands it to handleLoop, which answers the frames in order: as on the
// exchange, a request that takes long to handle does not bunch up the
// arrival times of the frames behind it.
func (c *conn) readLoop() {
	defer c.srv.wg.Done()
	defer c.close("client closed", false)
	c.ws.SetReadLimit(1 << 20)
	in := make(chan []byte, 256)
	handled := make(chan struct{})
	go c.handleLoop(in, handled)
	defer func() {
		close(in)
		<-handled
	}()
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if c.count() != nil {
			return
		}
		select {
		case in <- b:
		case <-c.closed:
			return
		}
	}
}

// handleLoop answers the frames readLoop received, in order, until in is
// closed; it ignores those that arrive after the connection closed.
func (c *conn) handleLoop(in <-chan []byte, handled chan<- struct{}) {
	defer close(handled)
	for b := range in {
		select {
		case <-c.closed:
			continue
		default:
		}
		if c.silent.Load() {
			continue
		}
		if reply := c.handle(b); reply != nil {
			c.send(reply, false)
		}
		if c.closeNext {
			c.closeNext = false
			c.closeQueued("policy close after subscribe", true)
		}
	}
}
