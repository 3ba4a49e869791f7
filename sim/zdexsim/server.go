// Package zdexsim is an in-process simulator of the ZDEX WebSocket channel
// service (wss://api.zdex.world/ws), a perpetual-futures venue without a
// testnet, so that clients, tests and examples can run offline.
//
// It speaks the venue's protocol as its documentation describes it, written
// independently of marketwire's schema: the welcome frame on connect;
// subscribe / unsubscribe of one channel and symbol per message with the
// "subscribed" acknowledgement; auth with a token and the authenticated
// account channel (full state and event frames); the client's
// {"action":"ping"} heartbeat, answered by a pong and enforced by an idle
// timeout; optional unsolicited market data; and faults that tests trigger
// at any time.
//
// Timers: market data of every subscribed channel and symbol is published at
// every publish tick (WithPublishInterval, 100 ms); account event frames
// cycle through the documented event kinds at every event tick
// (WithEventInterval, by default the publish interval); the full account
// state is pushed at every account tick (WithAccountInterval, 60 s), besides
// right after auth and right after an account subscription.
package zdexsim

import (
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/synth"
)

// The identifiers the simulator answers a successful auth with.
const (
	AccountID    = "clx..."
	SubAccountID = "34696153"
)

// Path is the only path served; production is wss://api.zdex.world/ws.
const Path = "/ws"

// accountStream is the stream name of the account channel.
const accountStream = "account"

// marketChannels are the public channels, in the order the welcome frame
// lists them.
var marketChannels = []string{"orderbook", "trades", "ticker", "kline", "markprice"}

// pushedChannels are the channels sent to everyone in unsolicited mode.
var pushedChannels = []string{"orderbook", "trades", "ticker", "kline"}

// Option configures a Server.
type Option func(*Server)

// WithAddr sets the address Start listens on (default 127.0.0.1:0).
func WithAddr(addr string) Option { return func(s *Server) { s.addr = addr } }

// WithSymbols sets the symbols the venue lists and accepts (default BTCUSDT,
// ETHUSDT).
func WithSymbols(symbols ...string) Option {
	return func(s *Server) { s.symbols = slices.Clone(symbols) }
}

// WithToken sets the token auth accepts. Without one every auth fails.
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithSource sets where payloads come from: "<channel>:<SYMBOL>" for market
// data and "account" for the account's full state. The default serves the
// orderbook channel from an order-book model per symbol (see BookState),
// each message its top 50 levels whole, and the rest from
// synth.Source("zdex", seed).
func WithSource(src sim.Source) Option { return func(s *Server) { s.source = src } }

// WithSeed sets the seed of the default source (default 1).
func WithSeed(seed uint64) Option { return func(s *Server) { s.seed = seed } }

// WithPublishInterval sets the market-data tick (default 100 ms); 0 disables
// periodic market data (use Publish).
func WithPublishInterval(d time.Duration) Option {
	return func(s *Server) { s.publishEvery = d }
}

// WithEventInterval sets how often the next account event frame is sent to
// account subscribers (default: the publish interval); 0 disables them (use
// PublishAccount).
func WithEventInterval(d time.Duration) Option {
	return func(s *Server) { s.eventEvery, s.eventSet = d, true }
}

// WithAccountInterval sets how often the full account state is pushed to
// account subscribers (default 60 s, as the venue); 0 disables it.
func WithAccountInterval(d time.Duration) Option {
	return func(s *Server) { s.accountEvery = d }
}

// WithIdleTimeout sets how long a connection may go without sending
// {"action":"ping"} before the server closes it (default 60 s); 0 disables
// the check.
func WithIdleTimeout(d time.Duration) Option { return func(s *Server) { s.idle = d } }

// WithUnsolicited makes every connection receive orderbook, trades, ticker
// and kline frames of every symbol at every tick, subscribed or not, as the
// venue's sibling platform does.
func WithUnsolicited(on bool) Option { return func(s *Server) { s.unsolicited = on } }

