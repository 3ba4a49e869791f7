package natsbridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/runtime"
)

// Source is a runtime.Source of one market's streams read back from a
// JetStream stream that bridges publish to: the generated Subscribe
// helpers work on it as on a *runtime.Conn. Each subscription reads its
// stream's subject through its own ordered consumer, so its events arrive
// once each and in the order stored; a consumer lost with its server is
// recreated from the message after the last one delivered (by nats.go, and
// by the Source when one has delivered nothing for 3 heartbeats while the
// subject has later messages stored: reported as runtime.EventError).
// Events are delivered through a runtime.Feed: the same queues and
// overflow policies as on a Conn, a payload that does not decode reported
// as runtime.EventError (never dropped silently), gaps in the stream's
// sequence key as runtime.EventGap. Where each stream starts is an Option:
// StartNew (the default), StartAll, StartAt or StartSequence.
type Source struct {
	js     jetstream.JetStream
	feed   *runtime.Feed
	market string
	o      options

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // the goroutines that stop consumers
}

var _ runtime.Source = (*Source)(nil)

// NewSource returns a Source of market m's streams read through nc. It
// does not check the JetStream stream: Subscribe does, and fails with a
// clear error when it does not exist.
func NewSource(nc *nats.Conn, m *runtime.Market, opts ...Option) (*Source, error) {
	o, js, err := setup("NewSource", nc, opts)
	if err != nil {
		return nil, err
	}
	feed, err := runtime.NewFeed(m, o.feedOpts...)
	if err != nil {
		return nil, err
	}
	return &Source{js: js, feed: feed, market: m.Name, o: o}, nil
}

// Subscribe reads stream st from its subject and calls handle with each
// decoded event, in order, on the subscription's own goroutine (see
// runtime.Conn.Subscribe for the options). It returns once the consumer is
// created, so Ready returns at once. Every error is a
// *runtime.SubscribeError naming the stream.
func (s *Source) Subscribe(ctx context.Context, st runtime.Stream, handle func(any), opts ...runtime.SubscribeOption) (*runtime.Subscription, error) {
	return s.subscribeFrom(ctx, st, handle, s.start(), opts...)
}

// start is where a consumer starts reading its subject.
type start struct {
	deliver jetstream.DeliverPolicy
	seq     uint64
	t       time.Time
}

// start returns the Source's own start (its Start options).
func (s *Source) start() start {
	return start{deliver: s.o.deliver, seq: s.o.startSeq, t: s.o.startTime}
}

// subscribeFrom is Subscribe with the consumer starting at from.
func (s *Source) subscribeFrom(ctx context.Context, st runtime.Stream, handle func(any), from start, opts ...runtime.SubscribeOption) (*runtime.Subscription, error) {
	sub, err := s.feed.Subscribe(st, handle, opts...)
	if err != nil {
		return nil, err
	}
	if err := s.consume(ctx, sub, st.Name, from); err != nil {
		s.feed.Confirm(sub, err)
		return nil, &runtime.SubscribeError{Stream: st.Name, Err: err}
	}
	s.feed.Confirm(sub, nil)
	return sub, nil
}

// consume starts the ordered consumer that feeds sub, and a goroutine that
// watches it and stops it once sub has ended.
func (s *Source) consume(ctx context.Context, sub *runtime.Subscription, name string, from start) error {
	r := &reader{s: s, sub: sub, name: name, subject: Subject(s.market, name)}
	cc, err := r.open(ctx, from)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cc.Stop()
		<-cc.Closed()
		return runtime.ErrClosed
	}
	s.wg.Add(1)
	s.mu.Unlock()
	r.cc = cc
	if readerStarted != nil {
		readerStarted(r)
	}
	go r.watch()
	return nil
}

// readerStarted, when set (by tests), is called with each reader started.
var readerStarted func(*reader)

