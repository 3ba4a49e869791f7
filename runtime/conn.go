package runtime

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/marketwire/marketwire/internal/dispatch"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Decoder turns one message payload (the Dialect's data member of a frame,
// or the whole frame for a Whole stream) into a typed value. It runs on the
// connection's reader goroutine, or, for a Deferred stream, on the goroutine
// of the subscription it decodes for. data is never modified after the call, so
// the value may alias it (the generated decoders' strings and decimals do);
// the runtime reads each frame into memory of its own for this.
type Decoder func(data []byte) (any, error)

// A StreamDecoder decodes the payloads of one stream on one socket. The
// socket calls it from one goroutine at a time, so it may keep state
// between calls, such as the slabs that the generated decoders carve new
// values from. data is never modified after the call, as for Decoder.
type StreamDecoder interface {
	// Decode decodes data into a new value, or, when reuse is not nil, into
	// reuse: a value it returned before that nobody uses any more (see
	// WithBorrow).
	Decode(data []byte, reuse any) (any, error)
}

// funcDecoder is the StreamDecoder of a Stream without NewDecoder.
type funcDecoder Decoder

func (d funcDecoder) Decode(data []byte, _ any) (any, error) { return d(data) }

// Stream is one stream to subscribe to. The generated packages build it
// (XParams.Stream) from the schema; every field but Name and Decode may be
// empty.
type Stream struct {
	Name   string            // the stream's name, as in the schema's template (already validated by the caller)
	Key    string            // the routing key of its frames (see Dialect.Key); "" means Name
	Route  string            // URL route such as "public" or "market"; "" when the market has no routes
	Vars   map[string]string // values of the Dialect's message placeholders, such as symbol or channel
	Auth   bool              // the stream needs the login of WithAuthToken
	Whole  bool              // Decode takes the whole frame, not its data member
	Decode Decoder
	// NewDecoder, if set, returns the decoder a socket uses for the stream
	// instead of Decode; it must decode as Decode does. To replace the
	// Decode of a generated Stream, clear NewDecoder too.
	NewDecoder func() StreamDecoder
	// Seq reads the sequence key of a value Decode returned. It orders the
	// stream's events across sockets (an exact hand-off when a socket is
	// replaced) and reveals gaps (EventGap). nil means the stream has none.
	Seq func(v any) Seq
	// SeqRaw, if set, reads the same key as Seq from a payload's bytes,
	// without decoding the rest, so that a Deferred stream's payloads are
	// not decoded on the socket's reader. An error means the payload would
	// not decode either.
	SeqRaw func(data []byte) (Seq, error)
	// Deferred lets each subscription's goroutine decode the payloads it
	// handles, so that the socket's reader only routes them and reads their
	// sequence key (with SeqRaw; without it, by decoding the payload once
	// for the first subscription), and a connection's streams decode in
	// parallel. Generated streams set it. Leave it unset when the decoder
	// must see each payload as it is read, in the connection's order, such
	// as one that watches for a listen key's expiry.
	Deferred bool
}

func (st *Stream) key() string {
	if st.Key != "" {
		return st.Key
	}
	return st.Name
}

// Stats are counters of one Conn since Dial.
type Stats struct {
	Frames      uint64 // frames read
	Unsolicited uint64 // data frames for streams nobody subscribed to, dropped
	Malformed   uint64 // frames that were not valid JSON or had no stream to go to, dropped
	Rejected    uint64 // payloads their stream's decoder rejected (wrong kind, missing field, bad value), dropped
	Gaps        uint64 // gaps seen in streams' sequence keys (EventGap)
	Panics      uint64 // handler panics recovered (EventPanic)
	Sent        uint64 // frames sent: control messages, pings and pongs, which the exchange's message limit counts

	// Connections are the open connections, by route and then in the
	// order they were opened: a route has as many as its streams need
	// (Limits.StreamsPerConnection).
	Connections []ConnStats
}

