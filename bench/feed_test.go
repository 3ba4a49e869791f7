package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/marketwire/marketwire/sim"
)

// frames is K WebSocket data frames serialized once, headers included, back
// to back in buf. Frame i carries id ids[i], the value the receivers sum.
type frames struct {
	buf    []byte
	off    []int   // frame i is buf[off[i]:off[i+1]]; len K+1
	ids    []int64 // id of frame i
	psum   []int64 // psum[i] = ids[0] + … + ids[i-1] (wrapping); len K+1
	pbytes []int64 // payload bytes of frames 0..i-1; len K+1
	chunks []int   // frame indexes where the full-speed writes start; ends with K
}

// maxChunk bounds one write at full speed, so that a pong or reply the
// feed must send waits for at most that much data.
const maxChunk = 256 << 10

// serialize builds k frames; payload(i) returns frame i's text message and
// the id it carries.
func serialize(k int, payload func(i int) ([]byte, int64)) *frames {
	f := &frames{
		off:    make([]int, k+1),
		ids:    make([]int64, k),
		psum:   make([]int64, k+1),
		pbytes: make([]int64, k+1),
	}
	for i := 0; i < k; i++ {
		p, id := payload(i)
		f.off[i] = len(f.buf)
		f.buf = sim.AppendTextFrame(f.buf, p)
		f.ids[i] = id
		f.psum[i+1] = f.psum[i] + id
		f.pbytes[i+1] = f.pbytes[i] + int64(len(p))
	}
	f.off[k] = len(f.buf)
	start := 0
	for i := 0; i < k; i++ {
		if i > start && f.off[i+1]-f.off[start] > maxChunk {
			f.chunks = append(f.chunks, start)
			start = i
		}
	}
	f.chunks = append(f.chunks, start, k)
	return f
}

func (f *frames) k() int { return len(f.ids) }

// sum returns the (wrapping) sum of the ids of the first n frames streamed:
// the K frames repeat, ids and all.
func (f *frames) sum(n int) int64 {
	k := f.k()
	return int64(n/k)*f.psum[k] + f.psum[n%k]
}

// bytes returns the payload bytes of the first n frames streamed.
func (f *frames) bytes(n int) int64 {
	k := f.k()
	return int64(n/k)*f.pbytes[k] + f.pbytes[n%k]
}

// id returns the id of the j-th frame streamed (from 0).
func (f *frames) id(j int) int64 { return f.ids[j%f.k()] }

// dialect is the control protocol the feed speaks before it streams.
type dialect int

const (
	binance     dialect = iota // SUBSCRIBE/UNSUBSCRIBE requests with ids, combined /stream path
	zdexDialect                // welcome frame, {"action":"subscribe",...} acks, {"action":"ping"} pongs
)

// feed is an in-process WebSocket server on 127.0.0.1 that streams
// pre-serialized frames. A connection is ready once it carries want streams
// (subscribed, or named in /stream?streams=); the benchmark then calls
// stream or pace on it.
type feed struct {
	fr      *frames
	dialect dialect
	want    int
	// raw, when set, are frames streamed to every connection right after
	// the upgrade, whatever its path (the raw /ws/<stream> form), rawN of them.
	raw  *frames
	rawN int

	url   string
	ln    net.Listener
	srv   *http.Server
	ready chan *feedConn

	mu    sync.Mutex
	conns []*feedConn
	wg    sync.WaitGroup
}

// newFeed starts a feed of fr for dialect d; a connection is ready when it
// carries want streams. It is closed when the test ends.
func newFeed(tb testing.TB, fr *frames, d dialect, want int) *feed {
	tb.Helper()
	f := &feed{fr: fr, dialect: d, want: want, ready: make(chan *feedConn, 16)}
	f.start(tb)
	return f
}

// newRawFeed starts a feed that writes n frames of fr to every connection
// right after the upgrade, without waiting for anything.
func newRawFeed(tb testing.TB, fr *frames, n int) *feed {
	tb.Helper()
	f := &feed{fr: fr, raw: fr, rawN: n, ready: make(chan *feedConn, 1)}
	f.start(tb)
	return f
}

