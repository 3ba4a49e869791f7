package userdata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/marketwire/marketwire/internal/dispatch"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/wire"
)

// keyStream is the listen-key lifecycle of USDⓈ-M, COIN-M and options: a key
// from REST, subscribed as a stream on a runtime.Conn, kept alive by a
// supervisor goroutine that also replaces the key when it is lost.
type keyStream struct {
	s     *Stream
	rest  *restClient
	conn  *runtime.Conn
	route string

	mu  sync.Mutex
	key string  // current listen key
	cur *keySub // its subscription
	// Signals for the supervisor, set by the decoder and the runtime's
	// event handler.
	expired map[string]bool // keys the exchange reported expired
	lost    bool            // the current subscription ended
	check   bool            // verify the key now (after a reconnect)
	wake    chan struct{}
	down    bool // the runtime reported the socket lost
	attempt int  // reconnect attempts of the runtime
	stopped chan struct{}
}

// keySub is the subscription of one listen key. The runtime queues its
// events and calls its handler on a goroutine of its own, and discards what
// is still queued when the subscription is unsubscribed; the counters let a
// replacement wait until everything the key's subscription received has
// been delivered before it unsubscribes it.
type keySub struct {
	sub *runtime.Subscription
	// after is closed once the previous key's subscription has delivered
	// everything it received (nil for the first key): this one delivers
	// nothing before, so that events stay in order across a replacement.
	after   <-chan struct{}
	drained chan struct{} // closed when this key is retired and drained
	opened  atomic.Bool   // after has been passed

	decoded  atomic.Uint64 // payloads its decoder returned (reader goroutine)
	handled  atomic.Uint64 // payloads its handler delivered
	busy     atomic.Bool   // the handler is delivering one
	progress chan struct{} // signalled after each delivery
}

func openKeyStream(ctx context.Context, s *Stream) (*keyStream, error) {
	us := s.market.UserStream
	base := s.opts.restURL
	if base == "" {
		var err error
		if base, err = pick(us.REST, s.opts.endpoint, "REST"); err != nil {
			return nil, err
		}
	}
	k := &keyStream{
		s:       s,
		route:   us.Route,
		expired: map[string]bool{},
		wake:    make(chan struct{}, 1),
		stopped: make(chan struct{}),
		rest: &restClient{
			client:  s.opts.httpClient,
			url:     strings.TrimRight(base, "/") + us.ListenKeyPath,
			path:    us.ListenKeyPath,
			apiKey:  s.creds.apiKey(),
			timeout: s.opts.requestTimeout,
		},
	}
	key, err := k.rest.call(ctx, http.MethodPost)
	if err != nil {
		return nil, err
	}
	s.red.addKey(key)
	ropts := []runtime.Option{
		runtime.OnEvent(k.onRuntimeEvent),
		runtime.WithBackoff(s.opts.backoff),
		runtime.WithReadTimeout(s.opts.readTimeout),
	}
	switch {
	case s.opts.streamURL != "":
		ropts = append(ropts, runtime.WithURL(s.opts.streamURL))
	case s.opts.endpoint != "":
		ropts = append(ropts, runtime.WithEndpoint(s.opts.endpoint))
	}
	ropts = append(ropts, s.opts.runtimeOpts...)
	conn, err := runtime.Dial(ctx, s.market, ropts...)
	if err == nil {
		k.conn = conn
		var ks *keySub
		ks, err = k.subscribe(ctx, key, nil)
		if err == nil {
			k.key, k.cur = key, ks
			s.spawn(k.run)
			return k, nil
		}
		conn.Close()
	}
	// Do not leave the key open on the exchange.
	cctx, cancel := context.WithTimeout(context.Background(), s.opts.closeTimeout)
	defer cancel()
	_, _ = k.rest.call(cctx, http.MethodDelete)
	return nil, err
}

// pick returns the URL of the named endpoint, or of the first one.
func pick(eps []runtime.Endpoint, name, what string) (string, error) {
	if len(eps) == 0 {
		return "", fmt.Errorf("%w: no %s endpoint", ErrNoUserStream, what)
	}
	if name == "" {
		return eps[0].URL, nil
	}
	for _, e := range eps {
		if e.Name == name {
			return e.URL, nil
		}
	}
	return "", fmt.Errorf("userdata: no %s endpoint named %q", what, name)
}

