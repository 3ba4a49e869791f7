package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// socket is one logical, self-healing websocket: it carries a set of streams
// (its registry) on one physical link at a time, and keeps that set alive
// across reconnects and replacements. A Conn has one socket per route, or
// several when the route's streams exceed the stream limit (its shards, see
// Conn.shardFor), and one per stream in raw mode. The registry, the stream
// limit and the reconnect loop all live here: each shard reconnects,
// resubscribes and is replaced on its own.
//
// Goroutines: one supervisor (run) per socket, plus the reader and writer of
// each link. Locks: s.mu guards the registry and the links' subscription
// sets; it is never held while writing, waiting or calling user code. The
// reader looks streams up in an immutable table (copy on write), lock free.
type socket struct {
	conn  *Conn
	route string
	url   string
	shard int    // its index among the route's sockets (see Conn.shardFor)
	limit int    // most streams; 0 means no limit
	only  []byte // in raw mode, the socket's one stream

	mu      sync.Mutex
	reg     map[string]*entry // active streams by name
	tomb    map[string]string // unsubscribed, reply not seen yet: frames of these keys are ignored
	links   []*link           // live links: one, or two during a replacement
	readyCh chan struct{}     // closed while a link is ready
	closed  bool
	stale   bool // the registry has new streams the table lacks (see add and fresh)

	table atomic.Pointer[map[string][]target] // by routing key

	dmu     sync.Mutex      // serialises deliveries; guards handoff, dgid and every entry's seq
	handoff *handoff        // the replacement in progress, if any
	dgid    uint64          // the reader goroutine delivering (see Subscription.callInline)
	staged  []*Subscription // those with payloads staged, not yet queued (see stage)

	started  chan struct{} // closed when the first dial finished
	startErr error
	closing  chan struct{}
	ended    chan struct{} // closed when run returns
}

// entry is one stream in a socket's registry, shared by its subscriptions.
type entry struct {
	stream *Stream         // as the first subscription gave it
	dec    StreamDecoder   // made on first use (decoder); socket.dmu
	subs   []*Subscription // never modified in place: replaced on change
	acked  chan struct{}   // closed on the first reply to its subscribe
	ackErr error
	once   sync.Once
	seq    seqState // guarded by socket.dmu

	// scratch is an event the reader decodes into only to read its
	// sequence key (see socket.seqOf); guarded by socket.dmu.
	scratch any
}

func newEntry(st *Stream) *entry {
	return &entry{stream: st, acked: make(chan struct{})}
}

// decoder returns the entry's decoder, which reads the sequence key of a
// stream without SeqRaw (see socket.seqOf), made on first use. Called with
// socket.dmu held.
func (e *entry) decoder() StreamDecoder {
	if e.dec == nil {
		e.dec = decoderOf(e.stream)
	}
	return e.dec
}

// decoderOf returns the decoder a socket uses for st.
func decoderOf(st *Stream) StreamDecoder {
	if st.NewDecoder != nil {
		return st.NewDecoder()
	}
	return funcDecoder(st.Decode)
}

func (e *entry) ack(err error) bool {
	first := false
	e.once.Do(func() {
		e.ackErr = err
		close(e.acked)
		first = true
	})
	return first
}

func newSocket(c *Conn, route, url string, limit int) *socket {
	s := &socket{
		conn:    c,
		route:   route,
		url:     url,
		limit:   limit,
		reg:     map[string]*entry{},
		tomb:    map[string]string{},
		readyCh: make(chan struct{}),
		started: make(chan struct{}),
		closing: make(chan struct{}),
		ended:   make(chan struct{}),
	}
	s.table.Store(&map[string][]target{})
	return s
}

