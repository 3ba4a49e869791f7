package sim

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/runtime"
)

// Dialect is the dialect the Server speaks: the binance venue's, from the
// schema (every Binance market has the same one). Test markets use it.
var Dialect = spot.Market.Dialect

// Option configures a Server.
type Option func(*Server)

// WithValid sets the function that says whether a stream name exists. The
// default accepts every manual stream (WithManual) and every name the
// Source can open, or every name when there is no Source.
func WithValid(valid func(stream string) bool) Option {
	return func(s *Server) { s.valid = valid }
}

// WithRoute sets the function that gives a stream's route. A stream
// subscribed on another route is accepted but receives no data, as on the
// exchange; an unrouted connection only receives "public" streams. Without
// it every stream is served on every route.
func WithRoute(route func(stream string) string) Option {
	return func(s *Server) { s.routeOf = route }
}

// WithSource sets where payloads come from.
func WithSource(src Source) Option {
	return func(s *Server) { s.source = src }
}

// WithPublishInterval sets the publish tick (default 100 ms); 0 disables
// periodic publishing (use Publish and Blast).
func WithPublishInterval(d time.Duration) Option {
	return func(s *Server) { s.publishEvery = d }
}

// WithPing sets how often the server pings (default the Market's
// PingInterval, else 20 s) and how long it waits for the pong before closing
// the connection (default PongDeadline, else 1 min). interval 0 disables
// pings.
func WithPing(interval, deadline time.Duration) Option {
	return func(s *Server) { s.pingEvery, s.pongDeadline = interval, deadline }
}

// WithMessageLimit sets the incoming message limit: more than n frames
// (text, ping or pong) in any window of length per closes the connection
// with 1008 "Too many requests". The default is the Market's
// ControlMessagesPerSecond per second; n = 0 disables the check.
func WithMessageLimit(n int, per time.Duration) Option {
	return func(s *Server) { s.msgLimit, s.msgWindow = n, per }
}

// WithStreamLimit sets the most streams per connection (default the
// Market's StreamsPerConnection; 0 means none).
func WithStreamLimit(n int) Option {
	return func(s *Server) { s.streamLimit = n }
}

// WithConnectionBudget sets how many connection attempts one client IP may
// make within any window of length per (default the Market's
// ConnectionAttempts per ConnectionWindow; n = 0 means no limit). Every
// websocket handshake counts, refused ones too; one beyond the budget is
// refused with HTTP 429 and counted in Violations.
func WithConnectionBudget(n int, per time.Duration) Option {
	return func(s *Server) { s.connBudget, s.connWindow = n, per }
}

// WithOutboundBuffer sets how many frames may wait for one connection
// before the server drops it as too slow (default 4096).
func WithOutboundBuffer(n int) Option {
	return func(s *Server) { s.outBuffer = n }
}

// WithLatency delays every frame the server queues for a connection (data,
// replies, notices; not pings and pongs) by latency(id), where id is the
// connection's ConnInfo.ID: each frame is written when its queue time plus
// the delay has passed, in queue order. Use it to put one socket behind
// another.
func WithLatency(latency func(connID int) time.Duration) Option {
	return func(s *Server) { s.latency = latency }
}

// WithAddr sets the address Start listens on (default 127.0.0.1:0).
func WithAddr(addr string) Option {
	return func(s *Server) { s.addr = addr }
}

// WithManual marks the streams that are published only by hand (Publish,
// Blast): the server accepts them without opening them from its Source.
// A server without a Source treats every stream so.
func WithManual(manual func(stream string) bool) Option {
	return func(s *Server) { s.manual = manual }
}

// WithLogf sets where the server reports what it cannot do: a subscribed
// stream, not manual, whose Source fails to open stays subscribed and
// silent, and the error is reported once per stream. nil means log.Printf.
// logf is called with the server's lock held and must not call the server.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(s *Server) { s.logf = logf }
}

