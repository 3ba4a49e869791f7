package natsbridge

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/marketwire/marketwire/orderbook"
	"github.com/marketwire/marketwire/runtime"
)

// BookToken is the second token of the subjects of book snapshots (see
// BookSubject).
const BookToken = "book"

// BookLookback is how far before the stored time of the last book
// snapshot OpenBook starts reading the diff stream, so that the diff
// events it buffers reach back past the snapshot even when a bridge stored
// the diffs after it a little earlier than the snapshot (its book and its
// publishing subscription run apart). Without a stored snapshot it reads
// from this long before now.
const BookLookback = 10 * time.Second

// BookRefresh is how long a BookPublisher waits before it publishes an
// unchanged book's snapshot again: well inside StreamConfig's MaxAge, and
// longer than its duplicate window, so the new copy is stored.
const BookRefresh = time.Hour

// bookRefresh is BookRefresh, shortened by tests.
var bookRefresh = BookRefresh

// bookGetTimeout bounds one read of the last snapshot of a subject.
const bookGetTimeout = 5 * time.Second

// ErrNoSnapshot is the error (wrapped, reported as
// orderbook.EventSnapshotError) of a book opened with OpenBook while no
// snapshot of its symbol is stored yet: the book retries with a growing
// delay until a BookPublisher stores one.
var ErrNoSnapshot = errors.New("natsbridge: no book snapshot stored")

// BookSubject returns the subject of the book snapshots of a market's
// symbol: mw.book.<market>.<SYMBOL>, the market and the upper-cased symbol
// escaped with EscapeToken. It has four tokens, so it never is the subject
// of a wire stream (Subject has three), and StreamConfig's mw.> covers it.
func BookSubject(market, symbol string) string {
	return SubjectPrefix + "." + BookToken + "." + EscapeToken(market) + "." + EscapeToken(strings.ToUpper(symbol))
}

// AppendBookSnapshot appends the JSON form of a book snapshot of a market
// to dst, the payload a BookPublisher stores:
//
//	{"market":"spot","symbol":"BTCUSDT","lastUpdateId":160,"time":1700000000000,
//	 "bids":[["38080.48","0.120"],...],"asks":[["38080.49","1.000"],...]}
//
// Levels are best first, each price and quantity an exact decimal string;
// time is when the snapshot was taken, in Unix milliseconds (informative).
func AppendBookSnapshot(dst []byte, market string, s *orderbook.Snapshot, taken time.Time) []byte {
	dst = append(dst, `{"market":`...)
	dst = appendJSONString(dst, market)
	dst = append(dst, `,"symbol":`...)
	dst = appendJSONString(dst, s.Symbol)
	dst = append(dst, `,"lastUpdateId":`...)
	dst = strconv.AppendInt(dst, s.LastUpdateID, 10)
	dst = append(dst, `,"time":`...)
	dst = strconv.AppendInt(dst, taken.UnixMilli(), 10)
	dst = append(dst, `,"bids":`...)
	dst = appendLevels(dst, s.Bids)
	dst = append(dst, `,"asks":`...)
	dst = appendLevels(dst, s.Asks)
	return append(dst, '}')
}

func appendLevels(dst []byte, ls []orderbook.Level) []byte {
	dst = append(dst, '[')
	for i, l := range ls {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `["`...)
		dst = l.Price.Append(dst)
		dst = append(dst, `","`...)
		dst = l.Qty.Append(dst)
		dst = append(dst, `"]`...)
	}
	return append(dst, ']')
}

// appendJSONString appends s as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// bookMsg is the decoded form of AppendBookSnapshot's payload.
type bookMsg struct {
	Market       string      `json:"market"`
	Symbol       string      `json:"symbol"`
	LastUpdateID int64       `json:"lastUpdateId"`
	Bids         [][2]string `json:"bids"`
	Asks         [][2]string `json:"asks"`
}

// DecodeBookSnapshot decodes a payload of AppendBookSnapshot: its market
// and the snapshot, every price and quantity parsed exactly.
func DecodeBookSnapshot(data []byte) (market string, s *orderbook.Snapshot, err error) {
	var m bookMsg
	if err := json.Unmarshal(data, &m); err != nil {
		return "", nil, fmt.Errorf("natsbridge: book snapshot: %w", err)
	}
	if m.Market == "" || m.Symbol == "" || m.LastUpdateID <= 0 {
		return "", nil, errors.New("natsbridge: book snapshot: market, symbol or a positive lastUpdateId missing")
	}
	s = &orderbook.Snapshot{Symbol: m.Symbol, LastUpdateID: m.LastUpdateID}
	if s.Bids, err = parseLevels(m.Bids); err == nil {
		s.Asks, err = parseLevels(m.Asks)
	}
	if err != nil {
		return "", nil, fmt.Errorf("natsbridge: book snapshot of %s: %w", m.Symbol, err)
	}
	return m.Market, s, nil
}