// ConnStats describes one connection (one socket) of a Conn.
type ConnStats struct {
	Route   string // "" for a market without routes
	Streams int    // streams it carries, those awaiting their unsubscribe's reply included
	// SentLastSecond is how many frames it sent within the last second: at
	// most Limits.ControlMessagesPerSecond (during a replacement, that many
	// on each of its two websockets).
	SentLastSecond int
}

type stats struct{ frames, unsolicited, malformed, rejected, gaps, panics, control atomic.Uint64 }

// Conn is a reliable connection to one market's stream service. It keeps
// one socket per route (opened on first use), more when a route carries
// more streams than Limits.StreamsPerConnection, reconnects and
// resubscribes each on its own, and delivers each subscription's events in
// order. It is safe for concurrent use.
type Conn struct {
	market  *Market
	grammar *grammar
	opts    options
	base    string
	events  *dispatch.Dispatcher[Event]
	evGID   atomic.Uint64 // the event dispatcher's goroutine, see goid
	reports *reports      // coalesces repeated errors and gaps
	budget  *budget       // connection attempts
	nextID  atomic.Uint64
	stats   stats

	ctx    context.Context // cancelled by Close; bounds background dials
	cancel context.CancelFunc

	mu      sync.Mutex
	sockets map[string]*socket
	subs    map[*Subscription]bool // subscriptions whose goroutine runs
	closed  bool
	wg      sync.WaitGroup // every goroutine the Conn started, except the dispatcher and subscriptions

	closing    atomic.Bool
	closedDone chan struct{} // closed when Close has finished
}