// Server is an in-process exchange that speaks Binance's stream protocol:
// raw (/ws/<s1>/<s2>) and combined (/stream?streams=) connections, under
// /<route>/ when the market has routes; live SUBSCRIBE, UNSUBSCRIBE,
// LIST_SUBSCRIPTIONS, SET_PROPERTY and GET_PROPERTY with the exchange's
// replies and error texts; the incoming message limit, the streams per
// connection and the per-IP connection budget, with Violations counted;
// server pings with a pong deadline; and faults that tests trigger at any
// time.
type Server struct {
	market       *runtime.Market
	valid        func(string) bool
	routeOf      func(string) string
	source       Source
	manual       func(string) bool
	logf         func(format string, args ...any)
	publishEvery time.Duration
	pingEvery    time.Duration
	pongDeadline time.Duration
	msgLimit     int
	msgWindow    time.Duration
	streamLimit  int
	outBuffer    int
	addr         string
	latency      func(int) time.Duration
	connBudget   int
	connWindow   time.Duration

	upgrader websocket.Upgrader
	http     *http.Server
	url      string

	mu         sync.Mutex
	conns      map[*conn]bool // open connections
	all        []*conn        // every connection ever, for Conns
	nextID     int
	upgrading  map[int]bool // ids of handshakes under way, which have no conn yet
	registered *sync.Cond   // on mu; signalled when a handshake ends
	feeds      map[string]Feed
	published  map[string]int64          // stream -> payloads its feed published
	subs       map[string]map[*conn]bool // stream -> subscribed connections
	rejectNext *wireError
	rejected   map[string]wireError // RejectStream
	policyLoop bool                 // ClosePolicyAfterSubscribe
	timers     []*time.Timer
	closed     bool
	attempts   map[string][]time.Time // client IP -> handshake times within connWindow
	violations Violations
	dataFaults map[string]*dataFaults // DropNext, DuplicateNext
	rest       *restServer            // WithDepthSnapshots (rest.go)

	wg   sync.WaitGroup
	stop chan struct{}
}

// New returns a server for market m. It starts publishing at once; call
// Start to listen, or serve it with httptest.NewServer.
func New(m *runtime.Market, opts ...Option) *Server {
	s := &Server{
		market:       m,
		publishEvery: 100 * time.Millisecond,
		pingEvery:    m.Limits.PingInterval,
		pongDeadline: m.Limits.PongDeadline,
		msgLimit:     m.Limits.ControlMessagesPerSecond,
		msgWindow:    time.Second,
		streamLimit:  m.Limits.StreamsPerConnection,
		connBudget:   m.Limits.ConnectionAttempts,
		connWindow:   m.Limits.ConnectionWindow,
		attempts:     map[string][]time.Time{},
		rejected:     map[string]wireError{},
		outBuffer:    4096,
		addr:         "127.0.0.1:0",
		conns:        map[*conn]bool{},
		upgrading:    map[int]bool{},
		feeds:        map[string]Feed{},
		published:    map[string]int64{},
		subs:         map[string]map[*conn]bool{},
		stop:         make(chan struct{}),
	}
	if s.pingEvery == 0 {
		s.pingEvery = 20 * time.Second
	}
	if s.pongDeadline == 0 {
		s.pongDeadline = time.Minute
	}
	if s.connWindow <= 0 {
		s.connWindow = 5 * time.Minute
	}
	s.registered = sync.NewCond(&s.mu)
	s.upgrader.HandshakeTimeout = 10 * time.Second
	for _, o := range opts {
		o(s)
	}
	if s.logf == nil {
		s.logf = log.Printf
	}
	if s.source == nil {
		s.source = Sources{}
		if s.manual == nil { // no data: every stream is published by hand
			s.manual = func(string) bool { return true }
		}
		if s.valid == nil { // and every name is valid, for Publish and Blast
			s.valid = func(string) bool { return true }
		}
	}
	if s.manual == nil {
		s.manual = func(string) bool { return false }
	}
	if s.valid == nil {
		s.valid = func(stream string) bool {
			if s.manual(stream) {
				return true
			}
			_, err := s.source.Open(stream)
			return err == nil
		}
	}
	if s.publishEvery > 0 {
		s.wg.Add(1)
		go s.publishLoop()
	}
	return s
}

