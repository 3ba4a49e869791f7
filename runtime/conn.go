package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/marketwire/marketwire/internal/dispatch"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Decoder turns one message payload (the bare payload, i.e. the data member
// of a combined envelope) into a typed value. It runs on the connection's
// reader goroutine; data is only valid during the call.
type Decoder func(data []byte) (any, error)

// Stream is one stream to subscribe to.
type Stream struct {
	Name   string // exact wire stream name, e.g. "btcusdt@aggTrade" (already validated by the caller)
	Route  string // URL route such as "public" or "market"; "" when the market has no routes
	Decode Decoder
}

// Conn is a reliable connection to one market's stream service. It keeps one
// socket per route (opened on first use), reconnects and resubscribes on its
// own, and delivers each subscription's events in order. It is safe for
// concurrent use.
type Conn struct {
	market *Market
	opts   options
	base   string
	events *dispatch.Dispatcher[Event]
	nextID atomic.Uint64

	ctx    context.Context // cancelled by Close; bounds background dials
	cancel context.CancelFunc

	mu      sync.Mutex
	sockets map[string]*socket
	closed  bool
	wg      sync.WaitGroup // every goroutine the Conn started, except the dispatcher

	closeOnce sync.Once
}

// Dial prepares a connection to market m. Without routes (and without
// WithRawStreams) it opens the market's single socket now and returns its
// error; a market with routes opens each route's socket on the first
// Subscribe that needs it.
func Dial(ctx context.Context, m *Market, opts ...Option) (*Conn, error) {
	if m == nil {
		return nil, errors.New("runtime: Dial: nil Market")
	}
	o, err := buildOptions(m, opts)
	if err != nil {
		return nil, err
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
		opts:    o,
		base:    strings.TrimRight(base, "/"),
		events:  dispatch.New(o.handlers),
		sockets: map[string]*socket{},
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if len(m.Routes) == 0 && !o.raw {
		if _, err := c.socketFor(ctx, "", ""); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// Market returns the market the connection was dialled for.
func (c *Conn) Market() *Market { return c.market }

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

// socketFor returns the socket for a route (and, in raw mode, a stream),
// opening it if needed. This is the one place that decides which socket
// carries a stream.
func (c *Conn) socketFor(ctx context.Context, route, stream string) (*socket, error) {
	key, path, limit := route, "/stream", c.market.Limits.StreamsPerConnection
	if c.opts.raw {
		key, path, limit = route+" "+stream, "/ws", 1
	}
	if route != "" {
		path = "/" + route + path
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
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
	if c.opts.raw {
		s.only = []byte(stream)
	}
	c.sockets[key] = s
	c.mu.Unlock()

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

// start opens the socket's first link and its supervisor.
func (s *socket) start(ctx context.Context) error {
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
// event, in order, on the subscription's own goroutine. It returns once the
// exchange has confirmed the subscription; its error is the call's own
// (bad route, too many streams, *ServerError, ctx). Concurrent Subscribe
// calls on one socket may share one SUBSCRIBE request, and then one server
// error. Subscribing to a stream that is already subscribed adds a second
// handler without a new request.
func (c *Conn) Subscribe(ctx context.Context, st Stream, handle func(any), opts ...SubscribeOption) (*Subscription, error) {
	if st.Name == "" || st.Decode == nil || handle == nil {
		return nil, errors.New("runtime: Subscribe: stream name, decoder and handler are required")
	}
	if err := c.checkRoute(st.Route); err != nil {
		return nil, err
	}
	so := subOptions{policy: DropOldest, size: DefaultQueueSize}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&so); err != nil {
			return nil, err
		}
	}
	for {
		s, err := c.socketFor(ctx, st.Route, st.Name)
		if err != nil {
			return nil, err
		}
		sub := newSubscription(s, st, handle, so)
		if !c.spawn(sub.run) {
			return nil, ErrClosed
		}
		err = s.add(ctx, sub)
		if err == nil {
			return sub, nil
		}
		sub.end(err)
		if !errors.Is(err, errSocketGone) {
			return nil, fmt.Errorf("runtime: subscribe %s: %w", st.Name, err)
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

// Close closes every socket and ends every subscription (queued events are
// discarded), then emits EventClosed. It returns when every goroutine the
// Conn started has ended, event handlers included. It is idempotent; it must
// not be called from an event handler.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
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
		c.events.Emit(Event{Kind: EventClosed, Time: time.Now()})
		c.events.Close()
	})
	return nil
}

// control sends one control request on a route's socket and returns the
// reply's result.
func (c *Conn) control(ctx context.Context, route string, method string, params ...any) (*link, []byte, error) {
	if c.opts.raw {
		return nil, nil, ErrRawMode
	}
	if err := c.checkRoute(route); err != nil {
		return nil, nil, err
	}
	s, err := c.socketFor(ctx, route, "")
	if err != nil {
		return nil, nil, err
	}
	l, err := s.readyLink(ctx)
	if err != nil {
		return nil, nil, err
	}
	result, err := l.call(ctx, method, params...)
	return l, result, err
}

// ListSubscriptions asks the exchange which streams the route's socket
// carries (LIST_SUBSCRIPTIONS). Use "" for a market without routes.
func (c *Conn) ListSubscriptions(ctx context.Context, route string) ([]string, error) {
	_, result, err := c.control(ctx, route, methodList)
	if err != nil {
		return nil, err
	}
	var names []string
	if err := json.Unmarshal(result, &names); err != nil {
		return nil, fmt.Errorf("runtime: LIST_SUBSCRIPTIONS reply %q: %w", result, err)
	}
	return names, nil
}

// SetProperty sets a connection property of the route's current socket
// (SET_PROPERTY). The only property the exchange knows is "combined"; use
// SetCombined for it.
func (c *Conn) SetProperty(ctx context.Context, route, name string, value any) error {
	l, _, err := c.control(ctx, route, methodSetProperty, name, value)
	if err == nil && name == "combined" {
		if b, ok := value.(bool); ok {
			l.combined.Store(b)
		}
	}
	return err
}

// GetProperty reads a connection property of the route's current socket
// (GET_PROPERTY) and returns the raw JSON result.
func (c *Conn) GetProperty(ctx context.Context, route, name string) (json.RawMessage, error) {
	_, result, err := c.control(ctx, route, methodGetProperty, name)
	return result, err
}

// SetCombined switches the route's current socket between combined frames
// ({"stream","data"} envelopes) and bare payloads. The runtime needs the
// envelope to demultiplex: with combined off, only a socket that carries a
// single stream still delivers. The setting belongs to the physical
// connection; a reconnect or replacement restores combined mode.
func (c *Conn) SetCombined(ctx context.Context, route string, on bool) error {
	return c.SetProperty(ctx, route, "combined", on)
}

// GetCombined reports whether the route's current socket sends combined frames.
func (c *Conn) GetCombined(ctx context.Context, route string) (bool, error) {
	raw, err := c.GetProperty(ctx, route, "combined")
	if err != nil {
		return false, err
	}
	var on bool
	if err := json.Unmarshal(raw, &on); err != nil {
		return false, fmt.Errorf("runtime: GET_PROPERTY reply %q: %w", raw, err)
	}
	return on, nil
}