func (f *feed) start(tb testing.TB) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	f.ln = ln
	f.url = "ws://" + ln.Addr().String()
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serve), ReadHeaderTimeout: 10 * time.Second}
	go f.srv.Serve(ln)
	tb.Cleanup(f.close)
}

var upgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096}

func (f *feed) serve(w http.ResponseWriter, r *http.Request) {
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &feedConn{f: f, ws: ws, nc: ws.UnderlyingConn(), done: make(chan struct{})}
	f.mu.Lock()
	f.conns = append(f.conns, c)
	f.wg.Add(1)
	f.mu.Unlock()
	defer f.wg.Done()
	defer c.close()
	c.setHandlers()
	if f.raw != nil {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			_ = c.stream(f.rawN)
		}()
	} else {
		if f.dialect == zdexDialect {
			if c.send([]byte(`{"event":"connected","channels":["orderbook","trades","ticker","kline","markprice"],"symbols":["BTCUSDT","ETHUSDT"],"pollIntervalMs":2000}`)) != nil {
				return
			}
		}
		if streams := r.URL.Query().Get("streams"); streams != "" {
			c.subscribed(len(strings.Split(streams, "/")))
		}
	}
	c.readLoop()
}

// close closes every connection and the listener, and waits for the
// connections' goroutines.
func (f *feed) close() {
	f.srv.Close()
	f.mu.Lock()
	conns := f.conns
	f.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	f.wg.Wait()
}

// conn returns the next connection that carries the feed's streams.
func (f *feed) conn(tb testing.TB) *feedConn {
	tb.Helper()
	select {
	case c := <-f.ready:
		return c
	case <-time.After(30 * time.Second):
		tb.Fatal("feed: no connection subscribed within 30 s")
		return nil
	}
}

// feedConn is one client connection of a feed. Every write to it (gorilla's
// replies and pongs, the raw frame writes) holds wmu, and the raw writes end
// on frame boundaries, so a reply never lands inside a data frame.
type feedConn struct {
	f    *feed
	ws   *websocket.Conn
	nc   net.Conn
	wmu  sync.Mutex
	subs int // streams subscribed; read loop only
	rdy  bool
	done chan struct{}
	once sync.Once

	requests atomic.Int64 // client messages received

	nmu   sync.Mutex
	names []string // streams subscribed by SUBSCRIBE, recorded before the reply
}

// streams returns the streams the client subscribed by SUBSCRIBE requests
// answered so far.
func (c *feedConn) streams() []string {
	c.nmu.Lock()
	defer c.nmu.Unlock()
	return slices.Clone(c.names)
}

func (c *feedConn) close() {
	c.once.Do(func() {
		close(c.done)
		c.nc.Close()
	})
}

func (c *feedConn) setHandlers() {
	c.ws.SetPingHandler(func(p string) error {
		c.wmu.Lock()
		defer c.wmu.Unlock()
		err := c.ws.WriteControl(websocket.PongMessage, []byte(p), time.Now().Add(10*time.Second))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	c.ws.SetCloseHandler(func(code int, _ string) error {
		c.wmu.Lock()
		defer c.wmu.Unlock()
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
		return nil
	})
}

// send writes one text message with gorilla, between raw writes.
func (c *feedConn) send(msg []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, msg)
}

// subscribed counts n more streams; the connection is handed to the
// benchmark when it carries the feed's want streams.
func (c *feedConn) subscribed(n int) {
	c.subs += n
	if !c.rdy && c.subs >= c.f.want {
		c.rdy = true
		select {
		case c.f.ready <- c:
		default:
		}
	}
}

// readLoop answers the client's control messages and discards everything
// else until the connection ends.
func (c *feedConn) readLoop() {
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		c.requests.Add(1)
		if c.f.raw != nil {
			continue
		}
		var reply []byte
		n := 0
		switch c.f.dialect {
		case binance:
			var req struct {
				Method string          `json:"method"`
				Params []string        `json:"params"`
				ID     json.RawMessage `json:"id"`
			}
			if json.Unmarshal(msg, &req) != nil || len(req.ID) == 0 {
				continue
			}
			if req.Method == "SUBSCRIBE" {
				n = len(req.Params)
				c.nmu.Lock()
				c.names = append(c.names, req.Params...)
				c.nmu.Unlock()
			}
			reply = fmt.Appendf(nil, `{"result":null,"id":%s}`, req.ID)
		case zdexDialect:
			var req struct {
				Action  string `json:"action"`
				Channel string `json:"channel"`
				Symbol  string `json:"symbol"`
			}
			if json.Unmarshal(msg, &req) != nil {
				continue
			}
			switch req.Action {
			case "subscribe":
				n = 1
				reply = fmt.Appendf(nil, `{"event":"subscribed","channels":[%q],"symbols":[%q]}`, req.Channel, req.Symbol)
			case "ping":
				reply = fmt.Appendf(nil, `{"event":"pong","ts":%d}`, time.Now().UnixMilli())
			}
		}
		if reply != nil && c.send(reply) != nil {
			return
		}
		if n > 0 {
			c.subscribed(n)
		}
	}
}

