// Package dexsim is an in-process simulator of the Binance DEX (Binance
// Chain) WebSocket stream service, which was shut down with the chain in
// December 2024. It lets DEX clients, tests and examples run offline.
//
// The server speaks the DEX dialect, not Binance spot's: streams are chosen
// in the URL (/api/ws/<stream>, /api/stream?streams=a/b/c) or by JSON control
// messages on any socket ({"method":"subscribe","topic":"trades",
// "symbols":["BNB_BTCB-1DE"]}), control messages get no reply, every data
// frame is {"stream":"<topic>","data":<payload>} with the topic name (trades,
// kline_1m, accounts, ...) rather than the stream name, a connection lives
// for a keep-alive window that {"method":"keepAlive"} restarts, and the
// server pings and drops connections that do not answer with a pong.
//
// Payloads come from a sim.Source keyed by marketwire's stream names
// (<symbol>@trades, $all@blockheight, <address>@orders, ...). By default
// the marketDepth streams come from an order-book model per symbol
// (sim.Book, see BookState), each message its top levels whole, and the
// rest are the moving examples of synth.Source("dex", seed).
package dexsim

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/synth"
)

// Defaults, as on the DEX service.
const (
	DefaultPingInterval    = 30 * time.Second
	DefaultPongDeadline    = 60 * time.Second
	DefaultKeepAliveWindow = 30 * time.Minute
	DefaultPublishInterval = 100 * time.Millisecond
	DefaultOutboundBuffer  = 4096
)

// Option configures a Server.
type Option func(*config)

type config struct {
	source       sim.Source
	seed         uint64
	publishEvery time.Duration
	pingEvery    time.Duration
	pongDeadline time.Duration
	keepAlive    time.Duration
	outBuffer    int
	addr         string
	bookLevels   int
}

// WithSource sets where payloads come from. The source is asked for
// marketwire stream names: <symbol>@trades, <symbol>@marketDiff,
// <symbol>@marketDepth[100|500|1000], <symbol>@kline_<interval>,
// <symbol>@ticker, <symbol>@miniTicker, $all@allTickers,
// $all@allMiniTickers, $all@blockheight, <address>@accounts,
// <address>@orders and <address>@transfers. The default serves the
// marketDepth streams from an order-book model per symbol and the rest
// from synth.Source("dex", seed).
func WithSource(src sim.Source) Option {
	return func(c *config) { c.source = src }
}

// WithSeed sets the seed of the default source (default 1). It has no
// effect together with WithSource.
func WithSeed(seed uint64) Option {
	return func(c *config) { c.seed = seed }
}

// WithPublishInterval sets how often the server publishes the next payload
// of every subscribed stream (default 100 ms); 0 disables periodic
// publishing, leaving Publish.
func WithPublishInterval(d time.Duration) Option {
	return func(c *config) { c.publishEvery = d }
}

// WithPing sets how often the server pings each connection (default 30 s)
// and how long after an unanswered ping it closes the connection (default
// 60 s; a deadline of 0 keeps the default). interval 0 disables pings.
func WithPing(interval, deadline time.Duration) Option {
	return func(c *config) { c.pingEvery, c.pongDeadline = interval, deadline }
}

// WithKeepAliveWindow sets how long a connection lives without a
// {"method":"keepAlive"} message (default 30 min); every keepAlive restarts
// the window. 0 disables the limit.
func WithKeepAliveWindow(d time.Duration) Option {
	return func(c *config) { c.keepAlive = d }
}

// WithOutboundBuffer sets how many frames may wait for one connection
// before the server closes it as too slow (default 4096).
func WithOutboundBuffer(n int) Option {
	return func(c *config) { c.outBuffer = n }
}

// WithAddr sets the address Start listens on (default 127.0.0.1:0).
func WithAddr(addr string) Option {
	return func(c *config) { c.addr = addr }
}

// Server is the simulated DEX stream service. Serve it with Start, or mount
// it as an http.Handler: it answers on /api/ws, /api/ws/<stream> and
// /api/stream?streams=.
type Server struct {
	cfg      config
	books    *depthBooks // the marketDepth streams' models; nil with WithSource
	upgrader websocket.Upgrader
	http     *http.Server
	url      string

	mu     sync.Mutex
	conns  map[*conn]bool // open connections
	all    []*conn        // every connection accepted, for Conns
	nextID int
	feeds  map[string]sim.Feed       // opened once per stream, shared
	subs   map[string]map[*conn]bool // stream -> subscribed open connections
	closed bool

	wg   sync.WaitGroup
	stop chan struct{}
}

