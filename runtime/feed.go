package runtime

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/marketwire/marketwire/internal/dispatch"
)

// Feed delivers payloads that a program receives by some other way than the
// market's WebSocket service (a message bus, a recording) to Subscriptions,
// through the same machinery as a Conn: each subscription's bounded queue
// and overflow policy, its goroutine, decode errors reported as EventError
// (a *FrameError) and gaps in the stream's sequence key as EventGap,
// Dropped, Done, Err, Ready and Unsubscribe. It is the building block of a
// Source other than Conn: the source calls Subscribe, starts receiving the
// stream, reports the outcome with Confirm, passes each payload to Deliver,
// and stops receiving once the subscription is Done.
//
// A Feed decodes nothing itself and keeps no connection: it knows only the
// Market (for its name and routes) and the Options that apply to delivery
// (OnEvent, WithDropReportInterval, WithCrashOnPanic); the others are
// accepted and ignored. It is safe for concurrent use.
type Feed struct {
	c *Conn
}

// NewFeed returns a Feed for payloads of market m's streams.
func NewFeed(m *Market, opts ...Option) (*Feed, error) {
	if m == nil {
		return nil, errors.New("runtime: NewFeed: nil Market")
	}
	o, err := buildOptions(m, opts)
	if err != nil {
		return nil, err
	}
	c := &Conn{
		market:     m,
		opts:       o,
		sockets:    map[string]*socket{},
		subs:       map[*Subscription]bool{},
		closedDone: make(chan struct{}),
	}
	c.events = dispatch.New(c.wrapHandlers(o.handlers))
	c.reports = newReports(o.dropReport, c.events.Emit)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return &Feed{c: c}, nil
}

// Market returns the market the Feed was made for.
func (f *Feed) Market() *Market { return f.c.market }

// Subscribe registers a subscription to st whose events Deliver will
// queue, and starts its goroutine; it sends nothing anywhere. The stream
// and options are checked as Conn.Subscribe checks them. Each call makes a
// subscription of its own, even for a stream already subscribed, since
// each one is fed on its own. Ready waits for Confirm.
func (f *Feed) Subscribe(st Stream, handle func(any), opts ...SubscribeOption) (*Subscription, error) {
	c := f.c
	so, err := c.check(st, handle, opts)
	if err != nil {
		return nil, &SubscribeError{Stream: st.Name, Err: err}
	}
	s := newSocket(c, st.Route, "", 0)
	s.only = []byte(st.Name) // Unsubscribe releases the socket, as in raw mode
	close(s.started)
	sub := newSubscription(s, st, handle, so)
	e := newEntry(&sub.stream)
	e.subs = []*Subscription{sub}
	sub.entry = e
	s.reg[st.Name] = e
	s.publish()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, &SubscribeError{Stream: st.Name, Err: ErrClosed}
	}
	c.sockets["feed "+strconv.FormatUint(c.nextID.Add(1), 10)] = s
	c.mu.Unlock()
	if !c.startSub(sub) {
		return nil, &SubscribeError{Stream: st.Name, Err: ErrClosed}
	}
	return sub, nil
}

// Confirm reports whether the source could start receiving sub's stream:
// nil makes Ready return nil; an error ends the subscription with it
// (Ready and Err return a *SubscribeError wrapping it, and
// EventSubscriptionClosed reports it). Only the first call counts.
func (f *Feed) Confirm(sub *Subscription, err error) {
	if !f.owns(sub) || !sub.entry.ack(err) || err == nil {
		return
	}
	if sub.end(err) {
		sub.sock.emit(Event{Kind: EventSubscriptionClosed, Stream: sub.stream.Name, Subscription: sub, Err: err})
	}
	sub.sock.detach(sub)
	f.c.release(sub.sock)
}

// Deliver queues one payload of sub's stream for sub's handler, applying
// the overflow policy; it is decoded with the stream's decoder on the
// subscription's goroutine (in Deliver for WithInline, or to read its
// sequence key when the stream has no SeqRaw). A payload that does not
// decode is counted (Stats.Rejected) and reported as EventError with a
// *FrameError; a sequence key that skips ids is reported as EventGap.
// Calls for one subscription must not overlap; they may for different ones.
// data must not be modified after the call: it waits in the queue, and the
// event may alias it, as with Decoder. Deliver reports whether the payload
// was queued: false when sub has ended, or when its sequence key (or, for a
// stream that has no SeqRaw, the payload) did not decode.
func (f *Feed) Deliver(sub *Subscription, data []byte) bool {
	if !f.owns(sub) || sub.ended.Load() {
		return false
	}
	s := sub.sock
	targets := (*s.table.Load())[sub.stream.key()] // lock free, as for a Conn's frames
	if len(targets) == 0 {
		return false // unsubscribed meanwhile
	}
	r := targets[0]
	s.dmu.Lock()
	defer s.dmu.Unlock()
	if sub.inline {
		s.dgid = goid() // the handler runs here: Unsubscribe from it must not wait for itself
	}
	f.c.stats.frames.Add(1)
	ok := s.arrive(nil, r, payload{in: data})
	s.flush()
	return ok && !sub.ended.Load()
}

// owns reports whether sub was made by f.
func (f *Feed) owns(sub *Subscription) bool {
	return sub != nil && sub.sock != nil && sub.sock.conn == f.c && sub.sock.only != nil
}

// Emit reports e to the OnEvent handlers, in order with the Feed's own
// events; a zero Time is set to now. A source uses it for its lifecycle
// (EventDisconnected, EventReconnected, EventError). After Close it does
// nothing.
func (f *Feed) Emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	f.c.events.Emit(e)
}

// Stats returns the Feed's counters: Frames counts the payloads given to
// Deliver; Connections is empty.
func (f *Feed) Stats() Stats {
	st := f.c.Stats()
	st.Connections = nil
	return st
}

// Close ends every subscription as Conn.Close does: events still queued
// are dropped and counted, no handler is called after it returns, and
// EventClosed is the last event. It is idempotent.
func (f *Feed) Close() error { return f.c.Close() }