// WithOutboundBuffer sets how many frames may wait for one connection before
// the server closes it as too slow (default 4096).
func WithOutboundBuffer(n int) Option { return func(s *Server) { s.outBuffer = n } }

// Server is an in-process ZDEX channel service. New starts its timers at
// once: call Close even if the server never listens.
type Server struct {
	addr         string
	symbols      []string
	token        string
	source       sim.Source
	seed         uint64
	publishEvery time.Duration
	eventEvery   time.Duration
	eventSet     bool
	accountEvery time.Duration
	idle         time.Duration
	unsolicited  bool
	outBuffer    int
	bookLevels   int
	books        *depthBooks // the orderbook channel's models; nil with WithSource
	events       []event

	upgrader websocket.Upgrader
	http     *http.Server
	url      string

	// mu guards everything below and the subscription state of every
	// conn. Frames are queued under it (queuing never blocks), so a reply
	// and the data that follows it reach a connection in order, and feeds
	// are only ever called under it.
	mu        sync.Mutex
	conns     map[*conn]bool // not yet forgotten
	all       []*conn        // every connection ever, for Conns
	nextID    int
	subs      map[string]map[*conn]bool // stream -> subscribers
	feeds     map[string]sim.Feed       // nil when the source cannot open the stream
	nextEvent int
	closed    bool

	wg   sync.WaitGroup
	stop chan struct{}
}

// New returns a server. It starts its timers at once; call Start to listen,
// or serve it with httptest.NewServer.
func New(opts ...Option) *Server {
	s := &Server{
		addr:         "127.0.0.1:0",
		symbols:      []string{"BTCUSDT", "ETHUSDT"},
		seed:         1,
		publishEvery: 100 * time.Millisecond,
		accountEvery: 60 * time.Second,
		idle:         60 * time.Second,
		outBuffer:    4096,
		bookLevels:   DefaultBookLevels,
		upgrader: websocket.Upgrader{
			CheckOrigin:      func(*http.Request) bool { return true },
			HandshakeTimeout: 10 * time.Second, // bounds a handshake Close waits for
		},
		conns: map[*conn]bool{},
		subs:  map[string]map[*conn]bool{},
		feeds: map[string]sim.Feed{},
		stop:  make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	if !s.eventSet {
		s.eventEvery = s.publishEvery
	}
	if s.source == nil {
		src, err := synth.Source("zdex", s.seed)
		if err != nil {
			src = sim.Sources{} // no data, but the protocol still works
		}
		if s.bookLevels <= 0 {
			s.bookLevels = DefaultBookLevels
		}
		s.books = &depthBooks{sim.Books{Seed: s.seed, Levels: s.bookLevels}}
		s.source = sim.Sources{s.books, src}
	}
	s.outBuffer = max(s.outBuffer, 1)
	s.events = accountEvents()
	if s.publishEvery > 0 || s.eventEvery > 0 || s.accountEvery > 0 {
		s.wg.Add(1)
		go s.loop()
	}
	return s
}

// Start listens (on 127.0.0.1:0 unless WithAddr) and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.url = "ws://" + ln.Addr().String() + Path
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.http.Serve(ln)
	}()
	return nil
}

// URL returns the endpoint after Start, ws://127.0.0.1:PORT/ws.
func (s *Server) URL() string { return s.url }

// Close stops the server, closes every connection and waits for all of its
// goroutines. It may be called more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	open := s.openLocked()
	s.mu.Unlock()
	close(s.stop)
	if s.http != nil {
		_ = s.http.Close()
	}
	for _, c := range open {
		c.close("server closed")
	}
	s.wg.Wait()
}