// Start listens on a loopback address and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.url = "ws://" + ln.Addr().String()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.http.Serve(ln)
	}()
	return nil
}

// URL returns the ws:// base URL after Start.
func (s *Server) URL() string { return s.url }

// Close stops the server, closes every connection and waits for all of its
// goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for _, t := range s.timers {
		t.Stop()
	}
	open := s.openConns()
	s.mu.Unlock()
	close(s.stop)
	if s.http != nil {
		_ = s.http.Close()
	}
	for _, c := range open {
		c.close("server closed", false)
	}
	s.wg.Wait()
}

func (s *Server) openConns() []*conn {
	out := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

// ServeHTTP accepts websocket connections on the exchange's paths.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !websocket.IsWebSocketUpgrade(r) && s.serveREST(w, r) {
		return
	}
	if websocket.IsWebSocketUpgrade(r) && !s.admit(r) {
		// The budget counts attempts, so the exchange refuses the handshake
		// itself, with its HTTP status for an exceeded rate limit.
		w.Header().Set("Retry-After", strconv.Itoa(int(s.connWindow.Seconds())))
		http.Error(w, `{"code":-1003,"msg":"Too many connection attempts."}`, http.StatusTooManyRequests)
		return
	}
	route, path := "", r.URL.Path
	if len(s.market.Routes) > 0 {
		for _, rt := range s.market.Routes {
			if strings.HasPrefix(path, "/"+rt+"/") {
				route, path = rt, path[len(rt)+1:]
				break
			}
		}
	}
	var streams []string
	combined := false
	switch {
	case path == "/stream":
		combined = true
		if q := r.URL.Query().Get("streams"); q != "" {
			streams = strings.Split(q, "/")
		}
	case path == "/ws":
	case strings.HasPrefix(path, "/ws/"):
		streams = strings.Split(path[len("/ws/"):], "/")
	default:
		http.Error(w, `{"code":-1,"msg":"not found"}`, http.StatusNotFound)
		return
	}
	for _, st := range streams {
		if !s.valid(st) {
			http.Error(w, `{"code":2,"msg":"Invalid request: invalid stream"}`, http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		rej, rejected := s.rejected[st]
		s.mu.Unlock()
		if rejected {
			http.Error(w, string(errFrame(rej.Code, rej.Msg)), http.StatusBadRequest)
			return
		}
	}
	if s.streamLimit > 0 && len(streams) > s.streamLimit {
		s.violation(func(v *Violations) { v.Streams++ })
		http.Error(w, `{"code":2,"msg":"Invalid request: too many streams"}`, http.StatusBadRequest)
		return
	}
	// The id is taken before the handshake completes, so ids follow the
	// order of the handshakes, and Conns waits for the upgrades under way,
	// so a connection is listed once its client's dial has returned.
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	s.nextID++
	id := s.nextID
	s.upgrading[id] = true
	s.mu.Unlock()
	var delay time.Duration
	if s.latency != nil {
		delay = s.latency(id)
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	s.mu.Lock()
	delete(s.upgrading, id)
	s.registered.Broadcast()
	if err != nil || s.closed {
		s.mu.Unlock()
		if err == nil {
			ws.Close()
		}
		return
	}
	c := newConn(s, id, ws, route, r.URL.RequestURI(), combined)
	c.delay = delay
	s.conns[c] = true
	s.all = append(s.all, c)
	for _, st := range streams {
		s.subscribeLocked(c, st)
	}
	if s.policyLoop && len(streams) > 0 {
		c.closeQueued("policy close after subscribe", true)
	}
	s.wg.Add(2)
	s.mu.Unlock()
	go c.readLoop()
	go c.writeLoop()
}

// admit records one handshake of r's client IP and reports whether it is
// within the connection budget.
func (s *Server) admit(r *http.Request) bool {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.attempts[ip]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= s.connWindow {
		i++
	}
	ts = append(ts[i:], now)
	s.attempts[ip] = ts
	v := &s.violations
	v.MaxAttemptsPerWindow = max(v.MaxAttemptsPerWindow, len(ts))
	if s.connBudget > 0 && len(ts) > s.connBudget {
		v.ConnectionAttempts++
		return false
	}
	return true
}

// violation updates the violation counts.
func (s *Server) violation(f func(*Violations)) {
	s.mu.Lock()
	f(&s.violations)
	s.mu.Unlock()
}

// Violations counts what clients did beyond the exchange's limits.
type Violations struct {
	ConnectionAttempts int // handshakes refused (HTTP 429) over the per-IP connection budget
	Messages           int // connections closed with 1008 for exceeding the message limit
	Streams            int // handshakes and SUBSCRIBE requests refused for exceeding the streams per connection
	// MaxAttemptsPerWindow is the most handshakes one client IP made within
	// any window of length Window, refused ones included.
	MaxAttemptsPerWindow int
	Window               time.Duration // the connection budget's window
}

// Violations returns the limit violations counted so far.
func (s *Server) Violations() Violations {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.violations
	v.Window = s.connWindow
	return v
}

// subscribeLocked adds stream to c. Called with s.mu held.
func (s *Server) subscribeLocked(c *conn, stream string) {
	c.subscribes[stream]++
	if c.streams[stream] {
		return
	}
	c.streams[stream] = true
	c.order = append(c.order, stream)
	if s.subs[stream] == nil {
		s.subs[stream] = map[*conn]bool{}
	}
	s.subs[stream][c] = true
	if _, ok := s.feeds[stream]; !ok { // opened once per stream, so reported once
		var f Feed
		if !s.manual(stream) {
			var err error
			if f, err = s.source.Open(stream); err != nil {
				f = nil
				s.logf("sim: %s stream %q is subscribed but gets no data: %v", s.market.Name, stream, err)
			}
		}
		s.feeds[stream] = f
	}
}

func (s *Server) unsubscribeLocked(c *conn, stream string) {
	if !c.streams[stream] {
		return
	}
	delete(c.streams, stream)
	for i, x := range c.order {
		if x == stream {
			c.order = append(c.order[:i:i], c.order[i+1:]...)
			break
		}
	}
	delete(s.subs[stream], c)
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	for st := range c.streams {
		delete(s.subs[st], c)
	}
}

// serves reports whether c receives stream's data (the route matches).
func (s *Server) serves(c *conn, stream string) bool {
	if s.routeOf == nil {
		return true
	}
	r := s.routeOf(stream)
	return r == c.route || c.route == "" && r == "public"
}

func (s *Server) publishLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.publishEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.tick(now)
		}
	}
}