// reader is the consumer side of one subscription of a Source.
type reader struct {
	s       *Source
	sub     *runtime.Subscription
	name    string
	subject string

	mu   sync.Mutex // held while delivering, so that a replaced consumer's late messages cannot interleave
	last uint64     // stream sequence of the last message delivered
	n    uint64     // messages delivered
	cc   jetstream.ConsumeContext
}

// open starts an ordered consumer of the subscription's subject at from.
func (r *reader) open(ctx context.Context, from start) (jetstream.ConsumeContext, error) {
	s := r.s
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{r.subject},
		DeliverPolicy:  from.deliver,
		OptStartSeq:    from.seq,
	}
	if from.deliver == jetstream.DeliverByStartTimePolicy {
		t := from.t
		cfg.OptStartTime = &t
	}
	cons, err := s.js.OrderedConsumer(ctx, s.o.stream, cfg)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("natsbridge: JetStream stream %q does not exist (a Bridge creates it): %w", s.o.stream, err)
	}
	if err != nil {
		return nil, fmt.Errorf("natsbridge: consumer of stream %q: %w", s.o.stream, err)
	}
	cc, err := cons.Consume(r.deliver,
		jetstream.PullExpiry(4*s.o.heartbeat),
		jetstream.PullHeartbeat(s.o.heartbeat),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			s.feed.Emit(runtime.Event{Kind: runtime.EventError, Stream: r.name, Err: fmt.Errorf("natsbridge: consumer: %w", err)})
		}))
	if err != nil {
		return nil, fmt.Errorf("natsbridge: consume %s: %w", r.name, err)
	}
	return cc, nil
}

// deliver hands one message to the subscription, unless an earlier
// consumer of the subscription delivered it already.
func (r *reader) deliver(m jetstream.Msg) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if md, err := m.Metadata(); err == nil {
		if md.Sequence.Stream <= r.last {
			return
		}
		r.last = md.Sequence.Stream
	}
	r.n++
	r.s.feed.Deliver(r.sub, m.Data())
}

// watch stops the consumer once the subscription has ended. Meanwhile it
// replaces a consumer that has delivered nothing for stallBeats heartbeats
// although the stream holds later messages of the subject: nats.go
// recreates a consumer lost with its server by itself, but a recreation
// attempt made while the cluster elects its leaders can wait 10 s for an
// answer. A quiet subject is checked less and less often.
func (r *reader) watch() {
	s := r.s
	defer s.wg.Done()
	t := time.NewTicker(s.o.heartbeat)
	defer t.Stop()
	var seen uint64
	idle, wait := 0, stallBeats
	for {
		select {
		case <-r.sub.Done():
			r.mu.Lock()
			cc := r.cc
			r.mu.Unlock()
			cc.Stop()
			<-cc.Closed()
			return
		case <-t.C:
		}
		r.mu.Lock()
		n, last := r.n, r.last
		r.mu.Unlock()
		if n != seen {
			seen, idle, wait = n, 0, stallBeats
			continue
		}
		if idle++; idle < wait || last == 0 {
			continue // (before a first message, where it would restart is unknown)
		}
		idle = 0
		if !r.behind(last) {
			wait = min(2*wait, maxQuietBeats) // a quiet subject
			continue
		}
		from := start{deliver: jetstream.DeliverByStartSequencePolicy, seq: last + 1}
		ctx, cancel := context.WithTimeout(context.Background(), 2*s.o.heartbeat)
		cc, err := r.open(ctx, from)
		cancel()
		if err != nil {
			continue // try again at the next check
		}
		s.feed.Emit(runtime.Event{Kind: runtime.EventError, Stream: r.name, Err: fmt.Errorf("natsbridge: consumer of %s delivered nothing for %d heartbeats while the stream holds later messages: replaced, from stream sequence %d", r.subject, stallBeats, last+1)})
		r.mu.Lock()
		old := r.cc
		r.cc = cc
		r.mu.Unlock()
		s.wg.Add(1)
		go func() { // its recreation attempt may take 10 s to give up
			defer s.wg.Done()
			old.Stop()
			<-old.Closed()
		}()
	}
}

