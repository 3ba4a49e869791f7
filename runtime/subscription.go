package runtime

import (
	"context"
	"errors"
	"fmt"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/marketwire/marketwire/internal/dispatch"
)

// Subscription is one stream delivered to one handler. Its events reach the
// handler in the order received, one at a time, on the subscription's own
// goroutine, fed by a queue bounded in events and in bytes whose overflow
// policy was chosen at Subscribe. For a Deferred stream (every generated
// one) the queue holds payloads, which the subscription's goroutine
// decodes: the socket's reader only routes them and reads their sequence
// keys, so the subscriptions of one connection decode in parallel.
type Subscription struct {
	stream   Stream
	handle   func(any)
	sock     *socket
	entry    *entry        // the stream in sock's registry, set by socket.add
	dec      StreamDecoder // its own, made on first use (see decoder)
	policy   OverflowPolicy
	maxLen   int // the queue's capacity in events; buf grows up to it
	maxBytes int
	crash    bool // let handler panics crash the program
	borrow   bool // WithBorrow: handled events are decoded into again
	inline   bool // WithInline: the handler runs on the socket's reader (callInline)

	mu       sync.Mutex
	buf      []queued // ring
	head, n  int
	bytes    int  // payload bytes queued
	waiting  bool // the subscription goroutine waits for notEmpty
	full     bool // the reader waits for notFull (Block)
	lagging  bool // the policy applied since the subscription goroutine last took the queue: push does not yield
	notEmpty chan struct{}
	notFull  chan struct{}
	batch    []queued // the payloads taken from the queue, being handled (subscription goroutine only)
	staged   []queued // payloads the reader staged, to push together (socket.dmu; see socket.stage)
	last     any      // WithBorrow: the event handled last, to decode the next one into (subscription goroutine only)
	spare    []any    // WithInline: handled events to decode into (socket.dmu)

	callMu sync.Mutex    // WithInline: held during a call of the handler
	inCall atomic.Uint64 // WithInline: the goroutine calling the handler, 0 when none
	ended  atomic.Bool

	dropped    atomic.Uint64
	unreported atomic.Uint64
	lastReport time.Time // used by the subscription goroutine only

	gid      atomic.Uint64 // the subscription goroutine's id, see goid
	stopped  chan struct{}
	stopOnce sync.Once
	err      error // why it stopped; set before stopped is closed
	done     chan struct{}
}

// queued is one payload waiting for the handler, with its size in bytes; v
// is its event when the reader decoded it already (see socket.seqOf), else
// nil.
type queued struct {
	v    any
	pl   payload
	size int
}