// New returns a server. It starts publishing at once; call Start to listen,
// or serve it with httptest.NewServer.
func New(opts ...Option) *Server {
	cfg := config{
		seed:         1,
		publishEvery: DefaultPublishInterval,
		pingEvery:    DefaultPingInterval,
		pongDeadline: DefaultPongDeadline,
		keepAlive:    DefaultKeepAliveWindow,
		outBuffer:    DefaultOutboundBuffer,
		addr:         "127.0.0.1:0",
		bookLevels:   DefaultBookLevels,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.bookLevels <= 0 {
		cfg.bookLevels = DefaultBookLevels
	}
	if cfg.pongDeadline <= 0 {
		cfg.pongDeadline = DefaultPongDeadline
	}
	if cfg.outBuffer <= 0 {
		cfg.outBuffer = DefaultOutboundBuffer
	}
	var books *depthBooks
	if cfg.source == nil {
		src, err := synth.Source("dex", cfg.seed)
		if err != nil {
			src = sim.SourceFunc(func(string) (sim.Feed, error) { return nil, err })
		}
		books = &depthBooks{sim.Books{Seed: cfg.seed, Levels: cfg.bookLevels}}
		cfg.source = sim.Sources{books, src}
	}
	s := &Server{
		cfg:   cfg,
		books: books,
		upgrader: websocket.Upgrader{
			HandshakeTimeout:  10 * time.Second,
			EnableCompression: true,
			CheckOrigin:       func(*http.Request) bool { return true },
		},
		conns: map[*conn]bool{},
		feeds: map[string]sim.Feed{},
		subs:  map[string]map[*conn]bool{},
		stop:  make(chan struct{}),
	}
	if cfg.publishEvery > 0 {
		s.wg.Add(1)
		go s.publishLoop()
	}
	return s
}

// Start listens (on 127.0.0.1:0 unless WithAddr) and serves in the
// background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.addr)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed || s.http != nil {
		s.mu.Unlock()
		ln.Close()
		return fmt.Errorf("dexsim: server already started or closed")
	}
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.url = "ws://" + ln.Addr().String() + "/api"
	hs := s.http
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		_ = hs.Serve(ln)
	}()
	return nil
}

// URL returns the base URL after Start, ws://127.0.0.1:PORT/api: the
// counterpart of wss://dex.binance.org/api/. Clients append /ws, /ws/<stream>
// or /stream?streams=.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close stops the server, closes every connection and waits for all of the
// server's goroutines. It may be called more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	open := s.openConns()
	hs := s.http
	s.mu.Unlock()
	close(s.stop)
	if hs != nil {
		_ = hs.Close()
	}
	for _, c := range open {
		c.close("server closed", nil)
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

// ServeHTTP accepts websocket connections on /api/ws (control socket),
// /api/ws/<stream> and /api/stream?streams=a/b/c. A stream in the URL that
// the DEX does not know, or that the source cannot serve, fails the
// handshake with 400.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var names []string // URL streams in DEX form
	switch p := r.URL.Path; {
	case p == "/api/ws" || p == "/api/ws/":
	case strings.HasPrefix(p, "/api/ws/"):
		names = []string{p[len("/api/ws/"):]}
	case p == "/api/stream":
		if q := r.URL.Query().Get("streams"); q != "" {
			names = strings.Split(q, "/")
		}
	default:
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	var streams []string
	address := ""
	for _, n := range names {
		ss, ok := urlStreams(n)
		if !ok {
			http.Error(w, fmt.Sprintf("invalid stream %q", n), http.StatusBadRequest)
			return
		}
		if a, _, ok := splitPersonal(ss[0]); ok {
			if address != "" && a != address {
				http.Error(w, "one address per connection", http.StatusBadRequest)
				return
			}
			address = a
		}
		for _, st := range ss {
			if !s.openFeed(st) {
				http.Error(w, fmt.Sprintf("no data for stream %q", n), http.StatusBadRequest)
				return
			}
		}
		streams = append(streams, ss...)
	}
	if !websocket.IsWebSocketUpgrade(r) {
		_, _ = s.upgrader.Upgrade(w, r, nil) // answers 400 with the reason
		return
	}
	// The connection is registered and subscribed before the handshake
	// completes, so that a frame published as soon as the client's dial
	// returns is queued, not lost.
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	s.nextID++
	c := newConn(s, s.nextID, r.URL.RequestURI())
	s.conns[c] = true
	s.all = append(s.all, c)
	for _, st := range streams {
		if a, t, ok := splitPersonal(st); ok {
			c.address = a
			c.personal[t] = true
		}
		s.subscribeLocked(c, st)
	}
	s.mu.Unlock()
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		c.close("handshake failed", nil)
		s.mu.Lock()
		s.all = slices.DeleteFunc(s.all, func(x *conn) bool { return x == c })
		s.mu.Unlock()
		return // the upgrader has answered
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.close("server closed", nil)
		ws.Close()
		return
	}
	s.wg.Add(2)
	s.mu.Unlock()
	c.attach(ws)
	go c.readLoop()
	go c.writeLoop()
}