// tick publishes one payload of every open feed. A feed, once opened,
// advances at every tick whether or not anyone is subscribed now, as the
// exchange publishes regardless of who listens: a client that is away
// misses what was published meanwhile.
func (s *Server) tick(now time.Time) {
	type job struct {
		stream string
		feed   Feed
		conns  []*conn
	}
	s.mu.Lock()
	jobs := make([]job, 0, len(s.feeds))
	for st, f := range s.feeds {
		if f == nil {
			continue
		}
		j := job{stream: st, feed: f}
		for c := range s.subs[st] {
			if s.serves(c, st) {
				j.conns = append(j.conns, c)
			}
		}
		jobs = append(jobs, j)
	}
	s.mu.Unlock()
	for _, j := range jobs {
		p := j.feed.Next(now)
		if p == nil {
			continue
		}
		s.mu.Lock()
		s.published[j.stream]++
		s.mu.Unlock()
		for range s.copies(j.stream) {
			for _, c := range j.conns {
				c.sendData(j.stream, p, false)
			}
		}
	}
}

// Published returns how many payloads the feed of stream has published
// since it was opened (at its first subscription), counting those published
// while nobody was subscribed. With a Numbered source this is the last
// aggregate or trade id of the stream (half the last u of a depth stream).
// Publish and Blast are not counted.
func (s *Server) Published(stream string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.published[stream]
}

