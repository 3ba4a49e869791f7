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
// Each stream is published on its subscription's goroutine, in order.
// While its events follow one another, they go out in a JetStream fast
// batch (see WithoutBatches): sent without waiting, stored by the server in
// order, acknowledged every few hundred, and the batch ends at the first
// message the server does not store (a server lost, a leader election), so
// what a batch stores is always a prefix of what it sent. The rest, and
// any event that does not follow, is published one at a time, waiting for
// JetStream's acknowledgement, under the rules below: a publish that fails
// is retried with the same id until it is stored. Meanwhile the stream's
// events wait in its runtime queue (whose overflow policy applies as
// usual; every drop is reported as runtime.EventDropped). Streams are
// published concurrently.
//
// Order across bridges: a bridge publishes an event at once (or in its
// batch) only when it follows the last one it stored or sent itself (the
// next id of a consecutive or linked key). Otherwise (its first event, or after a gap in its own
// feed, as when it restarts while another bridge still catches up) it
// reads the last message stored on the subject first: when that holds the
// event or a later one the event is skipped (Stats.Skipped), when it holds
// the event's predecessor (or nothing) the event is published on condition
// that nothing was stored meanwhile (a compare-and-set on the subject's
// last sequence), and when ids are missing it waits up to WithGapWait for
// the other bridges to store them, then publishes, leaving the gap
// (Stats.GapWaits). So the stream holds each event once and in order
// whichever bridges run. Increasing and time keys do not reveal gaps:
// their events are kept in order across a restart, but an event one
// bridge missed and another stored later may land after its successors.
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

	stream   jetstream.Stream
	batching bool // the stream allows fast batches, and WithoutBatches was not given
	batches  batches
	infos    []*streamInfo // of every stream added, for Close

	published, duplicates, retries, unpublished atomic.Uint64
	skipped, gapWaits, lastSeq, batched         atomic.Uint64
}

// BridgeStats are a Bridge's counters.
type BridgeStats struct {
	Published   uint64 // messages published one at a time that JetStream stored
	Duplicates  uint64 // messages published one at a time that JetStream already had (from another bridge, or a retry)
	Batched     uint64 // messages of fast batches that JetStream stored or already had (it does not tell which)
	Retries     uint64 // failed publish attempts, retried
	Unpublished uint64 // payloads given up when the Bridge was closed
	Skipped     uint64 // payloads not published because the stream already held them or later ones (see Bridge)
	GapWaits    uint64 // payloads published after waiting WithGapWait for missing ids
	LastSeq     uint64 // the stream sequence of the last message stored
}

// NewBridge returns a Bridge publishing through nc. It checks that the
// JetStream stream exists, and creates it when it does not (with
// WithStreamConfig's configuration, else StreamConfig's defaults) unless
// WithoutCreate; an existing stream is used as it is. ctx bounds this call.
func NewBridge(ctx context.Context, nc *nats.Conn, opts ...Option) (*Bridge, error) {
	o, js, err := setup("NewBridge", nc, opts)
	if err != nil {
		return nil, err
	}
	stream, err := ensureStream(ctx, js, o)
	if err != nil {
		return nil, err
	}
	b := &Bridge{js: js, o: o, stream: stream, batching: o.batches && stream.CachedInfo().Config.AllowBatchPublish}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	return b, nil
}

// setup reads opts and returns a JetStream context on nc, for the
// constructor fn.
func setup(fn string, nc *nats.Conn, opts []Option) (options, jetstream.JetStream, error) {
	if nc == nil {
		return options{}, nil, fmt.Errorf("natsbridge: %s: nil NATS connection", fn)
	}
	o, err := buildOptions(opts)
	if err != nil {
		return o, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return o, nil, fmt.Errorf("natsbridge: %w", err)
	}
	return o, js, nil
}