// subscribe subscribes one listen key as a stream. Its decoder watches for
// listenKeyExpired of that key. Its handler delivers nothing before prev, the
// key it replaces, is drained (retire).
func (k *keyStream) subscribe(ctx context.Context, key string, prev *keySub) (*keySub, error) {
	s := k.s
	ks := &keySub{drained: make(chan struct{}), progress: make(chan struct{}, 1)}
	if prev != nil {
		ks.after = prev.drained
	}
	decode := func(data []byte) (any, error) {
		v, err := s.decode(data)
		if err != nil {
			return nil, err
		}
		s.markGood()
		if kind, _, _ := wire.LookupString(data, "e"); kind == "listenKeyExpired" {
			// The key the event names; the stream's own key if it names none.
			which := key
			if named, _, _ := wire.LookupString(data, "listenKey"); named != "" {
				which = strings.Clone(named)
			}
			k.signal(func() { k.expired[which] = true })
		}
		ks.decoded.Add(1) // the runtime queues v next
		return v, nil
	}
	handle := func(v any) {
		if ks.after != nil && !ks.opened.Load() {
			select {
			case <-ks.after:
				ks.opened.Store(true)
			case <-s.ctx.Done():
				return // Close discards what is queued
			}
		}
		ks.busy.Store(true)
		defer func() {
			ks.busy.Store(false)
			ks.handled.Add(1)
			dispatch.Signal(ks.progress)
		}()
		s.deliver(v.(markets.Payload))
	}
	st := runtime.Stream{Name: key, Route: k.route, Decode: decode}
	sub, err := k.conn.Subscribe(ctx, st, handle,
		runtime.WithOverflow(runtime.Block), runtime.WithQueueSize(s.opts.queueSize))
	if err == nil {
		if err = sub.Ready(ctx); err != nil {
			_ = sub.Unsubscribe(context.Background())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("userdata: subscribe user stream: %w", err)
	}
	ks.sub = sub
	return ks, nil
}

// retire ends the subscription of a replaced key without losing what it
// received. The runtime discards what a subscription still has queued when
// it is unsubscribed, so retire first waits until the handler has delivered
// every payload the key's decoder returned (everything the exchange sent on
// the key before the new key's subscription was confirmed, since one reader
// reads both in order), then lets the new key deliver, then unsubscribes:
// only what arrives on the dead key meanwhile can be discarded, and is
// reported. It runs on a goroutine of its own, so that a slow handler does
// not hold up keep-alives.
func (k *keyStream) retire(old *keySub) {
	s := k.s
	if old.after != nil { // old has delivered nothing yet before its own predecessor is drained
		select {
		case <-old.after:
		case <-s.ctx.Done():
		}
	}
	k.drain(old)
	close(old.drained)
	dropped := old.sub.Dropped()
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.requestTimeout)
	err := old.sub.Unsubscribe(ctx)
	cancel()
	if s.ctx.Err() != nil {
		return
	}
	if err != nil {
		s.emit(Event{Kind: EventError, Err: fmt.Errorf("userdata: unsubscribe the old listen key: %w", err)})
	}
	if n := old.sub.Dropped() - dropped; n > 0 {
		s.emit(Event{Kind: EventError, Err: fmt.Errorf("userdata: %d events of the old listen key were dropped at its unsubscription", n)})
	}
}

// drain waits until ks's handler has delivered as many payloads as its
// decoder returned, checked again until no more arrive. It stops early when
// the subscription has ended (nothing more will be delivered), when the
// stream closes, and when the handler stays idle for the request timeout
// short of the count: the runtime decodes some payloads it does not queue
// (the copies a replacement socket reads during a hand-off).
func (k *keyStream) drain(ks *keySub) {
	s := k.s
	idle := time.NewTimer(s.opts.requestTimeout)
	defer idle.Stop()
	last := ks.handled.Load()
	for {
		h := ks.handled.Load()
		if h >= ks.decoded.Load() {
			return
		}
		if h != last || ks.busy.Load() {
			last = h
			idle.Reset(s.opts.requestTimeout)
		}
		select {
		case <-ks.progress:
		case <-ks.sub.Done():
			return
		case <-s.ctx.Done():
			return
		case <-idle.C:
			if !ks.busy.Load() && ks.handled.Load() == last {
				return
			}
			idle.Reset(s.opts.requestTimeout)
		}
	}
}

// signal records something for the supervisor and wakes it.
func (k *keyStream) signal(set func()) {
	k.mu.Lock()
	set()
	k.mu.Unlock()
	dispatch.Signal(k.wake)
}

// onRuntimeEvent turns the runtime connection's events into the Stream's.
// It copies no stream name and no frame text: those can hold the listen key.
func (k *keyStream) onRuntimeEvent(e runtime.Event) {
	s := k.s
	switch e.Kind {
	case runtime.EventDisconnected:
		k.mu.Lock()
		k.down = true
		k.mu.Unlock()
		s.emit(Event{Kind: EventDisconnected, Time: e.Time, Err: e.Err})
	case runtime.EventReconnected:
		k.mu.Lock()
		k.attempt = e.Attempt
		k.mu.Unlock()
	case runtime.EventResubscribed:
		k.mu.Lock()
		wasDown, attempt := k.down, k.attempt
		k.down, k.attempt = false, 0
		alive := k.cur != nil && k.cur.sub.Err() == nil
		k.mu.Unlock()
		if !wasDown {
			return // a planned replacement: no gap
		}
		if alive {
			s.emit(Event{Kind: EventReconnected, Attempt: attempt})
			s.gap(errors.New("userdata: connection lost"))
		}
		// A listenKeyExpired sent while the socket was down is lost:
		// check the key now rather than at the next keep-alive.
		k.signal(func() { k.check = true })
	case runtime.EventSubscriptionClosed:
		k.mu.Lock()
		cur := k.cur != nil && e.Subscription == k.cur.sub
		k.mu.Unlock()
		if cur && !errors.Is(e.Err, runtime.ErrClosed) {
			k.signal(func() { k.lost = true })
		}
	case runtime.EventError:
		err := e.Err
		var fe *runtime.FrameError
		if errors.As(err, &fe) {
			err = &FrameError{Err: fe.Err}
		}
		s.emit(Event{Kind: EventError, Time: e.Time, Attempt: e.Attempt, Err: err})
	}
}

