package runtime

import (
	"context"
	"errors"
	"fmt"
	"github.com/marketwire/marketwire/internal/dispatch"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// link is one physical websocket of a socket. It has exactly two goroutines:
// the reader (frames in, demultiplexed to subscriptions) and the writer (the
// only place that writes: control requests and pongs, rate limited, each
// write with a deadline). A socket normally has one link; during a
// replacement it briefly has two.
type link struct {
	s       *socket
	ws      *websocket.Conn
	url     string
	opened  time.Time
	retired atomic.Bool // set when a replacement took over: data is ignored

	// Guarded by s.mu: whether the link takes part in subscriptions, and the
	// streams it has been asked to carry (each is sent at most once per link).
	ready      bool
	subscribed map[string]bool

	lim   *limiter // the writer's; Stats reads its recent sends
	wmu   sync.Mutex
	queue []*request // control requests not yet written
	pong  []byte     // payload of the latest unanswered ping, written before requests
	wake  chan struct{}

	cmu      sync.Mutex
	inflight []*flight // written, waiting for a reply, in write order
	npending atomic.Int32

	keybuf    []byte        // the reader's scratch space for routing keys
	unflushed bool          // the reader staged payloads since it last flushed (see socket.stage)
	gid       atomic.Uint64 // the reader goroutine's id (see goid)
	reads     atomic.Uint64 // frames read, pings and pongs included: the watchdog's sign of life

	stop      chan struct{} // closed by close
	stopOnce  sync.Once
	dead      chan struct{} // closed when the link failed or was closed
	deadOnce  sync.Once
	cause     error         // why it died; read after dead is closed
	shutdown  chan struct{} // closed when the server announced a shutdown
	shutOnce  sync.Once
	writerEnd chan struct{}
	readerEnd chan struct{}
}

// readBuffer is the size of a link's read buffer: the most bytes one read
// system call takes from the network connection. gorilla's default, 4 KiB,
// holds about 20 frames of 200 bytes, and at full speed the read calls cost
// about 230 ns per such frame (bench.BenchmarkFloor, 2-core VM); with 16 KiB
// the rows of 1.6 KB frames were 700-1100 ns per frame faster, the small
// ones up to 190 ns or within noise; 64 KiB did not do clearly better. A
// read returns what has arrived, so a quiet stream waits no longer; the
// cost is 12 KiB more memory per link. bench/ gives its bare read the same
// buffer, so that the floor is not handicapped.
const readBuffer = 16 << 10

// dialLink opens one websocket and starts its reader and writer.
func (s *socket) dialLink(ctx context.Context) (*link, error) {
	c := s.conn
	var rc *readConn
	d := websocket.Dialer{HandshakeTimeout: c.opts.handshakeTimeout, Proxy: nil, ReadBufferSize: readBuffer,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := new(net.Dialer).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			rc = &readConn{Conn: nc}
			return rc, nil
		}}
	ws, resp, err := d.DialContext(ctx, s.url, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			err = fmt.Errorf("%w (HTTP %s)", err, resp.Status)
		}
		return nil, fmt.Errorf("runtime: dial %s: %w", s.url, err)
	}
	l := &link{
		s:          s,
		ws:         ws,
		url:        s.url,
		opened:     time.Now(),
		subscribed: map[string]bool{},
		lim:        newLimiter(c.opts.rateN, c.opts.ratePer),
		wake:       make(chan struct{}, 1),
		stop:       make(chan struct{}),
		dead:       make(chan struct{}),
		shutdown:   make(chan struct{}),
		writerEnd:  make(chan struct{}),
		readerEnd:  make(chan struct{}),
	}
	if rc != nil {
		rc.l = l // before the reader starts
	}
	ws.SetReadLimit(c.opts.readLimit)
	// Pings and pongs are handled inside NextReader, which does not return
	// for them, so their handlers count them as signs of life themselves.
	_ = ws.SetReadDeadline(time.Now().Add(c.opts.readTimeout))
	alive := func() { l.reads.Add(1) }
	ws.SetPongHandler(func(string) error { alive(); return nil })
	// Only the latest ping needs its pong: a newer ping replaces an older
	// one still waiting, so pings can never outrun the rate limit.
	ws.SetPingHandler(func(payload string) error {
		alive()
		l.wmu.Lock()
		l.pong = append(make([]byte, 0, len(payload)+1), payload...)
		l.wmu.Unlock()
		dispatch.Signal(l.wake)
		return nil
	})
	if !c.spawn(l.readLoop, l.writeLoop) {
		ws.Close()
		return nil, ErrClosed
	}
	return l, nil
}