func newSubscription(s *socket, st Stream, handle func(any), o subOptions) *Subscription {
	return &Subscription{
		stream:   st,
		handle:   handle,
		sock:     s,
		policy:   o.policy,
		maxLen:   o.size,
		maxBytes: o.bytes,
		crash:    s.conn.opts.crashOnPanic,
		borrow:   o.borrow,
		inline:   o.inline,
		notEmpty: make(chan struct{}, 1),
		notFull:  make(chan struct{}, 1),
		stopped:  make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// Stream returns the subscribed stream's name.
func (s *Subscription) Stream() string { return s.stream.Name }

// Dropped returns how many events were discarded so far: by the overflow
// policy, and those still queued when the subscription ended.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Done is closed when the subscription's goroutine has ended: after
// Unsubscribe, Close, a CloseSubscription overflow, a refused
// resubscription or a handler panic.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err returns why the subscription ended (ErrUnsubscribed, ErrClosed,
// ErrSlowConsumer, a *ServerError or a *PanicError), or nil while it is
// active.
func (s *Subscription) Err() error {
	select {
	case <-s.stopped:
		return s.err
	default:
		return nil
	}
}

// Ready waits until the exchange has confirmed the subscription and returns
// nil. If the exchange refused it, or the subscription ended first, it
// returns why: a *SubscribeError wrapping the *ServerError, ErrUnsubscribed,
// ErrClosed... When ctx ends first it returns ctx.Err(), and the
// subscription goes on.
func (s *Subscription) Ready(ctx context.Context) error {
	e := s.entry // set before Subscribe returns
	select {
	case <-e.acked:
	case <-s.stopped:
		select {
		case <-e.acked: // confirmed (or refused), then ended
		default:
			return s.err
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	if e.ackErr != nil {
		return &SubscribeError{Stream: s.stream.Name, Err: e.ackErr}
	}
	return nil
}

// Unsubscribe ends the subscription: events still queued are dropped (and
// counted in Dropped), and when it returns the handler is not running and
// will not be called again. Called from the handler itself, it returns
// without waiting for that call, and no further call follows it. When this
// was the stream's last subscription on the connection, the unsubscribe
// message is queued, like Subscribe's, without waiting for the reply (a
// refusal is reported as EventError), so a loop of Unsubscribe calls is
// fast too. ctx bounds the wait for the handler. A second call returns nil.
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	if !s.end(ErrUnsubscribed) {
		return nil
	}
	s.sock.detach(s)
	if s.sock.only != nil {
		s.sock.conn.release(s.sock)
	}
	self := goid()
	if s.inline && s.inCall.Load() != self {
		// Wait for a call in progress to end; no other starts, since the
		// subscription has ended.
		s.callMu.Lock()
		//lint:ignore SA2001 the lock is the wait
		s.callMu.Unlock()
	}
	if s.gid.Load() != self {
		select {
		case <-s.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// end stops the subscription with err; it reports whether this call did.
func (s *Subscription) end(err error) bool {
	first := false
	s.stopOnce.Do(func() {
		s.err = err
		s.ended.Store(true)
		close(s.stopped)
		dispatch.Signal(s.notEmpty) // take waits on notEmpty only
		first = true
	})
	return first
}

// push queues payloads qs, in order, applying the overflow policy when the
// queue holds its most payloads or bytes. It runs on a reader goroutine
// (see socket.stage). It wakes the subscription goroutine only when that
// waits for a payload, so a busy subscription costs no wake-up per payload.
func (s *Subscription) push(qs []queued) {
	s.mu.Lock()
	for _, q := range qs {
		if !s.put(q) {
			return
		}
	}
	s.unlockAndWake()
}

// put queues q, applying the overflow policy, with s.mu held. It returns
// false, having released s.mu, once the subscription has ended.
func (s *Subscription) put(q queued) bool {
	yields := 0
	if s.n == len(s.buf) && len(s.buf) < s.maxLen {
		s.grow()
	}
	for s.n == len(s.buf) || s.n > 0 && s.bytes+q.size > s.maxBytes {
		if yields < maxYields && !s.lagging && s.policy != Block {
			// Full: before applying the policy, give the subscription
			// goroutine a few chances to run. On a busy machine it is often
			// waiting for a core rather than slow, and it drains the whole
			// queue at once. A handler that really lags loses payloads after
			// these few yields (microseconds), and until it takes the queue
			// again the reader does not yield for it: it cannot slow the
			// reader down for the other subscriptions.
			yields++
			s.unlockAndWake()
			goruntime.Gosched()
			s.mu.Lock()
			continue
		}
		s.lagging = s.policy != Block
		switch s.policy {
		case DropOldest:
			s.bytes -= s.buf[s.head].size
			s.buf[s.head] = queued{}
			s.head = (s.head + 1) % len(s.buf)
			s.n--
			s.drop(1)
		case DropNewest:
			s.drop(1)
			return true
		case CloseSubscription:
			s.mu.Unlock()
			s.end(ErrSlowConsumer)
			return false
		case Block:
			s.full = true
			s.unlockAndWake() // it may not know yet of the payloads before q
			select {
			case <-s.notFull:
			case <-s.stopped:
				return false
			}
			s.mu.Lock()
		}
	}
	if s.ended.Load() {
		s.mu.Unlock()
		return false
	}
	s.buf[(s.head+s.n)%len(s.buf)] = q
	s.n++
	s.bytes += q.size
	return true
}

// decoder returns the subscription's decoder, made on first use by the one
// goroutine that decodes for it: its own if it queues payloads, else the
// socket's reader.
func (s *Subscription) decoder() StreamDecoder {
	if s.dec == nil {
		s.dec = decoderOf(&s.stream)
	}
	return s.dec
}

// queues reports whether s queues payloads for its goroutine to decode
// (see Stream.Deferred), rather than events decoded on the reader.
func (s *Subscription) queues() bool { return s.stream.Deferred && !s.inline }

// reuse returns a handled event to decode into if s runs inline, else nil.
// Called with the socket's dmu held.
func (s *Subscription) reuse() any {
	n := len(s.spare)
	if n == 0 {
		return nil
	}
	v := s.spare[n-1]
	s.spare[n-1] = nil
	s.spare = s.spare[:n-1]
	return v
}

// unlockAndWake releases s.mu and wakes the subscription goroutine if it
// waits for an event.
func (s *Subscription) unlockAndWake() {
	wake := s.waiting
	s.waiting = false
	s.mu.Unlock()
	if wake {
		dispatch.Signal(s.notEmpty)
	}
}

// initialQueue is the number of payloads a subscription's ring holds when
// its first one arrives (an idle subscription has none); it doubles when
// full, up to the queue's capacity, and stays at its largest. It is small
// because a quiet stream should cost little (576 bytes here): a Conn may
// carry tens of thousands.
const initialQueue = 8

// grow makes the ring (initialQueue long) or doubles it, up to maxLen.
// Called with s.mu held.
func (s *Subscription) grow() {
	buf := make([]queued, min(max(2*len(s.buf), initialQueue), s.maxLen))
	for i := 0; i < s.n; i++ {
		buf[i] = s.buf[(s.head+i)%len(s.buf)]
	}
	s.buf, s.head = buf, 0
}

// maxYields is how many times push yields the processor to a full queue's
// subscription goroutine before it applies the overflow policy.
const maxYields = 16

func (s *Subscription) drop(n int) {
	s.dropped.Add(uint64(n))
	s.unreported.Add(uint64(n))
}

// take moves every queued event into s.batch, waiting for one if the queue
// is empty; it returns false once the subscription has ended.
func (s *Subscription) take() bool {
	for {
		if s.ended.Load() {
			return false
		}
		s.mu.Lock()
		if s.n > 0 {
			s.batch = s.batch[:0]
			for i := 0; i < s.n; i++ {
				j := (s.head + i) % len(s.buf)
				s.batch = append(s.batch, s.buf[j])
				s.buf[j] = queued{}
			}
			s.head, s.n, s.bytes = 0, 0, 0
			full := s.full
			s.full, s.lagging = false, false
			s.mu.Unlock()
			if full {
				dispatch.Signal(s.notFull)
			}
			return true
		}
		s.waiting = true
		s.mu.Unlock()
		s.reportDrops(true)
		// One channel, not a select with stopped (end signals notEmpty
		// too): a goroutine parked in selectgo needs a 4 KiB stack, in a
		// channel receive 2 KiB, and there is one per subscription.
		<-s.notEmpty
	}
}

// run is the subscription's goroutine: it decodes each payload and calls
// the handler with the event. When the subscription ends, the payloads not
// handled yet are dropped and counted.
func (s *Subscription) run() {
	defer close(s.done)
	s.gid.Store(goid())
	s.lastReport = time.Now()
	for s.take() {
		for i, q := range s.batch {
			if s.ended.Load() {
				s.drop(len(s.batch) - i)
				break
			}
			s.batch[i] = queued{} // do not keep the payload alive
			s.handleQueued(q)
		}
		s.reportDrops(false)
	}
	s.mu.Lock()
	n := s.n
	clear(s.buf)
	s.n, s.bytes = 0, 0
	s.mu.Unlock()
	s.drop(n)
	s.reportDrops(true)
	var perr *PanicError
	if errors.Is(s.err, ErrSlowConsumer) || errors.As(s.err, &perr) {
		s.sock.detach(s)
		s.sock.emit(Event{Kind: EventSubscriptionClosed, Stream: s.stream.Name, Subscription: s, Err: s.err})
	}
}

// handleQueued decodes q, unless the reader did, and calls the handler with
// the event: a new one, or with WithBorrow the one handled last, decoded
// into again. A payload that does not decode is reported and skipped.
func (s *Subscription) handleQueued(q queued) {
	v := q.v
	if v == nil {
		var err error
		if v, err = q.pl.decode(s.sock.conn.grammar, s.decoder(), s.last); err != nil {
			s.sock.decodeError(s.stream.Name, q.pl.in, err)
			return
		}
	}
	s.handleOne(v)
	if s.borrow {
		s.last = v
	}
}

// handleOne calls the handler with v; a panic ends the subscription.
func (s *Subscription) handleOne(v any) {
	if perr := s.call(v); perr != nil {
		s.sock.conn.stats.panics.Add(1)
		s.sock.emit(Event{Kind: EventPanic, Stream: s.stream.Name, Subscription: s, Err: perr})
		s.end(perr)
	}
}

// callInline calls the handler of a WithInline subscription with v on the
// reader goroutine gid, then keeps v to decode into again. Called with the
// socket's dmu held. The subscription's goroutine still runs, idle, and
// does the cleanup when it ends.
func (s *Subscription) callInline(v any, gid uint64) {
	s.callMu.Lock()
	if !s.ended.Load() && !s.sock.conn.closing.Load() {
		s.inCall.Store(gid)
		s.handleOne(v)
		s.inCall.Store(0)
	}
	s.callMu.Unlock()
	s.spare = append(s.spare, v)
}

// call runs the handler, recovering a panic unless WithCrashOnPanic.
func (s *Subscription) call(v any) (perr *PanicError) {
	if s.crash {
		s.handle(v)
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			perr = newPanicError(fmt.Sprintf("handler of stream %s", s.stream.Name), r)
		}
	}()
	s.handle(v)
	return nil
}

// reportDrops emits one EventDropped for the drops since the last report, at
// most once per report interval unless now is true.
func (s *Subscription) reportDrops(now bool) {
	if s.unreported.Load() == 0 {
		return
	}
	if !now && time.Since(s.lastReport) < s.sock.conn.opts.dropReport {
		return
	}
	if n := s.unreported.Swap(0); n > 0 {
		s.lastReport = time.Now()
		s.sock.emit(Event{Kind: EventDropped, Stream: s.stream.Name, Subscription: s, Count: n})
	}
}