func parseLevels(raw [][2]string) ([]orderbook.Level, error) {
	out := make([]orderbook.Level, len(raw))
	for i, r := range raw {
		p, err := orderbook.ParseFixed(r[0])
		if err != nil {
			return nil, fmt.Errorf("price %q: %w", r[0], err)
		}
		q, err := orderbook.ParseFixed(r[1])
		if err != nil {
			return nil, fmt.Errorf("quantity %q: %w", r[1], err)
		}
		out[i] = orderbook.Level{Price: p, Qty: q}
	}
	return out, nil
}

// BookPublisher publishes snapshots of local order books to the JetStream
// stream, so that OpenBook can keep the same books elsewhere without the
// exchange's REST snapshot. Every period (and on Publish) it takes each
// Synced book's whole snapshot (orderbook.Book.Top) and, when its update
// id changed since the last one it stored, publishes it on BookSubject
// (AppendBookSnapshot's JSON) with the Nats-Msg-Id <subject>:<lastUpdateId>:
// two publishers (on two bridges) that publish the same book at the same
// update id store it once, within the stream's duplicate window. A book
// that is not Synced is skipped. A failed publish is reported to OnError
// and counted; the next period publishes a newer snapshot. An unchanged
// book is published again once BookRefresh has passed since its last
// snapshot, so that a quiet symbol's snapshot does not age out of the
// stream before its diffs change it.
//
// Each snapshot is a message of the stream and is kept as long as the
// diffs (StreamConfig's MaxAge): at 1,000 levels a side a snapshot is
// about 50 kB, so choose the period by depth and symbols (a minute keeps a
// day of one deep book near 70 MB). It must fit the server's max_payload
// (1 MB by default).
type BookPublisher struct {
	js    jetstream.JetStream
	o     options
	every time.Duration

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex // guards books and closed
	books  []*pubBook
	closed bool

	round sync.Mutex // one publishing round at a time

	published, duplicates, failed, notSynced atomic.Uint64
}

// pubBook is a book a BookPublisher publishes, with its last stored id.
type pubBook struct {
	b       *orderbook.Book
	market  string
	subject string
	last    int64
	lastAt  time.Time // when last was stored
	snap    orderbook.Snapshot
	buf     []byte
}

// BookPublisherStats are a BookPublisher's counters.
type BookPublisherStats struct {
	Published  uint64 // snapshots stored
	Duplicates uint64 // snapshots the stream already had (another publisher's)
	Failed     uint64 // publishes that failed
	NotSynced  uint64 // books skipped because they were not Synced
}

// NewBookPublisher returns a BookPublisher that publishes its books every
// period through nc until Close. As NewBridge does it checks that the
// JetStream stream exists and creates it when it does not (WithStream,
// WithStreamConfig, WithoutCreate), and it fails when the stream's
// subjects do not cover the book subjects. WithAckWait bounds each publish;
// OnError receives each failure. ctx bounds this call.
func NewBookPublisher(ctx context.Context, nc *nats.Conn, every time.Duration, opts ...Option) (*BookPublisher, error) {
	if every <= 0 {
		return nil, fmt.Errorf("natsbridge: NewBookPublisher: period %v is not positive", every)
	}
	o, js, err := setup("NewBookPublisher", nc, opts)
	if err != nil {
		return nil, err
	}
	st, err := ensureStream(ctx, js, o)
	if err != nil {
		return nil, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("natsbridge: JetStream stream %q: %w", o.stream, err)
	}
	probe := BookSubject("m", "s")
	covered := false
	for _, f := range info.Config.Subjects {
		covered = covered || subjectMatches(f, probe)
	}
	if !covered {
		return nil, fmt.Errorf("natsbridge: JetStream stream %q (subjects %v) does not cover the book subjects %s.%s.>", o.stream, info.Config.Subjects, SubjectPrefix, BookToken)
	}
	p := &BookPublisher{js: js, o: o, every: every, done: make(chan struct{})}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	go p.loop()
	return p, nil
}

