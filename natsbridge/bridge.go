package natsbridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/marketwire/marketwire/runtime"
)

// Bridge publishes the payloads of streams received through runtime Conns
// to a JetStream stream: each payload byte for byte as received, on the
// subject of its wire stream (Subject), with a Nats-Msg-Id built from its
// own sequence key (MsgID). Several bridges may publish the same streams:
// JetStream keeps one copy of each event (within the stream's duplicate
// window), so stopping any one of them loses nothing.
//
// Each stream is published on its subscription's goroutine, one message
// at a time, waiting for JetStream's acknowledgement: a publish that fails
// (a server lost, a leader election) is retried with the same id until it
// is stored, so the messages of one stream are stored in the order
// received, with none missing. Meanwhile the stream's events wait in its
// runtime queue (whose overflow policy applies as usual; every drop is
// reported as runtime.EventDropped). Streams are published concurrently.
// A payload its stream's decoder rejects is not published: the Conn
// reports it (runtime.EventError) and consumers see a gap where the stream
// has consecutive ids.
type Bridge struct {
	js jetstream.JetStream
	o  options

	ctx    context.Context // cancelled by Close: ends retries
	cancel context.CancelFunc

	mu     sync.Mutex
	subs   []*runtime.Subscription
	closed bool

	published, duplicates, retries, unpublished atomic.Uint64
	lastSeq                                     atomic.Uint64
}

// BridgeStats are a Bridge's counters.
type BridgeStats struct {
	Published   uint64 // messages JetStream stored
	Duplicates  uint64 // messages JetStream already had (from another bridge, or a retry)
	Retries     uint64 // failed publish attempts, retried
	Unpublished uint64 // payloads given up when the Bridge was closed
	LastSeq     uint64 // the stream sequence of the last message stored
}

// NewBridge returns a Bridge publishing through nc. It checks that the
// JetStream stream exists, and creates it when it does not (with
// WithStreamConfig's configuration, else StreamConfig's defaults) unless
// WithoutCreate; an existing stream is used as it is. ctx bounds this call.
func NewBridge(ctx context.Context, nc *nats.Conn, opts ...Option) (*Bridge, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("natsbridge: %w", err)
	}
	if err := ensureStream(ctx, js, o); err != nil {
		return nil, err
	}
	b := &Bridge{js: js, o: o}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	return b, nil
}

// ensureStream checks that the stream exists, creating it if allowed.
func ensureStream(ctx context.Context, js jetstream.JetStream, o options) error {
	_, err := js.Stream(ctx, o.stream)
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("natsbridge: JetStream stream %q: %w", o.stream, err)
	}
	if !o.create {
		return fmt.Errorf("natsbridge: JetStream stream %q does not exist (a Bridge without WithoutCreate creates it): %w", o.stream, err)
	}
	cfg := StreamConfig(o.stream)
	if o.config != nil {
		cfg = *o.config
		cfg.Name = o.stream
	}
	if _, err := js.CreateStream(ctx, cfg); err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return fmt.Errorf("natsbridge: create JetStream stream %q: %w", o.stream, err)
	}
	return nil
}

// frame is what a bridged stream's decoder returns: the payload as
// received, its decoded value and when it arrived.
type frame struct {
	info    *streamInfo
	data    []byte
	v       any
	arrived time.Time
}

// streamInfo is what the publishing handler needs of a stream.
type streamInfo struct {
	subject string
	seq     func(any) runtime.Seq
}

// traceArrival, when set (by tests and benchmarks), is called with every
// payload the bridge publishes and its arrival time.
var traceArrival func(data []byte, arrived time.Time)

// bridged returns st with a decoder that keeps the payload bytes with the
// decoded value. The runtime never modifies them (see runtime.Decoder).
func bridged(market string, st runtime.Stream) runtime.Stream {
	info := &streamInfo{subject: Subject(market, st.Name), seq: st.Seq}
	w := st
	decode := st.Decode
	w.Decode = func(data []byte) (any, error) {
		v, err := decode(data)
		if err != nil {
			return nil, err
		}
		return &frame{info, data, v, time.Now()}, nil
	}
	if nd := st.NewDecoder; nd != nil {
		w.NewDecoder = func() runtime.StreamDecoder { return &frameDecoder{nd(), info} }
	}
	if seq := st.Seq; seq != nil {
		w.Seq = func(v any) runtime.Seq { return seq(v.(*frame).v) }
	}
	return w
}