func (s *socket) emit(e Event) {
	if e.Route == "" {
		e.Route = s.route
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	s.conn.events.Emit(e)
}

// report emits e, coalesced with the Conn's earlier reports of key on this
// route (see reports).
func (s *socket) report(key string, e Event) {
	if e.Route == "" {
		e.Route = s.route
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	s.conn.reports.add(s.route+" "+key, e)
}

// frameError reports a frame that could not be delivered; class names the
// kind of failure, for coalescing.
func (s *socket) frameError(class string, e Event, key, frame []byte, err error) {
	e.Kind = EventError
	e.Err = s.conn.frameError(s.route, key, frame, err)
	s.report(class, e)
}

// decodeError reports a payload of stream name that its decoder (or
// sequence key reader) rejected. It may run on any goroutine.
func (s *socket) decodeError(name string, in []byte, err error) {
	s.conn.stats.rejected.Add(1)
	s.frameError("decode "+name, Event{Stream: name}, []byte(name), in, err)
}

// publish rebuilds the reader's lookup table. Called with s.mu held.
func (s *socket) publish() {
	s.stale = false
	t := make(map[string][]target, len(s.reg)+len(s.tomb))
	for _, key := range s.tomb {
		t[key] = nil
	}
	for _, e := range s.reg {
		k := e.stream.key()
		t[k] = append(t[k], target{e: e, subs: e.subs})
	}
	s.table.Store(&t)
}

// fresh publishes the table if add left it stale. The writer calls it
// before each request frame, so that the table holds a stream before its
// subscribe goes out, that is before the server may send its data; a loop
// of n Subscribe calls then rebuilds the table once per frame (up to the
// Dialect's Batch streams) instead of once per stream, n²/2 entries.
func (s *socket) fresh() {
	s.mu.Lock()
	if s.stale {
		s.publish()
	}
	s.mu.Unlock()
}

// register puts sub in the registry of a new raw socket, before it
// connects; the URL names the stream, so it needs no confirmation.
func (s *socket) register(sub *Subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := newEntry(&sub.stream)
	e.subs = []*Subscription{sub}
	sub.entry = e
	e.ack(nil)
	s.reg[sub.stream.Name] = e
	s.publish()
}

// holds reports whether s carries stream, and whether it has room for one
// more stream: streams unsubscribed but not yet confirmed gone still count,
// as they do on the server.
func (s *socket) holds(stream string) (carries, room bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reg[stream] != nil, s.limit == 0 || len(s.reg)+len(s.tomb) < s.limit
}

// add registers sub and queues its stream's subscribe on the ready links;
// it does not wait for the reply (see Subscription.Ready). It fails with
// errSocketGone when s is closed and errShardFull when s has no room for
// the stream: Conn.subscribe then asks socketFor again.
func (s *socket) add(sub *Subscription) error {
	name := sub.stream.Name
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errSocketGone
	}
	e := s.reg[name]
	if e != nil && slices.Contains(e.subs, sub) {
		s.mu.Unlock() // registered before the socket connected
		return nil
	}
	lazy := false // a new stream's data cannot arrive before its subscribe is written (see fresh)
	if e == nil {
		if s.limit > 0 && len(s.reg)+len(s.tomb) >= s.limit {
			s.mu.Unlock()
			return errShardFull
		}
		e = newEntry(&sub.stream)
		s.reg[name] = e
		_, wasTomb := s.tomb[name]
		delete(s.tomb, name)
		lazy = s.only == nil && !wasTomb
	}
	sub.entry = e
	e.subs = append(e.subs[:len(e.subs):len(e.subs)], sub)
	if lazy {
		s.stale = true
	} else {
		s.publish()
	}
	var targets []*link
	if s.only != nil {
		e.ack(nil) // the URL names the stream: nothing to send
	}
	for _, l := range s.links {
		if s.only != nil {
			l.subscribed[name] = true
		} else if l.ready && !l.subscribed[name] {
			l.subscribed[name] = true
			targets = append(targets, l)
		}
	}
	s.mu.Unlock()

	for _, l := range targets {
		l.enqueue(&request{op: opSubscribe, streams: []*Stream{e.stream}, done: func(_ []byte, err error) {
			s.subscribed(l, []string{name}, err)
		}})
	}
	return nil
}

// subscribed handles the reply to a subscribe of names on l. A dead link is
// not an error: the next link subscribes the registry again.
func (s *socket) subscribed(l *link, names []string, err error) {
	if errors.Is(err, errLinkClosed) {
		return
	}
	if err == nil {
		s.mu.Lock()
		for _, name := range names {
			if e := s.reg[name]; e != nil {
				e.ack(nil)
			}
		}
		s.mu.Unlock()
		return
	}
	// The server refused: the streams are not subscribed on l, and their
	// subscriptions end with the error (Subscription.Ready returns it).
	var ended []*Subscription
	s.mu.Lock()
	for _, name := range names {
		delete(l.subscribed, name)
		e := s.reg[name]
		if e == nil {
			continue
		}
		e.ack(err)
		ended = append(ended, e.subs...)
		delete(s.reg, name)
	}
	s.publish()
	s.mu.Unlock()
	for _, sub := range ended {
		if sub.end(err) {
			s.emit(Event{Kind: EventSubscriptionClosed, Stream: sub.stream.Name, Subscription: sub, Err: err})
		}
	}
}

// detach removes sub from the registry. When it was the stream's last
// subscription, an unsubscribe is queued on every link carrying the stream;
// a refusal is reported as EventError.
func (s *socket) detach(sub *Subscription) {
	name := sub.stream.Name
	s.mu.Lock()
	e := s.reg[name]
	if e == nil {
		s.mu.Unlock()
		return
	}
	subs := make([]*Subscription, 0, len(e.subs))
	for _, x := range e.subs {
		if x != sub {
			subs = append(subs, x)
		}
	}
	e.subs = subs
	var targets []*link
	if len(subs) == 0 {
		delete(s.reg, name)
		for _, l := range s.links {
			if l.subscribed[name] && s.only == nil {
				targets = append(targets, l)
			}
			delete(l.subscribed, name)
		}
		if len(targets) > 0 {
			s.tomb[name] = e.stream.key()
		}
	}
	s.publish()
	s.mu.Unlock()

	for _, l := range targets {
		l.enqueue(&request{op: opUnsubscribe, streams: []*Stream{e.stream}, done: func(_ []byte, err error) {
			switch {
			case err == nil:
				s.mu.Lock()
				if _, ok := s.tomb[name]; ok && s.reg[name] == nil {
					delete(s.tomb, name)
					s.publish()
				}
				s.mu.Unlock()
			case !errors.Is(err, errLinkClosed): // a closed link took the stream with it
				s.emit(Event{Kind: EventError, Stream: name, URL: l.url, Err: fmt.Errorf("unsubscribe %s: %w", name, err)})
			}
		}})
	}
}

// activate makes l take part in subscriptions and subscribes every
// registered stream on it: one request per stream, which the writer merges
// into rate-limited batches (and splits again when the server refuses a
// batch, so that a refused stream ends alone, see link.handleReply). The
// registry is copied under the lock and sent outside it; l.subscribed makes
// sure no stream is ever sent twice on one link. It waits for the replies and
// returns how many streams are subscribed.
func (s *socket) activate(l *link) (int, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, ErrClosed
	}
	results := make(chan error, len(s.reg)+1)
	var reqs []*request
	if c := s.conn; c.opts.token != "" && c.market.Dialect.Auth != "" {
		// First in the queue, so that it goes out before any subscribe.
		reqs = append(reqs, &request{op: opAuth, done: func(_ []byte, err error) {
			if err != nil && !errors.Is(err, errLinkClosed) {
				s.emit(Event{Kind: EventError, URL: l.url, Err: err})
			}
			results <- nil
		}})
	}
	for name, e := range s.reg {
		if l.subscribed[name] {
			continue
		}
		l.subscribed[name] = true
		if s.only != nil {
			continue // the URL names the stream
		}
		reqs = append(reqs, &request{op: opSubscribe, streams: []*Stream{e.stream}, done: func(_ []byte, err error) {
			s.subscribed(l, []string{name}, err)
			results <- nil
		}})
	}
	l.ready = true
	s.links = append(s.links, l)
	if len(s.links) == 1 {
		close(s.readyCh)
	}
	s.mu.Unlock()

	l.enqueue(reqs...)
	for range reqs {
		select {
		case <-results:
		case <-l.dead:
			return 0, l.cause
		case <-s.closing:
			return 0, ErrClosed
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(l.subscribed), nil
}

// deactivate removes l from the links; its streams stay registered.
func (s *socket) deactivate(l *link) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l.ready = false
	for i, x := range s.links {
		if x == l {
			s.links = append(s.links[:i:i], s.links[i+1:]...)
			break
		}
	}
	if len(s.links) == 0 {
		s.readyCh = make(chan struct{})
		// No link carries the unsubscribed streams any more.
		clear(s.tomb)
		s.publish()
	}
}

// readyLink waits for a link that carries subscriptions.
func (s *socket) readyLink(ctx context.Context) (*link, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, ErrClosed
		}
		for i := len(s.links) - 1; i >= 0; i-- {
			if s.links[i].ready {
				l := s.links[i]
				s.mu.Unlock()
				return l, nil
			}
		}
		ch := s.readyCh
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.closing:
			return nil, ErrClosed
		}
	}
}