// ServeHTTP accepts websocket connections on /ws.
//
// A connection is registered, and its welcome frame queued, before the
// handshake completes: once a client's dial has returned, its connection
// is in Conns and DropConnections, SendRaw and the other methods reach it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != Path {
		http.NotFound(w, r)
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		_, _ = s.upgrader.Upgrade(w, r, nil) // answers 400 with the reason
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	s.nextID++
	c := newConn(s, s.nextID)
	s.conns[c] = true
	s.all = append(s.all, c)
	c.send(welcomeFrame(s.symbols))
	s.wg.Add(1) // this handshake: Close waits for it
	s.mu.Unlock()
	defer s.wg.Done()

	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil { // the upgrader has answered; the client has no connection
		c.close("handshake failed")
		s.forget(c)
		s.mu.Lock()
		s.all = slices.DeleteFunc(s.all, func(x *conn) bool { return x == c })
		s.mu.Unlock()
		return
	}
	// If c was closed meanwhile (DropConnections, Close), attach closes ws
	// and the reader ends at once.
	c.attach(ws)
	s.wg.Add(2) // the handshake's count keeps the group above zero
	go c.readLoop()
	go c.writeLoop()
}

func (s *Server) openLocked() []*conn {
	out := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

// forget removes a connection that has ended.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	for st := range c.streams {
		delete(s.subs[st], c)
	}
}

func (s *Server) knownSymbol(sym string) bool { return slices.Contains(s.symbols, sym) }

// feedLocked returns the shared feed of stream, opening it on first use.
func (s *Server) feedLocked(stream string) sim.Feed {
	f, ok := s.feeds[stream]
	if !ok {
		f, _ = s.source.Open(stream) // nil on error: the stream has no data
		s.feeds[stream] = f
	}
	return f
}

// stateLocked returns the next full account state, or an empty one when the
// source has none.
func (s *Server) stateLocked(now time.Time) []byte {
	if f := s.feedLocked(accountStream); f != nil {
		if p := f.Next(now); p != nil {
			return p
		}
	}
	return []byte(`{"balances":[],"openOrders":[],"positions":[]}`)
}

func (s *Server) subscribeLocked(c *conn, stream string) {
	c.streams[stream] = true
	if s.subs[stream] == nil {
		s.subs[stream] = map[*conn]bool{}
	}
	s.subs[stream][c] = true
	s.feedLocked(stream)
}

func (s *Server) unsubscribeLocked(c *conn, stream string) {
	delete(c.streams, stream)
	delete(s.subs[stream], c)
}

// accountSubsLocked returns the authenticated account subscribers.
func (s *Server) accountSubsLocked() []*conn {
	var out []*conn
	for c := range s.subs[accountStream] {
		if c.authed {
			out = append(out, c)
		}
	}
	return out
}

func (s *Server) loop() {
	defer s.wg.Done()
	var tickers []*time.Ticker
	defer func() {
		for _, t := range tickers {
			t.Stop()
		}
	}()
	tick := func(d time.Duration) <-chan time.Time {
		if d <= 0 {
			return nil // never fires
		}
		t := time.NewTicker(d)
		tickers = append(tickers, t)
		return t.C
	}
	publish, events, account := tick(s.publishEvery), tick(s.eventEvery), tick(s.accountEvery)
	for {
		select {
		case <-s.stop:
			return
		case now := <-publish:
			s.publishMarket(now)
		case now := <-events:
			s.publishEvent(now)
		case now := <-account:
			s.publishState(now)
		}
	}
}

// publishMarket sends one payload of every subscribed market stream, and of
// every pushed stream in unsolicited mode, to its recipients.
func (s *Server) publishMarket(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[string]bool{}
	for st, cs := range s.subs {
		if st != accountStream && len(cs) > 0 {
			want[st] = true
		}
	}
	if s.unsolicited && len(s.conns) > 0 {
		for _, sym := range s.symbols {
			for _, ch := range pushedChannels {
				want[ch+":"+sym] = true
			}
		}
	}
	streams := make([]string, 0, len(want))
	for st := range want {
		streams = append(streams, st)
	}
	sort.Strings(streams)
	for _, st := range streams {
		f := s.feedLocked(st)
		if f == nil {
			continue
		}
		p := f.Next(now)
		if p == nil {
			continue
		}
		frame := marketFrame(st, p, now)
		for _, c := range s.recipientsLocked(st) {
			c.send(frame)
		}
	}
}