// Dial prepares a connection to market m. Without routes (and without
// WithRawStreams) it opens the market's single socket now and returns its
// error, so an unreachable endpoint fails here; a market with routes opens
// each route's socket on the first Subscribe that needs it, unless
// WithDialRoutes names routes to open now. ctx bounds only this call:
// cancelling it later ends nothing; Close does.
func Dial(ctx context.Context, m *Market, opts ...Option) (*Conn, error) {
	if m == nil {
		return nil, errors.New("runtime: Dial: nil Market")
	}
	o, err := buildOptions(m, opts)
	if err != nil {
		return nil, err
	}
	g, err := compile(&m.Dialect)
	if err != nil {
		return nil, fmt.Errorf("runtime: market %q: %w", m.Name, err)
	}
	if o.raw && m.Dialect.RawPath == "" {
		return nil, fmt.Errorf("runtime: market %q has no stream-in-URL form: %w", m.Name, ErrRawMode)
	}
	base := o.url
	switch {
	case base != "":
	case o.endpoint != "":
		u, ok := m.Endpoint(o.endpoint)
		if !ok {
			return nil, fmt.Errorf("runtime: market %q has no endpoint %q", m.Name, o.endpoint)
		}
		base = u
	case len(m.Endpoints) > 0:
		base = m.Endpoints[0].URL
	default:
		return nil, fmt.Errorf("runtime: market %q has no endpoints", m.Name)
	}
	c := &Conn{
		market:  m,
		grammar: g,
		opts:    o,
		base:    strings.TrimRight(base, "/"),
		sockets: map[string]*socket{},
		subs:    map[*Subscription]bool{},

		closedDone: make(chan struct{}),
	}
	c.budget = budgetFor(c.base, o.attempts, o.attemptWindow)
	c.events = dispatch.New(c.wrapHandlers(o.handlers))
	c.reports = newReports(o.dropReport, c.events.Emit)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	first := o.dialRoutes
	if len(m.Routes) == 0 && !o.raw {
		first = []string{""}
	}
	for _, r := range first {
		err := c.checkRoute(r)
		if err == nil {
			_, err = c.socketFor(ctx, r, "", nil)
		}
		if err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// Market returns the market the connection was dialled for.
func (c *Conn) Market() *Market {
	if c == nil {
		return nil
	}
	return c.market
}

// Stats returns the connection's counters.
func (c *Conn) Stats() Stats {
	return Stats{
		Frames:      c.stats.frames.Load(),
		Unsolicited: c.stats.unsolicited.Load(),
		Malformed:   c.stats.malformed.Load(),
		Rejected:    c.stats.rejected.Load(),
		Gaps:        c.stats.gaps.Load(),
		Panics:      c.stats.panics.Load(),
		Sent:        c.stats.control.Load(),
		Connections: c.connStats(),
	}
}

// connStats describes the open sockets, sorted by route and shard.
func (c *Conn) connStats() []ConnStats {
	c.mu.Lock()
	socks := slices.Collect(maps.Values(c.sockets))
	c.mu.Unlock()
	slices.SortFunc(socks, func(a, b *socket) int {
		return cmp.Or(strings.Compare(a.route, b.route), cmp.Compare(a.shard, b.shard), strings.Compare(a.url, b.url))
	})
	out := make([]ConnStats, 0, len(socks))
	for _, s := range socks {
		s.mu.Lock()
		cs := ConnStats{Route: s.route, Streams: len(s.reg) + len(s.tomb)}
		for _, l := range s.links {
			cs.SentLastSecond += l.lim.recent(time.Second)
		}
		s.mu.Unlock()
		out = append(out, cs)
	}
	return out
}

// wrapHandlers makes the OnEvent handlers record the dispatcher's goroutine
// (so that Close called from one does not wait for itself) and recover their
// panics, which are reported as EventPanic to the handlers (unless the event
// was itself a panic report, or WithCrashOnPanic).
func (c *Conn) wrapHandlers(hs []func(Event)) []func(Event) {
	out := make([]func(Event), len(hs))
	for i, h := range hs {
		out[i] = func(e Event) {
			if c.evGID.Load() == 0 {
				c.evGID.Store(goid())
			}
			if c.opts.crashOnPanic {
				h(e)
				return
			}
			defer func() {
				if r := recover(); r != nil && e.Kind != EventPanic {
					c.stats.panics.Add(1)
					c.events.Emit(Event{Kind: EventPanic, Time: time.Now(), Err: newPanicError(fmt.Sprintf("OnEvent handler %d (on a %v event)", i+1, e.Kind), r)})
				}
			}()
			h(e)
		}
	}
	return out
}

// startSub starts sub's goroutine, unless the Conn is closed.
func (c *Conn) startSub(sub *Subscription) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.subs[sub] = true
	go func() {
		sub.run()
		c.mu.Lock()
		delete(c.subs, sub)
		c.mu.Unlock()
	}()
	return true
}

// spawn starts fs as goroutines tracked by Close, unless the Conn is closed.
func (c *Conn) spawn(fs ...func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	for _, f := range fs {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			f()
		}()
	}
	return true
}

func (c *Conn) checkRoute(route string) error {
	if len(c.market.Routes) == 0 {
		if route != "" {
			return fmt.Errorf("runtime: market %q has no routes, got route %q", c.market.Name, route)
		}
		return nil
	}
	if !slices.Contains(c.market.Routes, route) {
		return fmt.Errorf("runtime: market %q has no route %q (routes: %s)", c.market.Name, route, strings.Join(c.market.Routes, ", "))
	}
	return nil
}