// subjectMatches reports whether the subject filter f (with * and >)
// matches the subject s.
func subjectMatches(f, s string) bool {
	ft, st := strings.Split(f, "."), strings.Split(s, ".")
	for i, t := range ft {
		if t == ">" {
			return len(st) > i
		}
		if i >= len(st) || (t != "*" && t != st[i]) {
			return false
		}
	}
	return len(ft) == len(st)
}

// Add makes the publisher publish books' snapshots, from the next period
// on. A book's market is its Spec's; the books stay the caller's (Close
// them after the publisher). A book added twice is an error.
func (p *BookPublisher) Add(books ...*orderbook.Book) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return runtime.ErrClosed
	}
	var add []*pubBook
	for _, b := range books {
		if b == nil || b.Spec() == nil || b.Spec().Market == nil {
			return errors.New("natsbridge: BookPublisher.Add: nil book")
		}
		for _, pb := range append(p.books, add...) {
			if pb.b == b {
				return fmt.Errorf("natsbridge: BookPublisher.Add: book %s added twice", b.Symbol())
			}
		}
		m := b.Spec().Market.Name
		add = append(add, &pubBook{b: b, market: m, subject: BookSubject(m, b.Symbol())})
	}
	p.books = append(p.books, add...)
	return nil
}

// loop publishes every period until Close.
func (p *BookPublisher) loop() {
	defer close(p.done)
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
			p.Publish(p.ctx)
		}
	}
}

// Publish publishes the snapshot of each Synced book whose update id
// changed since its last stored one, now, and returns the publish errors
// joined (each also went to OnError). Rounds do not overlap.
func (p *BookPublisher) Publish(ctx context.Context) error {
	p.round.Lock()
	defer p.round.Unlock()
	p.mu.Lock()
	books := p.books
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return runtime.ErrClosed
	}
	var errs []error
	for _, pb := range books {
		if ctx.Err() != nil {
			return errors.Join(append(errs, ctx.Err())...)
		}
		if err := pb.b.Top(0, &pb.snap); err != nil {
			p.notSynced.Add(1)
			continue
		}
		id := pb.snap.LastUpdateID
		now := time.Now()
		if id == pb.last && now.Sub(pb.lastAt) < bookRefresh {
			continue
		}
		pb.buf = AppendBookSnapshot(pb.buf[:0], pb.market, &pb.snap, now)
		msg := &nats.Msg{Subject: pb.subject, Data: pb.buf, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, pb.subject+":"+strconv.FormatInt(id, 10))
		actx, cancel := context.WithTimeout(ctx, p.o.ackWait)
		ack, err := p.js.PublishMsg(actx, msg)
		cancel()
		if err != nil {
			p.failed.Add(1)
			err = fmt.Errorf("natsbridge: publish book snapshot %s at %d: %w", pb.subject, id, err)
			p.o.onError(err)
			errs = append(errs, err)
			continue
		}
		if ack.Duplicate {
			p.duplicates.Add(1)
		} else {
			p.published.Add(1)
		}
		pb.last, pb.lastAt = id, now
	}
	return errors.Join(errs...)
}

// Stats returns the publisher's counters.
func (p *BookPublisher) Stats() BookPublisherStats {
	return BookPublisherStats{Published: p.published.Load(), Duplicates: p.duplicates.Load(), Failed: p.failed.Load(), NotSynced: p.notSynced.Load()}
}

// Close stops publishing and returns once the publisher's goroutine has
// ended. The books stay open. Idempotent.
func (p *BookPublisher) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	<-p.done
	return nil
}