// write writes buf[from:to] of the frames straight to the TCP connection.
func (c *feedConn) write(b []byte) error {
	c.wmu.Lock()
	_, err := c.nc.Write(b)
	c.wmu.Unlock()
	return err
}

// stream writes n frames as fast as the socket takes them: the K frames in
// order, again and again, the last repetition cut after n frames in all.
// It does no work per message.
func (c *feedConn) stream(n int) error {
	fr := c.f.fr
	if c.f.raw != nil {
		fr = c.f.raw
	}
	for n > 0 {
		for i := 0; i+1 < len(fr.chunks) && n > 0; i++ {
			from, to := fr.chunks[i], fr.chunks[i+1]
			to = min(to, from+n)
			if err := c.write(fr.buf[fr.off[from]:fr.off[to]]); err != nil {
				return err
			}
			n -= to - from
		}
	}
	return nil
}

// pace writes n frames at rate frames per second: frame j is due at
// start + j/rate. Each write carries the frames due by then (one, unless the
// feed fell behind) and stamps[j] is when frame j's write began, in
// nanoseconds since epoch. It returns the number of writes.
//
// Waiting for the next frame: time.Sleep lasts a millisecond or more when
// the process is otherwise idle, and spinning (with or without
// runtime.Gosched) holds one of the two cores and delays the reader's
// wake-ups by milliseconds. So at frame intervals of 50 µs and more the
// feed sleeps in nanosleep on a thread of its own, with the thread's timer
// slack at 1 ns (see sleeper); at shorter intervals it yields its P with
// time.Sleep(1µs), which returns at the scheduler's next timer check and
// writes whatever is due by then (a few frames a write; frames/write shows
// it). A pace that locked its thread leaves it locked: the thread ends with
// the calling goroutine.
func (c *feedConn) pace(n int, rate float64, epoch time.Time, stamps []int64) (writes int, err error) {
	fr := c.f.fr
	k := fr.k()
	interval := float64(time.Second) / rate
	var sleep func(time.Duration)
	if interval >= float64(50*time.Microsecond) {
		sleep = sleeper()
	} else {
		sleep = func(time.Duration) { time.Sleep(time.Microsecond) }
	}
	start := time.Since(epoch)
	for j := 0; j < n; {
		now := time.Since(epoch)
		due := int(float64(now-start)/interval) + 1 // frames due by now
		if due <= j {
			sleep(start + time.Duration(float64(j)*interval) - now)
			continue
		}
		m := min(due, n) - j
		i := j % k
		m = min(m, k-i) // a write ends at the end of the buffer
		for x := j; x < j+m; x++ {
			stamps[x] = int64(now)
		}
		if err := c.write(fr.buf[fr.off[i]:fr.off[i+m]]); err != nil {
			return writes, err
		}
		writes++
		j += m
	}
	return writes, nil
}
