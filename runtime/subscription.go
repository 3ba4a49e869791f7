package runtime

import (
	"context"
	"errors"
	"github.com/marketwire/marketwire/internal/dispatch"
	"sync"
	"sync/atomic"
	"time"
)

// Subscription is one stream delivered to one handler. Its events reach the
// handler in the order received, one at a time, on the subscription's own
// goroutine, fed by a bounded queue whose overflow policy was chosen at
// Subscribe.
type Subscription struct {
	stream Stream
	handle func(any)
	sock   *socket
	policy OverflowPolicy

	mu       sync.Mutex
	buf      []any // ring
	head, n  int
	notEmpty chan struct{}
	notFull  chan struct{}

	dropped    atomic.Uint64
	unreported atomic.Uint64
	lastReport time.Time // used by the subscription goroutine only

	stopped  chan struct{}
	stopOnce sync.Once
	err      error // why it stopped; set before stopped is closed
	done     chan struct{}
}

func newSubscription(s *socket, st Stream, handle func(any), o subOptions) *Subscription {
	return &Subscription{
		stream:   st,
		handle:   handle,
		sock:     s,
		policy:   o.policy,
		buf:      make([]any, o.size),
		notEmpty: make(chan struct{}, 1),
		notFull:  make(chan struct{}, 1),
		stopped:  make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// Stream returns the subscribed stream's name.
func (s *Subscription) Stream() string { return s.stream.Name }

// Dropped returns how many events the overflow policy has discarded so far.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Done is closed when the subscription's goroutine has ended: after
// Unsubscribe, Close, or a CloseSubscription overflow.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err returns why the subscription ended (ErrUnsubscribed, ErrClosed,
// ErrSlowConsumer or a *ServerError), or nil while it is active.
func (s *Subscription) Err() error {
	select {
	case <-s.stopped:
		return s.err
	default:
		return nil
	}
}

// Unsubscribe stops the subscription and, when it was the stream's last
// subscription on the connection, sends the unsubscribe message and waits for the
// exchange's reply, bounded by ctx. After it returns the handler is not
// called again, except that a call already running may finish; wait on Done
// for that. It may be called from the handler itself. A second call returns
// nil.
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	if !s.end(ErrUnsubscribed) {
		return nil
	}
	results := s.sock.detach(s)
	var err error
	if results != nil {
		select {
		case err = <-results:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if s.sock.only != nil {
		s.sock.conn.release(s.sock)
	}
	return err
}

// end stops the subscription with err; it reports whether this call did.
func (s *Subscription) end(err error) bool {
	first := false
	s.stopOnce.Do(func() {
		s.err = err
		close(s.stopped)
		first = true
	})
	return first
}

// push queues one decoded event, applying the overflow policy. It runs on
// the socket's reader goroutine.
func (s *Subscription) push(v any) {
	s.mu.Lock()
	for s.n == len(s.buf) {
		switch s.policy {
		case DropOldest:
			s.buf[s.head] = nil
			s.head = (s.head + 1) % len(s.buf)
			s.n--
			s.drop()
		case DropNewest:
			s.mu.Unlock()
			s.drop()
			return
		case CloseSubscription:
			s.mu.Unlock()
			s.end(ErrSlowConsumer)
			return
		case Block:
			s.mu.Unlock()
			select {
			case <-s.notFull:
			case <-s.stopped:
				return
			}
			s.mu.Lock()
		}
	}
	select {
	case <-s.stopped:
		s.mu.Unlock()
		return
	default:
	}
	s.buf[(s.head+s.n)%len(s.buf)] = v
	s.n++
	s.mu.Unlock()
	dispatch.Signal(s.notEmpty)
}

func (s *Subscription) drop() {
	s.dropped.Add(1)
	s.unreported.Add(1)
}

func (s *Subscription) pop() (any, bool) {
	for {
		s.mu.Lock()
		if s.n > 0 {
			v := s.buf[s.head]
			s.buf[s.head] = nil
			s.head = (s.head + 1) % len(s.buf)
			s.n--
			s.mu.Unlock()
			dispatch.Signal(s.notFull)
			return v, true
		}
		s.mu.Unlock()
		s.reportDrops(true)
		select {
		case <-s.notEmpty:
		case <-s.stopped:
			return nil, false
		}
		select {
		case <-s.stopped:
			return nil, false
		default:
		}
	}
}

// run is the subscription's goroutine: it calls the handler for each event.
func (s *Subscription) run() {
	defer close(s.done)
	s.lastReport = time.Now()
	for {
		v, ok := s.pop()
		if !ok {
			break
		}
		s.handle(v)
		s.reportDrops(false)
	}
	s.reportDrops(true)
	if errors.Is(s.err, ErrSlowConsumer) {
		s.sock.detach(s)
		s.sock.emit(Event{Kind: EventSubscriptionClosed, Stream: s.stream.Name, Subscription: s, Err: s.err})
	}
}

// reportDrops emits one EventDropped for the drops since the last report, at
// most once per drop-report interval unless now is true.
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