// frameDecoder wraps a stream's own StreamDecoder as bridged does Decode.
type frameDecoder struct {
	dec  runtime.StreamDecoder
	info *streamInfo
}

func (d *frameDecoder) Decode(data []byte, _ any) (any, error) {
	v, err := d.dec.Decode(data, nil)
	if err != nil {
		return nil, err
	}
	return &frame{d.info, data, v, time.Now()}, nil
}

// Add subscribes to streams on c and publishes every payload, as
// described on Bridge; the subjects use c's market name. It returns once
// the exchange has confirmed or refused each stream (see
// runtime.Conn.SubscribeAll, whose errors it returns); the refused ones
// are nil in the result. The subscriptions use the runtime's default
// queue; opts are passed to Subscribe. Close ends them.
func (b *Bridge) Add(ctx context.Context, c *runtime.Conn, streams []runtime.Stream, opts ...runtime.SubscribeOption) ([]*runtime.Subscription, error) {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return nil, runtime.ErrClosed
	}
	market := c.Market().Name
	ws := make([]runtime.Stream, len(streams))
	for i, st := range streams {
		if st.Decode == nil {
			return nil, &runtime.SubscribeError{Stream: st.Name, Err: errors.New("the stream has no decoder")}
		}
		ws[i] = bridged(market, st)
	}
	subs, err := c.SubscribeAll(ctx, ws, b.publish, opts...)
	b.mu.Lock()
	for _, s := range subs {
		if s != nil {
			b.subs = append(b.subs, s)
		}
	}
	closed = b.closed
	b.mu.Unlock()
	if closed {
		b.unsubscribe(subs)
	}
	return subs, err
}

// publish is the handler of every bridged stream: it publishes one payload
// and returns once JetStream has stored it, or the Bridge is closed.
func (b *Bridge) publish(v any) {
	f := v.(*frame)
	q := runtime.Seq{}
	if f.info.seq != nil {
		q = f.info.seq(f.v)
	}
	msg := &nats.Msg{Subject: f.info.subject, Data: f.data, Header: nats.Header{jetstream.MsgIDHeader: []string{MsgID(f.info.subject, q, f.data)}}}
	if traceArrival != nil {
		traceArrival(f.data, f.arrived)
	}
	delay := 10 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(b.ctx, b.o.ackWait)
		ack, err := b.js.PublishMsg(ctx, msg)
		cancel()
		if err == nil {
			if ack.Duplicate {
				b.duplicates.Add(1)
			} else {
				b.published.Add(1)
				b.lastSeq.Store(ack.Sequence)
			}
			return
		}
		if b.ctx.Err() != nil {
			b.unpublished.Add(1)
			return
		}
		b.retries.Add(1)
		b.o.onError(fmt.Errorf("natsbridge: publish %s (retried): %w", f.info.subject, err))
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-b.ctx.Done():
			t.Stop()
			b.unpublished.Add(1)
			return
		}
		delay = min(2*delay, time.Second)
	}
}

// Stats returns the Bridge's counters.
func (b *Bridge) Stats() BridgeStats {
	return BridgeStats{
		Published:   b.published.Load(),
		Duplicates:  b.duplicates.Load(),
		Retries:     b.retries.Load(),
		Unpublished: b.unpublished.Load(),
		LastSeq:     b.lastSeq.Load(),
	}
}

// Close stops publishing: publishes in progress give up (counted in
// Stats.Unpublished) and the Bridge's subscriptions end (their Conn stays
// open). It returns when no handler of the Bridge runs. Idempotent.
func (b *Bridge) Close() error {
	b.mu.Lock()
	b.closed = true
	subs := b.subs
	b.subs = nil
	b.mu.Unlock()
	b.cancel()
	b.unsubscribe(subs)
	return nil
}

func (b *Bridge) unsubscribe(subs []*runtime.Subscription) {
	for _, s := range subs {
		if s != nil {
			s.Unsubscribe(context.Background())
		}
	}
}