// enqueue queues control requests for the writer. On a dead link they fail
// at once.
func (l *link) enqueue(rs ...*request) {
	l.wmu.Lock()
	select {
	case <-l.dead:
		l.wmu.Unlock()
		for _, r := range rs {
			r.done(nil, errLinkClosed)
		}
		return
	default:
	}
	l.queue = append(l.queue, rs...)
	l.wmu.Unlock()
	dispatch.Signal(l.wake)
}

// retry puts the requests of a refused batch back at the front of the
// queue, as two halves that go out separately, so that the streams the
// server refused are found in a few messages and end alone.
func (l *link) retry(b batch) {
	half := (len(b) + 1) / 2
	rs := make([]*request, len(b))
	for i, r := range b {
		r.limit = half
		if i >= half {
			r.limit = len(b) - half
		}
		rs[i] = r
	}
	l.wmu.Lock()
	select {
	case <-l.dead:
		l.wmu.Unlock()
		b.finish(nil, errLinkClosed)
		return
	default:
	}
	l.queue = append(rs, l.queue...)
	l.wmu.Unlock()
	dispatch.Signal(l.wake)
}

// fail marks the link dead with a cause; the socket's supervisor reacts.
func (l *link) fail(err error) {
	l.deadOnce.Do(func() {
		l.cause = err
		close(l.dead)
	})
}

// close stops the link and waits for its goroutines: the writer sends a close
// frame, then the network connection is closed, which ends the reader.
// Requests still queued or in flight fail with errLinkClosed.
func (l *link) close() {
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.writerEnd
	l.ws.Close()
	<-l.readerEnd
	l.fail(errLinkClosed)

	l.wmu.Lock()
	queued := l.queue
	l.queue = nil
	l.wmu.Unlock()
	l.cmu.Lock()
	pending := l.inflight
	l.inflight = nil
	l.cmu.Unlock()
	for _, r := range queued {
		r.done(nil, errLinkClosed)
	}
	for _, fl := range pending {
		fl.b.finish(nil, errLinkClosed)
	}
}

func (l *link) writeLoop() {
	defer close(l.writerEnd)
	c := l.s.conn
	d := &c.market.Dialect
	lim := l.lim
	var keepTick <-chan time.Time
	if d.KeepAlive != "" && d.KeepAliveEvery > 0 {
		t := time.NewTicker(d.KeepAliveEvery)
		defer t.Stop()
		keepTick = t.C
	}
	// The watchdog: every eighth of the read timeout, a link that read
	// anything since the last look gets its read deadline moved, so the
	// reader never reads the clock; one quiet for a third of the timeout is
	// probed, so that a half-open link is noticed within the timeout rather
	// than at the server's next ping.
	timeout := c.opts.readTimeout
	watch := time.NewTicker(timeout / 8)
	defer watch.Stop()
	canProbe := d.ProbePing || d.Probe != ""
	lastReads, lastLife := uint64(0), time.Now()
	due, probe := false, false // a keep-alive message, a probe is due
	for {
		select {
		case <-l.wake:
		case <-keepTick:
			due = true
		case now := <-watch.C:
			if n := l.reads.Load(); n != lastReads {
				lastReads, lastLife = n, now
				_ = l.ws.SetReadDeadline(now.Add(timeout))
			}
			probe = canProbe && now.Sub(lastLife) >= timeout/3
		case <-l.stop:
			l.writeClose()
			return
		case <-l.dead:
			return
		}
		for {
			l.wmu.Lock()
			var pong, msg, ping []byte
			var b batch
			switch {
			case l.pong != nil:
				pong, l.pong = l.pong, nil
			case probe && d.ProbePing:
				ping, probe = []byte{}, false
			case probe:
				msg, probe = []byte(d.Probe), false
			case due:
				msg, due = []byte(d.KeepAlive), false
			case len(l.queue) > 0:
				b, l.queue = takeBatch(l.queue, d.Batch)
			}
			l.wmu.Unlock()
			if pong == nil && msg == nil && ping == nil && b == nil {
				break
			}
			if !lim.wait(l.stop) {
				if b != nil {
					b.finish(nil, errLinkClosed)
				}
				l.writeClose()
				return
			}
			c.stats.control.Add(1)
			var err error
			switch {
			case pong != nil:
				err = l.write(websocket.PongMessage, pong)
			case ping != nil:
				err = l.write(websocket.PingMessage, ping)
			case msg != nil:
				err = l.write(websocket.TextMessage, msg)
			default:
				l.s.fresh()
				err = l.writeBatch(b)
			}
			lim.written()
			if err != nil {
				l.fail(fmt.Errorf("runtime: write: %w", err))
				return
			}
		}
	}
}