// Publish sends one payload of stream to every connection subscribed to it
// now, and returns how many it reached.
func (s *Server) Publish(stream string, payload []byte) int {
	n := 0
	for _, c := range s.subscribers(stream) {
		if c.sendData(stream, payload, false) {
			n++
		}
	}
	return n
}

// Blast pushes pre-built payloads of stream to every subscribed connection
// as fast as their sockets take them, waiting for room instead of dropping
// slow connections. It returns the number of frames queued. Use it for
// benchmarks.
func (s *Server) Blast(stream string, payloads [][]byte) int {
	n := 0
	for _, c := range s.subscribers(stream) {
		for _, p := range payloads {
			if !c.sendData(stream, p, true) {
				break
			}
			n++
		}
	}
	return n
}

func (s *Server) subscribers(stream string) []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*conn
	for c := range s.subs[stream] {
		if s.serves(c, stream) {
			out = append(out, c)
		}
	}
	return out
}

// Faults.

// open returns the open connections, after waiting for handshakes under
// way, so that a fault reaches every connection whose dial has returned.
func (s *Server) open() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waitUpgrades()
	return s.openConns()
}

// waitUpgrades waits, with s.mu held, for the handshakes that had begun
// when it was called to register or fail.
func (s *Server) waitUpgrades() {
	last := s.nextID
	for {
		busy := false
		for id := range s.upgrading {
			busy = busy || id <= last
		}
		if !busy {
			return
		}
		s.registered.Wait()
	}
}

// DropConnections closes every open connection abruptly (no close frame)
// and returns how many there were.
func (s *Server) DropConnections() int {
	open := s.open()
	for _, c := range open {
		c.close("dropped", false)
	}
	return len(open)
}

// Silence makes every open connection fully half-open: no data, pings,
// pongs or replies, while the TCP connection stays open. New connections
// are not affected.
func (s *Server) Silence() int {
	open := s.open()
	for _, c := range open {
		c.silent.Store(true)
	}
	return len(open)
}

// NoPong makes every open connection stop answering the client's pings
// while data, replies and the server's own pings go on. New connections
// are not affected.
func (s *Server) NoPong() int {
	open := s.open()
	for _, c := range open {
		c.noPong.Store(true)
	}
	return len(open)
}

// SendRaw sends frame as is to every open connection.
func (s *Server) SendRaw(frame []byte) int {
	open := s.open()
	for _, c := range open {
		c.send(frame, false)
	}
	return len(open)
}

// SendMalformed sends a truncated, invalid frame to every open connection.
func (s *Server) SendMalformed() int {
	return s.SendRaw([]byte(`{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":17`))
}

// SendOversized sends a text frame of n bytes to every open connection: a
// JSON object {"pad":"xx…"} when n >= 10, else n bytes of 'x'.
func (s *Server) SendOversized(n int) int {
	f := bytes.Repeat([]byte{'x'}, n)
	if n >= 10 {
		copy(f, `{"pad":"`)
		copy(f[n-2:], `"}`)
	}
	return s.SendRaw(f)
}

// PingStorm sends n pings at once to every open connection, ahead of any
// queued frames. The client's pongs to them count as BadPongs and, like
// every client frame, against the message limit.
func (s *Server) PingStorm(n int) int {
	open := s.open()
	for _, c := range open {
		if c.silent.Load() {
			continue
		}
		for i := range n {
			data := []byte("storm-" + strconv.Itoa(i))
			if c.ws.WriteControl(websocket.PingMessage, data, time.Now().Add(time.Second)) != nil {
				break
			}
		}
	}
	return len(open)
}