// ensureStream checks that the stream exists, creating it if allowed.
func ensureStream(ctx context.Context, js jetstream.JetStream, o options) (jetstream.Stream, error) {
	st, err := js.Stream(ctx, o.stream)
	if err == nil {
		return st, nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("natsbridge: JetStream stream %q: %w", o.stream, err)
	}
	if !o.create {
		return nil, fmt.Errorf("natsbridge: JetStream stream %q does not exist (a Bridge without WithoutCreate creates it): %w", o.stream, err)
	}
	cfg := StreamConfig(o.stream)
	if o.config != nil {
		cfg = *o.config
		cfg.Name = o.stream
	}
	st, err = js.CreateStream(ctx, cfg)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		st, err = js.Stream(ctx, o.stream) // another bridge created it meanwhile
	}
	if err != nil {
		return nil, fmt.Errorf("natsbridge: create JetStream stream %q: %w", o.stream, err)
	}
	return st, nil
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
	decode  runtime.Decoder // to read the key of a stored message

	// Used by the stream's subscription goroutine and its batch's idle
	// timer, under mu.
	mu           sync.Mutex
	last         runtime.Seq // the last event this bridge stored, found stored or sent in its batch
	has          bool
	batch        *batch      // the open fast batch, if any
	idle         *time.Timer // ends batch when the stream pauses
	noBatchUntil time.Time   // a batch failed to start: publish one at a time until then
}

// traceArrival, when set (by tests and benchmarks), is called with every
// payload the bridge publishes and its arrival time.
var traceArrival func(data []byte, arrived time.Time)