// writeBatch writes one request frame. A request whose venue sends no
// reply for it is done once written; the others wait in l.inflight.
func (l *link) writeBatch(b batch) error {
	c := l.s.conn
	id := c.nextID.Add(1)
	msg, err := b.encode(&c.market.Dialect, id, c.opts.token)
	if err != nil {
		b.finish(nil, err)
		return nil
	}
	fl := &flight{id: id, b: b, await: b.awaits(c.grammar)}
	if c.grammar.id < 0 && len(fl.await) == 0 {
		if err := l.write(websocket.TextMessage, msg); err != nil {
			b.finish(nil, errLinkClosed)
			return err
		}
		b.finish(nil, nil)
		return nil
	}
	// Register before writing: the reply may arrive before Write returns.
	l.cmu.Lock()
	l.inflight = append(l.inflight, fl)
	l.npending.Add(1)
	l.cmu.Unlock()
	return l.write(websocket.TextMessage, msg)
}

func (l *link) write(typ int, p []byte) error {
	if err := l.ws.SetWriteDeadline(time.Now().Add(l.s.conn.opts.writeTimeout)); err != nil {
		return err
	}
	return l.ws.WriteMessage(typ, p)
}

func (l *link) writeClose() {
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	_ = l.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
}

// maxKeptBuffer is the largest arena chunk a link keeps writing frames into.
const maxKeptBuffer = 1 << 20

// readConn is a link's network connection. Before each read from the
// network, where the reader may wait, it queues the payloads the reader
// staged (see socket.stage).
type readConn struct {
	net.Conn
	l *link // nil during the handshake
}

func (c *readConn) Read(p []byte) (int, error) {
	if l := c.l; l != nil && l.unflushed {
		l.flush()
	}
	return c.Conn.Read(p)
}

// flush queues what the link's reader staged. Called on the reader.
func (l *link) flush() {
	l.unflushed = false
	l.s.dmu.Lock()
	l.s.flush()
	l.s.dmu.Unlock()
}

func (l *link) readLoop() {
	defer close(l.readerEnd)
	defer l.flush()
	l.gid.Store(goid())
	var a arena
	for {
		_, r, err := l.ws.NextReader()
		var b []byte
		if err == nil {
			b, err = a.read(r)
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				err = fmt.Errorf("%w (%v)", ErrNoData, l.s.conn.opts.readTimeout)
			}
			l.fail(err)
			return
		}
		l.reads.Add(1)
		l.handleFrame(b)
		if cap(a.buf) > maxKeptBuffer {
			a = arena{} // do not keep filling the chunk of one large frame
		}
	}
}

// handleFrame classifies one frame by the market's Dialect: a control frame
// to ignore, a shutdown notice, stream data, a reply, or a bare payload of
// the socket's only stream.
func (l *link) handleFrame(b []byte) {
	s := l.s
	c := s.conn
	g := c.grammar
	c.stats.frames.Add(1)
	f := frame{g: g}
	if err := f.scan(b); err != nil {
		c.stats.malformed.Add(1)
		s.frameError("malformed", Event{}, nil, b, fmt.Errorf("%w: %v", ErrMalformedFrame, err))
		return
	}
	l.handleScanned(&f, b)
}

// handleScanned is handleFrame after the scan.
func (l *link) handleScanned(f *frame, b []byte) {
	s := l.s
	c := s.conn
	g := c.grammar
	switch {
	case f.matches(g.ignore):
		return
	case f.matches(g.shutdown):
		l.notifyShutdown()
		return
	}
	data := f.get(g.data)
	if data != nil {
		key, cut, ok := f.routeKey(l.keybuf[:0])
		l.keybuf = key
		if ok {
			s.deliver(l, key, cut, data, b, f.lazy)
			return
		}
	}
	isErr := f.matches(g.errs)
	if isErr || f.matches(g.ack) || f.matches(g.authOK) || data == nil && f.get(g.id) != nil {
		l.handleReply(f, isErr)
		return
	}
	if s.only != nil {
		// The URL names the socket's one stream; its frames are bare payloads.
		s.deliver(l, s.only, -1, b, b, false)
		return
	}
	c.stats.malformed.Add(1)
	s.frameError("unrecognised", Event{}, nil, b, ErrUnknownFrame)
}
func (l *link) notifyShutdown() {
	l.shutOnce.Do(func() { close(l.shutdown) })
}