// SendServerShutdown sends the serverShutdown event to every open
// connection (combined or raw form) and, if closeAfter > 0, closes those
// connections that much later.
func (s *Server) SendServerShutdown(closeAfter time.Duration) int {
	open := s.sendShutdown()
	if closeAfter > 0 {
		s.mu.Lock()
		if !s.closed {
			s.timers = append(s.timers, time.AfterFunc(closeAfter, func() {
				for _, c := range open {
					c.close("server shutdown", false)
				}
			}))
		}
		s.mu.Unlock()
	}
	return len(open)
}

// SendServerShutdownAndClose sends the serverShutdown event to every open
// connection and closes each abruptly right after the event is written
// (after the connection's latency, if any).
func (s *Server) SendServerShutdownAndClose() int {
	open := s.sendShutdown()
	for _, c := range open {
		c.closeQueued("server shutdown", false)
	}
	return len(open)
}

func (s *Server) sendShutdown() []*conn {
	open := s.open()
	ev := fmt.Sprintf(`{"e":"serverShutdown","E":%d}`, time.Now().UnixMilli())
	for _, c := range open {
		if c.isCombined() {
			c.send([]byte(`{"stream":"!serverShutdown","data":`+ev+`}`), false)
		} else {
			c.send([]byte(ev), false)
		}
	}
	return open
}

// RejectNextSubscribe makes the next SUBSCRIBE request fail with
// {"error":{"code":code,"msg":msg},"id":<id>}.
func (s *Server) RejectNextSubscribe(code int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectNext = &wireError{Code: code, Msg: msg}
}

// RejectStream makes every SUBSCRIBE request that names stream fail as a
// whole with {"error":{"code":code,"msg":msg},"id":<id>}, none of its
// streams subscribed, as the exchange answers a request with one invalid
// name; a connection URL that names it is refused with HTTP 400 and
// {"code":code,"msg":msg}. An empty msg lifts the rejection.
func (s *Server) RejectStream(stream string, code int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if msg == "" {
		delete(s.rejected, stream)
		return
	}
	s.rejected[stream] = wireError{Code: code, Msg: msg}
}

// ClosePolicyAfterSubscribe turns the policy close loop on or off: while
// on, every connection that subscribes (by SUBSCRIBE, after the success
// reply, or by its URL, right after the handshake) is closed with 1008.
func (s *Server) ClosePolicyAfterSubscribe(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policyLoop = on
}

// ConnInfo describes one connection the server accepted.
type ConnInfo struct {
	ID       int // 1, 2, … in the order the handshakes arrived (a failed upgrade skips one)
	Route    string
	Path     string // request URI
	Open     bool
	Combined bool
	Streams  []string       // subscribed now, in subscription order
	Subs     map[string]int // how many times each stream was subscribed (URL or SUBSCRIBE)
	Messages int            // frames received from the client
	MaxRate  int            // most frames received in one message-limit window
	Pings    int            // pings sent
	Pongs    int            // pongs that echoed the ping payload
	BadPongs int            // pongs with another payload
	Closed   string         // why the server closed it
	Latency  time.Duration  // delay of its frames (WithLatency)
}

// Conns describes every connection accepted so far, in ID order. It waits
// for handshakes under way, so a connection whose client's dial has
// returned is always listed.
func (s *Server) Conns() []ConnInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waitUpgrades()
	out := make([]ConnInfo, 0, len(s.all))
	for _, c := range s.all {
		out = append(out, c.info(s.conns[c]))
	}
	slices.SortFunc(out, func(a, b ConnInfo) int { return a.ID - b.ID })
	return out
}

// OpenConns describes the open connections.
func (s *Server) OpenConns() []ConnInfo {
	var out []ConnInfo
	for _, ci := range s.Conns() {
		if ci.Open {
			out = append(out, ci)
		}
	}
	return out
}

var errClosed = errors.New("sim: connection closed")