// socketFor returns the socket that carries stream on route, opening it if
// needed. This is the one place that decides which socket carries a stream:
// in raw mode, one socket per stream; otherwise the route's shards, in
// order: the one that carries the stream already, else the first with room
// for one more (Limits.StreamsPerConnection), else a new shard. stream ""
// (for Call) takes the route's first shard. first, if not nil, is called on
// a new socket before it connects: a raw socket registers its stream there,
// so that the frames the server sends right after the handshake find it.
func (c *Conn) socketFor(ctx context.Context, route, stream string, first func(*socket)) (*socket, error) {
	key, path, limit, shard := route, c.market.Dialect.Path, c.market.Limits.StreamsPerConnection, 0
	if c.opts.raw {
		key, limit = route+" "+stream, 1
		path, _ = fill(c.market.Dialect.RawPath, func(string) string { return stream })
	}
	if route != "" {
		path = "/" + route + path
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if !c.opts.raw {
		key, shard = c.shardFor(route, stream)
	}
	s := c.sockets[key]
	if s != nil {
		c.mu.Unlock()
		select {
		case <-s.started:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if s.startErr != nil {
			return nil, s.startErr
		}
		return s, nil
	}
	s = newSocket(c, route, c.base+path, limit)
	s.shard = shard
	if c.opts.raw {
		s.only = []byte(stream)
	}
	c.sockets[key] = s
	c.mu.Unlock()
	if first != nil {
		first(s)
	}

	err := s.start(ctx)
	if err != nil {
		c.mu.Lock()
		if c.sockets[key] == s {
			delete(c.sockets, key)
		}
		c.mu.Unlock()
		s.startErr = err
	}
	close(s.started)
	return s, err
}

// shardFor returns the key in c.sockets of the shard of route that should
// carry stream (see socketFor); there may be no socket under it yet. Called
// with c.mu held.
func (c *Conn) shardFor(route, stream string) (key string, shard int) {
	free, missing := -1, -1
	for i := 0; i <= len(c.sockets); i++ { // one shard at least is missing
		s := c.sockets[shardKey(route, i)]
		if s == nil {
			if missing < 0 {
				missing = i
			}
			continue
		}
		carries, room := s.holds(stream)
		if stream == "" || carries {
			return shardKey(route, i), i
		}
		if room && free < 0 {
			free = i
		}
	}
	if free >= 0 {
		return shardKey(route, free), free
	}
	return shardKey(route, missing), missing
}

// shardKey is the key in c.sockets of shard i of route.
func shardKey(route string, i int) string {
	if i == 0 {
		return route
	}
	return route + "#" + strconv.Itoa(i)
}

// start opens the socket's first link and its supervisor.
func (s *socket) start(ctx context.Context) error {
	if err := s.conn.budget.wait(ctx.Done()); err != nil {
		return ctx.Err()
	}
	l, err := s.dialLink(ctx)
	if err != nil {
		return err
	}
	if _, err := s.activate(l); err != nil {
		s.deactivate(l)
		l.close()
		return err
	}
	s.emit(Event{Kind: EventConnected, URL: l.url})
	if !s.conn.spawn(func() { s.run(l) }) {
		s.deactivate(l)
		l.close()
		return ErrClosed
	}
	return nil
}

// Subscribe subscribes to one stream and calls handle with each decoded
// event, in order, on the subscription's own goroutine.
//
// It returns once the subscription is registered and its request queued,
// without waiting for the exchange's confirmation, so that a loop of
// Subscribe calls is fast: requests queued while an earlier one waits for
// the control-message rate limit go out together in one message (up to the
// Dialect's Batch). Subscription.Ready waits for the confirmation; a
// refusal ends the subscription with a *SubscribeError wrapping the
// *ServerError (Ready and Err return it, EventSubscriptionClosed reports
// it). SubscribeAll subscribes a list and waits for every confirmation.
//
// A route's streams are spread over as many connections as
// Limits.StreamsPerConnection requires: the stream goes to the connection
// that carries it already, else to the first with room, else to a new one,
// which Subscribe opens (within the connection budget, see
// WithConnectionBudget). ctx bounds only this call, that is opening a
// connection: cancelling it later ends nothing; Unsubscribe or Close end
// the stream. Every error is a *SubscribeError naming the stream, wrapping
// the cause (bad route, ErrClosed, ctx.Err()). Subscribing to a stream that
// is already subscribed adds a second handler without a new request.
func (c *Conn) Subscribe(ctx context.Context, st Stream, handle func(any), opts ...SubscribeOption) (*Subscription, error) {
	so, err := c.check(st, handle, opts)
	if err == nil {
		var sub *Subscription
		if sub, err = c.subscribe(ctx, st, handle, so); err == nil {
			return sub, nil
		}
	}
	return nil, &SubscribeError{Stream: st.Name, Err: err}
}

// SubscribeAll subscribes to every stream of streams, as Subscribe does,
// and waits until the exchange has confirmed or refused each one. handle is
// called on each subscription's own goroutine, so for different streams it
// runs concurrently. Every stream is checked before anything is sent: a
// stream without name or decoder, or on a route the market lacks, fails
// the whole call. The subscriptions are returned in the order of streams;
// the error, if any, joins one *SubscribeError per stream that failed, and
// that stream's subscription is nil (refused by the server) or ended. When
// ctx ends first, SubscribeAll returns ctx.Err() joined to the errors so
// far, and the streams not confirmed yet stay subscribed: Ready tells.
func (c *Conn) SubscribeAll(ctx context.Context, streams []Stream, handle func(any), opts ...SubscribeOption) ([]*Subscription, error) {
	so := make([]subOptions, len(streams))
	for i, st := range streams {
		var err error
		if so[i], err = c.check(st, handle, opts); err != nil {
			return nil, &SubscribeError{Stream: st.Name, Err: err}
		}
	}
	subs := make([]*Subscription, len(streams))
	var errs []error
	for i, st := range streams {
		sub, err := c.subscribe(ctx, st, handle, so[i])
		if err != nil {
			errs = append(errs, &SubscribeError{Stream: st.Name, Err: err})
			if ctx.Err() != nil || errors.Is(err, ErrClosed) {
				return subs, errors.Join(errs...)
			}
			continue
		}
		subs[i] = sub
	}
	for i, sub := range subs {
		if sub == nil {
			continue
		}
		if err := sub.Ready(ctx); err != nil {
			if ctx.Err() != nil {
				errs = append(errs, ctx.Err())
				break
			}
			errs = append(errs, err)
			subs[i] = nil
		}
	}
	return subs, errors.Join(errs...)
}

// check validates a Subscribe call before anything is sent and returns its
// options.
func (c *Conn) check(st Stream, handle func(any), opts []SubscribeOption) (subOptions, error) {
	so := subOptions{policy: DropOldest, size: DefaultQueueSize, bytes: DefaultQueueBytes}
	switch {
	case st.Name == "":
		return so, errors.New("the stream has no name")
	case st.Decode == nil:
		return so, errors.New("the stream has no decoder")
	case handle == nil:
		return so, errors.New("nil handler")
	}
	if err := c.checkRoute(st.Route); err != nil {
		return so, err
	}
	if st.Auth && (c.opts.token == "" || c.market.Dialect.Auth == "") {
		return so, ErrAuthRequired
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&so); err != nil {
			return so, err
		}
	}
	return so, nil
}

func (c *Conn) subscribe(ctx context.Context, st Stream, handle func(any), so subOptions) (*Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // nothing is sent
	}
	for {
		var sub *Subscription
		var early func(*socket)
		if c.opts.raw {
			early = func(s *socket) {
				sub = newSubscription(s, st, handle, so)
				s.register(sub)
			}
		}
		s, err := c.socketFor(ctx, st.Route, st.Name, early)
		if err != nil {
			return nil, err
		}
		if sub == nil || sub.sock != s {
			sub = newSubscription(s, st, handle, so)
		}
		if !c.startSub(sub) {
			return nil, ErrClosed
		}
		err = s.add(sub)
		if err == nil {
			return sub, nil
		}
		sub.end(err)
		if !errors.Is(err, errSocketGone) && !errors.Is(err, errShardFull) {
			return nil, err
		}
	}
}