// OpenBook keeps symbol's local order book from the cluster: its snapshots
// are the last one a BookPublisher stored on BookSubject (read with
// GetLastMsgForSubject at each sync), its diff events the diff stream's
// JetStream history and then live ones, read through src; the exchange's
// REST host is never asked. The diff stream is read from BookLookback
// before the stored time of the last snapshot (or before now, when none is
// stored yet), so that the buffered events reach back past the snapshot
// and the orderbook algorithm applies unchanged (see
// orderbook.WithSnapshotSource): stale events are dropped, the first event
// must reach the snapshot, a snapshot older than the buffered events (after
// a gap, say) is read again, with a growing delay (orderbook.WithRetry),
// until a newer one is stored. While no snapshot is stored each attempt is
// an orderbook.EventSnapshotError wrapping ErrNoSnapshot.
//
// spec must be of src's market and symbol valid for it. opts are the
// book's options (not WithFetcher, WithREST or WithEnvironment); WithLimit
// keeps only the best levels of each snapshot. The book's subscription is
// one of src's: closing src ends it, and Close on the book unsubscribes it.
func OpenBook(ctx context.Context, src *Source, spec *orderbook.Spec, symbol string, opts ...orderbook.Option) (*orderbook.Book, error) {
	if src == nil {
		return nil, fmt.Errorf("natsbridge: OpenBook %s: nil Source", symbol)
	}
	if spec == nil || spec.Market == nil || spec.DiffStream == nil {
		return nil, fmt.Errorf("natsbridge: OpenBook %s: nil or incomplete Spec (use a generated market's OrderBook)", symbol)
	}
	if spec.Market.Name != src.market {
		return nil, fmt.Errorf("natsbridge: OpenBook %s: the Spec is of market %q, the Source of market %q", symbol, spec.Market.Name, src.market)
	}
	if _, err := spec.DiffStream(symbol); err != nil {
		return nil, fmt.Errorf("natsbridge: OpenBook: %w", err)
	}
	st, err := src.js.Stream(ctx, src.o.stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("natsbridge: OpenBook %s: JetStream stream %q does not exist (a Bridge creates it): %w", symbol, src.o.stream, err)
	}
	if err != nil {
		return nil, fmt.Errorf("natsbridge: OpenBook %s: JetStream stream %q: %w", symbol, src.o.stream, err)
	}
	subject := BookSubject(spec.Market.Name, symbol)
	from := time.Now()
	raw, err := lastMsg(ctx, st, subject)
	switch {
	case err == nil:
		from = raw.Time
	case !errors.Is(err, ErrNoSnapshot):
		return nil, fmt.Errorf("natsbridge: OpenBook %s: %w", symbol, err)
	}
	fetch := func(ctx context.Context, sym string, limit int) (*orderbook.Snapshot, error) {
		raw, err := lastMsg(ctx, st, subject)
		if err != nil {
			return nil, err
		}
		market, s, err := DecodeBookSnapshot(raw.Data)
		if err != nil {
			return nil, fmt.Errorf("%s (stream sequence %d): %w", subject, raw.Sequence, err)
		}
		if market != spec.Market.Name || !strings.EqualFold(s.Symbol, sym) {
			return nil, fmt.Errorf("natsbridge: %s holds a snapshot of %s %s (stream sequence %d)", subject, market, s.Symbol, raw.Sequence)
		}
		if limit > 0 {
			s.Bids, s.Asks = s.Bids[:min(limit, len(s.Bids))], s.Asks[:min(limit, len(s.Asks))]
		}
		return s, nil
	}
	at := &startSource{src: src, from: start{deliver: jetstream.DeliverByStartTimePolicy, t: from.Add(-BookLookback)}}
	all := append([]orderbook.Option{orderbook.WithSnapshotSource(fetch)}, opts...)
	return orderbook.Open(ctx, at, spec, symbol, all...)
}

// lastMsg reads the last message stored on subject; ErrNoSnapshot (wrapped)
// when there is none.
func lastMsg(ctx context.Context, st jetstream.Stream, subject string) (*jetstream.RawStreamMsg, error) {
	ctx, cancel := context.WithTimeout(ctx, bookGetTimeout)
	defer cancel()
	raw, err := st.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("%w on %s yet", ErrNoSnapshot, subject)
	}
	if err != nil {
		return nil, fmt.Errorf("natsbridge: read the last snapshot on %s: %w", subject, err)
	}
	return raw, nil
}

// startSource is a Source whose subscriptions start at from rather than
// where the Source's options say.
type startSource struct {
	src  *Source
	from start
}

func (s *startSource) Subscribe(ctx context.Context, st runtime.Stream, handle func(any), opts ...runtime.SubscribeOption) (*runtime.Subscription, error) {
	return s.src.subscribeFrom(ctx, st, handle, s.from, opts...)
}

func (s *startSource) SubscribeAll(ctx context.Context, streams []runtime.Stream, handle func(any), opts ...runtime.SubscribeOption) ([]*runtime.Subscription, error) {
	subs := make([]*runtime.Subscription, len(streams))
	var errs []error
	for i, st := range streams {
		sub, err := s.Subscribe(ctx, st, handle, opts...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		subs[i] = sub
	}
	return subs, errors.Join(errs...)
}

func (s *startSource) Market() *runtime.Market { return s.src.Market() }