// recipientsLocked returns the connections that receive stream's data.
func (s *Server) recipientsLocked(stream string) []*conn {
	ch, _, _ := strings.Cut(stream, ":")
	if s.unsolicited && slices.Contains(pushedChannels, ch) {
		return s.openLocked()
	}
	out := make([]*conn, 0, len(s.subs[stream]))
	for c := range s.subs[stream] {
		out = append(out, c)
	}
	return out
}

// publishEvent sends the next account event frame to account subscribers.
func (s *Server) publishEvent(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.events) == 0 {
		return
	}
	ev := s.events[s.nextEvent%len(s.events)]
	s.nextEvent++
	frame := eventFrame(ev, now)
	for _, c := range s.accountSubsLocked() {
		c.send(frame)
	}
}

// publishState sends the full account state to account subscribers.
func (s *Server) publishState(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.accountSubsLocked()
	if len(cs) == 0 {
		return
	}
	frame := stateFrame(s.stateLocked(now), now)
	for _, c := range cs {
		c.send(frame)
	}
}

// Publish sends payload as one frame of stream ("<channel>:<SYMBOL>") to
// every connection subscribed to it now, and returns how many it reached.
// Publish("account", state) sends a full-state frame to the authenticated
// account subscribers.
func (s *Server) Publish(stream string, payload []byte) int {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var frame []byte
	var cs []*conn
	if stream == accountStream {
		frame, cs = stateFrame(payload, now), s.accountSubsLocked()
	} else {
		frame = marketFrame(stream, payload, now)
		for c := range s.subs[stream] {
			cs = append(cs, c)
		}
	}
	return sendAll(cs, frame)
}

// PublishAccount sends frame as is to every authenticated account
// subscriber, and returns how many it reached.
func (s *Server) PublishAccount(frame []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sendAll(s.accountSubsLocked(), frame)
}

// SendRaw sends frame as is to every open connection, and returns how many
// it reached.
func (s *Server) SendRaw(frame []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sendAll(s.openLocked(), frame)
}

// DropConnections closes every open connection abruptly (no close frame)
// and returns how many there were.
func (s *Server) DropConnections() int {
	s.mu.Lock()
	open := s.openLocked()
	s.mu.Unlock()
	n := 0
	for _, c := range open {
		if c.close("dropped") {
			n++
		}
	}
	return n
}

func sendAll(cs []*conn, frame []byte) int {
	n := 0
	for _, c := range cs {
		if c.send(frame) {
			n++
		}
	}
	return n
}

// ConnInfo describes one connection the server accepted.
type ConnInfo struct {
	ID            int
	Open          bool
	Authenticated bool
	Streams       []string // subscribed now, sorted: "account", "ticker:BTCUSDT", ...
	Messages      []string // text frames received, in order, with auth tokens replaced by "<redacted>"
	Pings         int      // {"action":"ping"} messages received
	Errors        int      // error frames sent
	Closed        string   // why the server closed it, while not Open
}

// Conns describes every connection accepted so far, in order.
func (s *Server) Conns() []ConnInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ConnInfo, 0, len(s.all))
	for _, c := range s.all {
		ci := ConnInfo{
			ID: c.id, Open: true, Authenticated: c.authed,
			Messages: slices.Clone(c.messages), Pings: c.pings, Errors: c.errors,
		}
		for st := range c.streams {
			ci.Streams = append(ci.Streams, st)
		}
		sort.Strings(ci.Streams)
		select {
		case <-c.closed:
			ci.Open, ci.Closed = false, c.reason // written before closed was closed
		default:
		}
		out = append(out, ci)
	}
	return out
}