// behind reports whether the stream holds a message of the subject after
// stream sequence last.
func (r *reader) behind(last uint64) bool {
	s := r.s
	ctx, cancel := context.WithTimeout(context.Background(), s.o.heartbeat)
	defer cancel()
	st, err := s.js.Stream(ctx, s.o.stream)
	if err != nil {
		return false
	}
	m, err := st.GetLastMsgForSubject(ctx, r.subject)
	return err == nil && m.Sequence > last
}

// How many heartbeats without a message a Source's consumer may go before
// the stream is asked whether it is stalled, and at most while the subject
// stays quiet.
const (
	stallBeats    = 3
	maxQuietBeats = 60
)

// SubscribeAll subscribes to every stream of streams, as Subscribe does.
// Every stream is checked before any is subscribed. The subscriptions are
// returned in the order of streams; the error joins one
// *runtime.SubscribeError per stream that failed, whose subscription is
// nil.
func (s *Source) SubscribeAll(ctx context.Context, streams []runtime.Stream, handle func(any), opts ...runtime.SubscribeOption) ([]*runtime.Subscription, error) {
	for _, st := range streams {
		if st.Name == "" || st.Decode == nil {
			return nil, &runtime.SubscribeError{Stream: st.Name, Err: errors.New("the stream has no name or no decoder")}
		}
	}
	subs := make([]*runtime.Subscription, len(streams))
	var errs []error
	for i, st := range streams {
		sub, err := s.Subscribe(ctx, st, handle, opts...)
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		subs[i] = sub
	}
	return subs, errors.Join(errs...)
}

// SubscribeSubject subscribes to the stream a subject names (see
// Subject), for programs that take subjects rather than typed parameters;
// handle gets the generated payload types. A subject of another market, or
// one that names no stream of the schema, is an error.
func (s *Source) SubscribeSubject(ctx context.Context, subject string, handle func(any), opts ...runtime.SubscribeOption) (*runtime.Subscription, error) {
	market, st, err := StreamOf(subject)
	if err != nil {
		return nil, err
	}
	if market != s.market {
		return nil, fmt.Errorf("natsbridge: subject %q is of market %s, not %s", subject, market, s.market)
	}
	return s.Subscribe(ctx, st, handle, opts...)
}

// StreamOf returns the market and the runtime.Stream of the wire stream
// that subject names, from the generated registry; it fails when the
// subject is not one Subject builds, or names no market or stream of the
// schema.
func StreamOf(subject string) (market string, st runtime.Stream, err error) {
	market, name, err := ParseSubject(subject)
	if err != nil {
		return "", st, err
	}
	m, ok := markets.All[market]
	if !ok {
		return "", st, fmt.Errorf("natsbridge: subject %q: no market %q in the schema", subject, market)
	}
	p, err := m.ParseStream(name)
	if err == nil {
		err = p.Validate()
	}
	if err != nil {
		return "", st, fmt.Errorf("natsbridge: subject %q: %w", subject, err)
	}
	sp, ok := p.(interface{ Stream() runtime.Stream })
	if !ok {
		return "", st, fmt.Errorf("natsbridge: subject %q: stream %q has no runtime form", subject, name)
	}
	return market, sp.Stream(), nil
}

// Market returns the market whose streams the Source reads (nil for a nil
// Source).
func (s *Source) Market() *runtime.Market {
	if s == nil {
		return nil
	}
	return s.feed.Market()
}

// Stats returns the counters of the Source's deliveries (see
// runtime.Feed.Stats): payloads received, rejected by their decoder, gaps.
func (s *Source) Stats() runtime.Stats { return s.feed.Stats() }

// Close ends every subscription as runtime.Conn.Close does, stops their
// consumers and returns when none of its goroutines runs. The NATS
// connection stays open. Idempotent.
func (s *Source) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	err := s.feed.Close()
	s.wg.Wait()
	return err
}