// openFeed makes sure stream's shared feed is open and reports whether the
// source serves it. It calls the source without holding s.mu.
func (s *Server) openFeed(stream string) bool {
	s.mu.Lock()
	_, ok := s.feeds[stream]
	s.mu.Unlock()
	if ok {
		return true
	}
	f, err := s.cfg.source.Open(stream)
	if err != nil || f == nil {
		return false
	}
	s.mu.Lock()
	if _, ok := s.feeds[stream]; !ok {
		s.feeds[stream] = f
	}
	s.mu.Unlock()
	return true
}

// subscribeLocked adds stream to c. Called with s.mu held.
func (s *Server) subscribeLocked(c *conn, stream string) {
	c.streams[stream] = true
	if !s.conns[c] {
		return // closed meanwhile: keep it for ConnInfo only
	}
	if s.subs[stream] == nil {
		s.subs[stream] = map[*conn]bool{}
	}
	s.subs[stream][c] = true
}

// unsubscribeLocked removes stream from c. Called with s.mu held.
func (s *Server) unsubscribeLocked(c *conn, stream string) {
	delete(c.streams, stream)
	delete(s.subs[stream], c)
	if len(s.subs[stream]) == 0 {
		delete(s.subs, stream)
	}
}

// forget removes a closed connection from the open set and the
// subscriptions, and records why it closed; its own record stays for Conns.
func (s *Server) forget(c *conn, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.mu.Lock()
	c.reason = reason
	c.mu.Unlock()
	delete(s.conns, c)
	for st := range c.streams {
		delete(s.subs[st], c)
		if len(s.subs[st]) == 0 {
			delete(s.subs, st)
		}
	}
}

func (s *Server) publishLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.publishEvery)
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

// tick publishes the next payload of every subscribed stream.
func (s *Server) tick(now time.Time) {
	type job struct {
		stream string
		feed   sim.Feed
		conns  []*conn
	}
	s.mu.Lock()
	jobs := make([]job, 0, len(s.subs))
	for st, cs := range s.subs {
		if f := s.feeds[st]; f != nil && len(cs) > 0 {
			jobs = append(jobs, job{st, f, setToSlice(cs)})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(jobs, func(a, b job) int { return strings.Compare(a.stream, b.stream) })
	for _, j := range jobs {
		p := j.feed.Next(now)
		if p == nil {
			continue
		}
		f := frame(topicOf(j.stream), p)
		for _, c := range j.conns {
			c.send(f)
		}
	}
}

// frame wraps a payload as the DEX does: {"stream":"<topic>","data":<payload>}.
func frame(topic string, payload []byte) []byte {
	f := make([]byte, 0, len(topic)+len(payload)+22)
	f = append(f, `{"stream":`...)
	f = strconv.AppendQuote(f, topic)
	f = append(f, `,"data":`...)
	f = append(f, payload...)
	return append(f, '}')
}

// Publish sends payload to every connection subscribed to stream (a
// marketwire stream name such as BNB_BTCB-1DE@trades or bnb1...@orders),
// wrapped with the stream's topic, and returns how many connections it
// reached. A stream in the URL is subscribed before the client's dial
// returns; one subscribed by message is not acknowledged, so wait for it in
// Conns first.
func (s *Server) Publish(stream string, payload []byte) int {
	s.mu.Lock()
	cs := setToSlice(s.subs[stream])
	s.mu.Unlock()
	f := frame(topicOf(stream), payload)
	n := 0
	for _, c := range cs {
		if c.send(f) {
			n++
		}
	}
	return n
}

// DropConnections closes every open connection abruptly, without a close
// frame, and returns how many there were.
func (s *Server) DropConnections() int {
	s.mu.Lock()
	open := s.openConns()
	s.mu.Unlock()
	for _, c := range open {
		c.close("dropped", nil)
	}
	return len(open)
}

// SendRaw sends frame as is to every open connection and returns how many
// connections it reached.
func (s *Server) SendRaw(frame []byte) int {
	s.mu.Lock()
	open := s.openConns()
	s.mu.Unlock()
	n := 0
	for _, c := range open {
		if c.send(frame) {
			n++
		}
	}
	return n
}

// ConnInfo describes one connection the server accepted.
type ConnInfo struct {
	ID         int
	Path       string   // request URI
	Open       bool     // not yet closed
	Address    string   // the connection's personal address, "" if none
	Streams    []string // marketwire stream names subscribed now, sorted
	Messages   []string // text messages received, in order
	KeepAlives int      // keepAlive messages received
	Invalid    int      // messages ignored as invalid
	Pings      int      // pings sent
	Pongs      int      // pongs received
	Closed     string   // why the server closed it, "" while open
}

// Conns describes every connection accepted so far, in order of arrival.
func (s *Server) Conns() []ConnInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ConnInfo, 0, len(s.all))
	for _, c := range s.all {
		out = append(out, c.info(s.conns[c]))
	}
	return out
}

func setToSlice(m map[*conn]bool) []*conn {
	out := make([]*conn, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	return out
}