// shutdown stops the supervisor and ends every subscription. It does not
// wait; Conn.Close waits for all goroutines.
func (s *socket) shutdown() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	var subs []*Subscription
	for _, e := range s.reg {
		subs = append(subs, e.subs...)
	}
	s.mu.Unlock()
	close(s.closing)
	for _, sub := range subs {
		sub.end(ErrClosed)
	}
}

// run is the supervisor: it watches the current link and reconnects,
// resubscribes or replaces it. first is the already activated first link.
//
// failures counts the failures in a row: dials, logins and subscriptions
// that failed, and links lost before WithStableAfter. After a clean drop
// (a link that lived that long, or announced its shutdown) the count starts
// over and the first reconnect goes out at once; otherwise each attempt
// waits longer (Backoff). Every dial also waits for the connection budget.
func (s *socket) run(first *link) {
	defer close(s.ended)
	var (
		l, cur   *link = first, nil
		failures int
		due      time.Time     // when to replace cur; zero for never
		reason   error         // why
		shut     chan struct{} // cur's shutdown notice
		replFail int           // failed replacements of cur
	)
	for {
		if l == nil {
			if !s.sleep(s.conn.opts.backoff.Delay(failures)) {
				return
			}
			failures++
			var err error
			l, err = s.connect(failures)
			if err != nil {
				if errors.Is(err, ErrClosed) {
					return
				}
				s.emit(Event{Kind: EventError, URL: s.url, Attempt: failures, Err: err})
				continue
			}
		}
		if l != cur {
			cur, shut, replFail, reason, due = l, l.shutdown, 0, ErrLifetime, time.Time{}
			if d := s.conn.opts.replaceAfter; d > 0 {
				due = l.opened.Add(d)
			}
		}
		var timer *time.Timer
		var fire <-chan time.Time
		if !due.IsZero() {
			timer = time.NewTimer(time.Until(due))
			fire = timer.C
		}
		select {
		case <-s.closing:
			s.deactivate(l)
			l.close()
			return
		case <-l.dead:
			s.emit(Event{Kind: EventDisconnected, URL: l.url, Err: l.cause})
			if time.Since(l.opened) >= s.conn.opts.stableAfter || isClosed(l.shutdown) {
				failures = 0
			}
			s.deactivate(l)
			l.close()
			l = nil
		case <-shut:
			shut, reason, due = nil, ErrServerShutdown, time.Now()
		case <-fire:
			if nl := s.replace(l, reason); nl != l {
				l = nl
			} else {
				replFail++
				due = time.Now().Add(s.conn.opts.backoff.Delay(replFail))
			}
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// connect opens a new link after a loss and subscribes the registry on it.
func (s *socket) connect(attempt int) (*link, error) {
	if err := s.conn.budget.wait(s.closing); err != nil {
		return nil, err
	}
	l, err := s.dialLink(s.conn.ctx)
	if err != nil {
		if s.conn.ctx.Err() != nil {
			return nil, ErrClosed
		}
		return nil, err
	}
	s.emit(Event{Kind: EventReconnected, URL: l.url, Attempt: attempt})
	n, err := s.activate(l)
	if err != nil {
		s.deactivate(l)
		l.close()
		return nil, err
	}
	s.emit(Event{Kind: EventResubscribed, URL: l.url, Count: uint64(n)})
	return l, nil
}

// sleep waits d unless the socket closes first.
func (s *socket) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.closing:
		return false
	}
}