// run is the supervisor: keep-alives on schedule, and key replacement when
// the key expired, its subscription ended or a keep-alive failed.
func (k *keyStream) run() {
	defer close(k.stopped)
	s := k.s
	timer := time.NewTimer(s.opts.keepAlive)
	defer timer.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-timer.C:
			k.keepAlive()
			timer.Reset(s.opts.keepAlive)
		case <-k.wake:
			k.mu.Lock()
			expired, lost, check := k.expired[k.key], k.lost, k.check
			clear(k.expired)
			k.lost, k.check = false, false
			k.mu.Unlock()
			switch {
			case expired:
				k.replace(ErrKeyExpired)
				timer.Reset(s.opts.keepAlive)
			case lost:
				k.replace(errors.New("userdata: exchange ended the user-stream subscription"))
				timer.Reset(s.opts.keepAlive)
			case check:
				k.keepAlive()
				timer.Reset(s.opts.keepAlive)
			}
		}
	}
}

// keepAlive extends the key; when that fails, it replaces the key.
func (k *keyStream) keepAlive() {
	s := k.s
	_, err := k.rest.call(s.ctx, http.MethodPut)
	if err == nil {
		s.emit(Event{Kind: EventKeepAlive})
		return
	}
	if s.ctx.Err() != nil {
		return
	}
	err = fmt.Errorf("userdata: keep-alive failed: %w", err)
	s.emit(Event{Kind: EventError, Err: err})
	k.replace(err)
}

// replace gets a key with POST (a new one, or the same one if it was still
// valid) and makes sure it is subscribed: the new key's subscription is
// confirmed before the old key is unsubscribed. It retries with backoff
// until it succeeds or the stream closes.
func (k *keyStream) replace(reason error) {
	s := k.s
	for attempt := 1; ; attempt++ {
		err := k.replaceOnce(reason)
		if err == nil || s.ctx.Err() != nil {
			return
		}
		s.emit(Event{Kind: EventError, Attempt: attempt, Err: err})
		if !s.sleep(s.opts.backoff.Delay(attempt - 1)) {
			return
		}
	}
}

func (k *keyStream) replaceOnce(reason error) error {
	s := k.s
	key, err := k.rest.call(s.ctx, http.MethodPost)
	if err != nil {
		return fmt.Errorf("userdata: new listen key: %w", err)
	}
	s.red.addKey(key)
	k.mu.Lock()
	oldKey, old := k.key, k.cur
	k.mu.Unlock()
	if key == oldKey && old != nil && old.sub.Err() == nil {
		// The exchange still knew the key: POST extended it.
		s.emit(Event{Kind: EventKeepAlive})
		return nil
	}
	ks, err := k.subscribe(s.ctx, key, old)
	if err != nil {
		return err
	}
	k.mu.Lock()
	k.key, k.cur = key, ks
	k.mu.Unlock()
	if old != nil {
		s.spawn(func() { k.retire(old) })
	}
	if key != oldKey {
		s.emit(Event{Kind: EventKeyReplaced, Err: reason})
	} else {
		s.emit(Event{Kind: EventReconnected, Err: reason})
	}
	s.gap(reason)
	return nil
}

// close stops the supervisor, closes the connection and deletes the key.
func (k *keyStream) close(ctx context.Context) error {
	<-k.stopped
	k.conn.Close()
	_, err := k.rest.call(ctx, http.MethodDelete)
	return err
}

// restClient calls the listen-key endpoint. The key is identified by the
// API key header: no request carries the listen key or a signature.
type restClient struct {
	client  *http.Client
	url     string
	path    string
	apiKey  string
	timeout time.Duration
}

// call sends one request and returns the listenKey of the answer, if any.
func (r *restClient) call(ctx context.Context, method string) (string, error) {
	op := method + " " + r.path
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, r.url, nil)
	if err != nil {
		return "", fmt.Errorf("userdata: %s: %w", op, err)
	}
	req.Header.Set("X-MBX-APIKEY", r.apiKey)
	resp, err := r.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("userdata: %s: %w", op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("userdata: %s: reading the answer: %w", op, err)
	}
	var ans struct {
		ListenKey string `json:"listenKey"`
		Code      int    `json:"code"`
		Msg       string `json:"msg"`
	}
	jerr := json.Unmarshal(body, &ans)
	if resp.StatusCode != http.StatusOK || ans.Code < 0 {
		return "", &APIError{Op: op, Status: resp.StatusCode, Code: ans.Code, Msg: ans.Msg}
	}
	if method == http.MethodPost && (jerr != nil || ans.ListenKey == "") {
		return "", fmt.Errorf("userdata: %s: answer without a listenKey", op)
	}
	return ans.ListenKey, nil
}