// bridged returns st with a decoder that keeps the payload bytes with the
// decoded value. The runtime never modifies them (see runtime.Decoder).
func bridged(market string, st runtime.Stream) (runtime.Stream, *streamInfo) {
	info := &streamInfo{subject: Subject(market, st.Name), seq: st.Seq, decode: st.Decode}
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
	return w, info
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
	for _, st := range streams {
		if st.Decode == nil {
			return nil, &runtime.SubscribeError{Stream: st.Name, Err: errors.New("the stream has no decoder")}
		}
	}
	b.mu.Lock()
	for i, st := range streams {
		var info *streamInfo
		ws[i], info = bridged(market, st)
		b.infos = append(b.infos, info)
	}
	b.mu.Unlock()
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

// publish is the handler of every bridged stream. An event that follows
// the last one of the stream goes in the stream's fast batch (see batch.go)
// and publish returns once it is sent; any other event ends the batch,
// publishes again what the batch did not store, then publishes the event
// with store.
func (b *Bridge) publish(v any) {
	f := v.(*frame)
	info := f.info
	var q runtime.Seq
	if info.seq != nil {
		q = info.seq(f.v)
	}
	msg := &nats.Msg{Subject: info.subject, Data: f.data, Header: nats.Header{jetstream.MsgIDHeader: []string{MsgID(info.subject, q, f.data)}}}
	if traceArrival != nil {
		traceArrival(f.data, f.arrived)
	}
	info.mu.Lock()
	defer info.mu.Unlock()
	if b.batching && info.follows(q) && time.Now().After(info.noBatchUntil) {
		if info.batch == nil {
			fb, err := b.newBatch(info.subject)
			if err != nil {
				b.o.onError(fmt.Errorf("natsbridge: fast batch on %s: %w", info.subject, err))
			}
			info.batch = fb
		}
		if info.batch != nil && info.batch.add(msg, q) {
			info.last = q
			b.armIdle(info)
			return
		}
	}
	b.endBatch(info, b.ctx.Done())
	b.store(info, msg, q)
}

// armIdle makes sure the stream's batch is ended batchIdle after its last
// message.
func (b *Bridge) armIdle(info *streamInfo) {
	if info.idle == nil {
		info.idle = time.AfterFunc(batchIdle, func() { b.idleEnd(info) })
	} else if info.batch.sent == 1 {
		info.idle.Reset(batchIdle)
	}
}

// idleEnd ends the stream's batch if nothing was added for batchIdle.
func (b *Bridge) idleEnd(info *streamInfo) {
	info.mu.Lock()
	defer info.mu.Unlock()
	if info.batch == nil || b.ctx.Err() != nil {
		return
	}
	if d := time.Since(info.batch.last); d < batchIdle {
		info.idle.Reset(batchIdle - d)
		return
	}
	b.endBatch(info, b.ctx.Done())
}

// endBatch ends the stream's batch, if any, and publishes again, with
// store, the messages it did not store. stop cuts the wait for the
// batch's final acknowledgement short.
func (b *Bridge) endBatch(info *streamInfo, stop <-chan struct{}) {
	fb := info.batch
	if fb == nil {
		return
	}
	info.batch = nil
	rest := fb.finish(stop)
	if fb.done == 0 && len(rest) > 0 {
		// Nothing was acknowledged (the batch could not start, or its
		// server was lost at once): publish one at a time for a while
		// rather than start batch after batch.
		info.noBatchUntil = time.Now().Add(batchRetry)
	}
	for _, m := range rest {
		b.store(info, m.msg, m.q)
	}
}

// store publishes one message and returns once JetStream has stored it
// (or had it already), the message is known to be too late to store in
// order, or the Bridge is closed. See Bridge for the order rules.
func (b *Bridge) store(info *streamInfo, msg *nats.Msg, q runtime.Seq) {
	msg.Reply = ""
	delay := 10 * time.Millisecond
	for {
		if b.ctx.Err() != nil {
			b.unpublished.Add(1)
			return
		}
		var opts []jetstream.PublishOpt
		var err error
		if !info.follows(q) {
			var act action
			var last uint64
			act, last, err = b.check(info, q)
			switch act {
			case skip:
				b.skipped.Add(1)
				return
			case publishAfter:
				opts = append(opts, jetstream.WithExpectLastSequencePerSubject(last))
			}
		}
		if err == nil {
			var ack *jetstream.PubAck
			ctx, cancel := context.WithTimeout(b.ctx, b.o.ackWait)
			ack, err = b.js.PublishMsg(ctx, msg, opts...)
			cancel()
			if err == nil {
				if ack.Duplicate {
					b.duplicates.Add(1)
				} else {
					b.published.Add(1)
					b.lastSeq.Store(ack.Sequence)
				}
				info.last, info.has = q, true
				return
			}
			if wrongLast(err) {
				continue // another bridge stored one meanwhile: look again
			}
		}
		if b.ctx.Err() != nil {
			b.unpublished.Add(1)
			return
		}
		b.retries.Add(1)
		b.o.onError(fmt.Errorf("natsbridge: publish %s (retried): %w", info.subject, err))
		if !b.sleep(delay) {
			b.unpublished.Add(1)
			return
		}
		delay = min(2*delay, time.Second)
	}
}

// follows reports whether q comes right after the last event this bridge
// stored on the stream, so that publishing it keeps the stored order: the
// next id of a consecutive or linked key; for increasing and time keys,
// which do not tell, any later key.
func (info *streamInfo) follows(q runtime.Seq) bool {
	if !info.has {
		return false
	}
	switch q.Kind {
	case runtime.SeqConsecutive:
		return q.First == info.last.Last+1
	case runtime.SeqLinked:
		return q.Prev == info.last.Last
	case runtime.SeqIncreasing:
		return q.Last > info.last.Last
	case runtime.SeqTime:
		return q.Last >= info.last.Last
	}
	return true
}

// action is what check decided.
type action int

const (
	retry        action = iota // the stored state could not be read: try again
	skip                       // the stream has moved past q: publishing it would reorder
	publishAfter               // publish, expecting the subject's last message to be the one read
)

// check decides whether the event q, which does not follow the last one
// this bridge stored (its first, or after a gap in its own feed), can be
// stored in order: it reads the last message stored on the subject. If
// the stream has it or a later one, q is skipped. If the stream holds its
// predecessor, or nothing, q is published on condition that nothing was
// stored meanwhile (last is that message's stream sequence, 0 for none).
// If the stream is behind q with ids missing (consecutive and linked keys),
// other bridges may be catching up: check waits for them, up to
// WithGapWait, then publishes all the same, which leaves the gap.
func (b *Bridge) check(info *streamInfo, q runtime.Seq) (act action, last uint64, err error) {
	start := time.Now()
	for {
		ctx, cancel := context.WithTimeout(b.ctx, b.o.ackWait)
		raw, err := b.stream.GetLastMsgForSubject(ctx, info.subject)
		cancel()
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return publishAfter, 0, nil
		}
		if err != nil {
			return retry, 0, err
		}
		if q.Kind == runtime.SeqNone || info.seq == nil {
			return publishAfter, raw.Sequence, nil
		}
		v, derr := info.decode(raw.Data)
		if derr != nil {
			return publishAfter, raw.Sequence, nil // not ours to judge
		}
		l := info.seq(v).Last
		switch q.Kind {
		case runtime.SeqConsecutive:
			if l >= q.Last {
				return skip, 0, nil
			}
			if l == q.First-1 {
				return publishAfter, raw.Sequence, nil
			}
		case runtime.SeqLinked:
			if l >= q.Last {
				return skip, 0, nil
			}
			if l == q.Prev {
				return publishAfter, raw.Sequence, nil
			}
		case runtime.SeqIncreasing:
			if l >= q.Last {
				return skip, 0, nil
			}
			return publishAfter, raw.Sequence, nil
		case runtime.SeqTime:
			if l > q.Last {
				return skip, 0, nil
			}
			return publishAfter, raw.Sequence, nil
		}
		if time.Since(start) >= b.o.gapWait {
			b.gapWaits.Add(1)
			b.o.onError(fmt.Errorf("natsbridge: %s: ids %d..%d are missing from the stream after %v; publishing after the gap", info.subject, l+1, q.First-1, b.o.gapWait))
			return publishAfter, raw.Sequence, nil
		}
		if !b.sleep(20 * time.Millisecond) {
			return retry, 0, b.ctx.Err()
		}
	}
}