// release closes a raw-mode socket that no longer carries a stream.
func (c *Conn) release(s *socket) {
	c.mu.Lock()
	for k, x := range c.sockets {
		if x != s {
			continue
		}
		s.mu.Lock()
		empty := len(s.reg) == 0
		s.mu.Unlock()
		if !empty {
			c.mu.Unlock()
			return
		}
		delete(c.sockets, k)
	}
	c.mu.Unlock()
	s.shutdown()
}

// Close closes every socket and ends every subscription: events still
// queued are dropped (and counted in Subscription.Dropped), and no handler
// is called after Close returns. It then emits EventClosed, the last event,
// and returns when every goroutine the Conn started has ended, event
// handlers included. Called from a handler (a subscription's or an OnEvent
// handler), it does the same but cannot wait for that handler's own call:
// that goroutine ends when the handler returns. Called from a WithInline
// handler, which runs on a reader goroutine that Close would wait for, it
// starts closing and returns: no handler is called after that either, and
// Done of the subscriptions tells when they have ended. Close is
// idempotent.
func (c *Conn) Close() error {
	self := goid()
	if !c.closing.CompareAndSwap(false, true) {
		if !c.inHandler(self) && !c.inReader(self) {
			<-c.closedDone
		}
		return nil
	}
	if c.inReader(self) {
		go c.close(noGoroutine)
		return nil
	}
	c.close(self)
	return nil
}