// wrongLast reports whether err is JetStream's refusal of a publish whose
// expected last subject sequence did not match.
func wrongLast(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// sleep waits d unless the Bridge is closed first.
func (b *Bridge) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-b.ctx.Done():
		return false
	}
}

// Batches reports whether the Bridge publishes in fast batches: its
// JetStream stream allows them (AllowBatchPublish; a stream created before
// StreamConfig set it does not, until its configuration is updated) and
// WithoutBatches was not given.
func (b *Bridge) Batches() bool { return b.batching }

// Stats returns the Bridge's counters.
func (b *Bridge) Stats() BridgeStats {
	return BridgeStats{
		Published:   b.published.Load(),
		Duplicates:  b.duplicates.Load(),
		Retries:     b.retries.Load(),
		Unpublished: b.unpublished.Load(),
		Batched:     b.batched.Load(),
		Skipped:     b.skipped.Load(),
		GapWaits:    b.gapWaits.Load(),
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
	infos := b.infos
	b.infos = nil
	b.mu.Unlock()
	b.cancel()
	b.unsubscribe(subs)
	// End the open batches, waiting up to the ack wait in all for their
	// final acknowledgements; what they did not store is Unpublished.
	ctx, cancel := context.WithTimeout(context.Background(), b.o.ackWait)
	defer cancel()
	for _, info := range infos {
		info.mu.Lock()
		if info.idle != nil {
			info.idle.Stop()
		}
		b.endBatch(info, ctx.Done())
		info.mu.Unlock()
	}
	b.batches.close()
	return nil
}

func (b *Bridge) unsubscribe(subs []*runtime.Subscription) {
	for _, s := range subs {
		if s != nil {
			s.Unsubscribe(context.Background())
		}
	}
}