// inReader reports whether goroutine id is one of the Conn's readers, where
// WithInline handlers run.
func (c *Conn) inReader(id uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.sockets {
		s.mu.Lock()
		for _, l := range s.links {
			if l.gid.Load() == id {
				s.mu.Unlock()
				return true
			}
		}
		s.mu.Unlock()
	}
	return false
}

// noGoroutine is no goroutine's id.
const noGoroutine = ^uint64(0)

// close does the work of Close, called on goroutine self (noGoroutine when
// Close was called from a reader).
func (c *Conn) close(self uint64) {
	defer close(c.closedDone)
	{
		c.mu.Lock()
		c.closed = true
		socks := make([]*socket, 0, len(c.sockets))
		for _, s := range c.sockets {
			socks = append(socks, s)
		}
		c.mu.Unlock()
		c.cancel()
		for _, s := range socks {
			s.shutdown()
		}
		c.wg.Wait()
		c.mu.Lock()
		subs := make([]*Subscription, 0, len(c.subs))
		for sub := range c.subs {
			subs = append(subs, sub)
		}
		c.mu.Unlock()
		for _, sub := range subs {
			sub.end(ErrClosed)
			if sub.gid.Load() != self {
				<-sub.done
			}
		}
		c.reports.close()
		c.events.Emit(Event{Kind: EventClosed, Time: time.Now()})
		if c.evGID.Load() == self {
			c.events.Stop()
		} else {
			c.events.Close()
		}
	}
}

// inHandler reports whether goroutine id runs one of the Conn's handlers.
func (c *Conn) inHandler(id uint64) bool {
	if c.evGID.Load() == id {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for sub := range c.subs {
		if sub.gid.Load() == id {
			return true
		}
	}
	return false
}

// Call sends a request built from the Dialect's Request template ({method}
// and {params}, a JSON array of params) on the route's socket and returns
// the raw result of the reply. Use "" for a market without routes. It needs
// a venue whose replies carry ids (Dialect.ReplyID).
func (c *Conn) Call(ctx context.Context, route, method string, params ...any) (json.RawMessage, error) {
	if c.opts.raw {
		return nil, ErrRawMode
	}
	if c.market.Dialect.Request == "" || c.grammar.id < 0 {
		return nil, fmt.Errorf("runtime: market %q has no requests with replies", c.market.Name)
	}
	if err := c.checkRoute(route); err != nil {
		return nil, err
	}
	s, err := c.socketFor(ctx, route, "", nil)
	if err != nil {
		return nil, err
	}
	l, err := s.readyLink(ctx)
	if err != nil {
		return nil, err
	}
	return l.call(ctx, &request{op: opCall, method: method, params: params})
}
