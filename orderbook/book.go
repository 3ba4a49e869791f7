package orderbook

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/wire"
)

// Side is a side of the book.
type Side uint8

// The sides.
const (
	Bid Side = iota + 1
	Ask
)

// String returns "bid" or "ask".
func (s Side) String() string {
	if s == Bid {
		return "bid"
	}
	return "ask"
}

// Level is one price level.
type Level struct {
	Price, Qty Fixed
}

// Change is one level an update changed; a zero Qty removed it.
type Change struct {
	Side Side
	Level
}

// Update is one diff event applied to a Synced book, for OnUpdate.
type Update struct {
	Symbol          string
	FirstID, LastID int64
	Changes         []Change
}

// Snapshot is a consistent copy of a book's top levels.
type Snapshot struct {
	Symbol       string
	LastUpdateID int64
	Bids, Asks   []Level // best first
}

// Stats are counters of a Book since Open.
type Stats struct {
	Applied   uint64 // diff events applied to a Synced book
	Syncs     uint64 // times the book became Synced
	Resyncs   uint64 // resynchronisations started
	Gaps      uint64 // gaps seen in the diff stream
	Crossed   uint64 // updates that crossed the book
	Stale     uint64 // snapshots older than the buffered events
	Snapshots uint64 // snapshots fetched
	Errors    uint64 // snapshot errors (network, rate limits, bad replies)
	Ignored   uint64 // events already in the book (duplicates, stale after a snapshot)
	Backwards uint64 // snapshot-stream messages older than the book (OpenSnapshot), rejected
}

// change is a parsed level of a diff event or a snapshot.
type change struct {
	p, q   int64 // price and quantity
	ps, qs int8  // their scales
	bid    bool
}

func newChange(bid bool, price, qty wire.Decimal) (change, error) {
	p, err := ParseFixed(price.String())
	if err != nil {
		return change{}, fmt.Errorf("price %q: %w", price.String(), err)
	}
	q, err := ParseFixed(qty.String())
	if err != nil {
		return change{}, fmt.Errorf("quantity %q: %w", qty.String(), err)
	}
	if p.Int <= 0 || q.Int < 0 {
		return change{}, fmt.Errorf("level [%s, %s]: price must be positive and quantity not negative", price, qty)
	}
	return change{p: p.Int, q: q.Int, ps: p.Scale, qs: q.Scale, bid: bid}, nil
}

// diff is a parsed diff event.
type diff struct {
	first, last, prev int64
	ch                []change
}

// Book is the local order book of one symbol, kept in sync from a REST
// snapshot and the market's diff stream (see the package doc). Its reads
// are safe for concurrent use and answer only while it is Synced.
type Book struct {
	spec   *Spec
	symbol string
	o      options
	f      *Fetcher
	shared bool // f is a shared Fetcher: release it on Close
	limit  int
	stream runtime.Stream
	sub    *runtime.Subscription
	snap   *SnapshotSpec // the snapshot stream of an OpenSnapshot book; nil for Open

	// work serialises what changes the book (a diff event, a snapshot)
	// together with the callbacks it causes, so they run in order.
	work       sync.Mutex
	buf        []diff // events waiting for a snapshot, chained
	pending    bool   // a snapshot is installed, waiting for its first event
	snapID     int64  // its update id
	verify     bool   // Synced until Suspect: the next event must chain
	lastSynced int64  // the book's update id when it stopped being Synced
	syncedAt   time.Time
	streak     int // resyncs that followed a short Synced period
	scratch    diff
	reading    *diff                                   // the event read fills
	readErr    error                                   // its first bad level
	visit      func(bid bool, price, qty wire.Decimal) // visitLevel, bound once
	set        func(bid bool, price, qty wire.Decimal) // setLive, bound once
	liveUpd    *Update                                 // the Update live fills
	upd        Update
	notes      []Event
	seen       bool // a snapshot stream's message was installed: last is its id

	// mu guards what readers see.
	mu     sync.RWMutex
	state  State
	bids   side
	asks   side
	ps, qs int8 // price and quantity scales of the levels
	last   int64

	wantSnap chan struct{}
	gotDiff  chan struct{}
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{}
	closing  sync.Once

	stats struct {
		applied, syncs, resyncs, gaps, crossed, stale, snapshots, errors, ignored, backwards atomic.Uint64
	}
}

// Open subscribes to the diff stream of symbol on c and keeps the symbol's
// book in sync until Close. It returns once the stream is subscribed; the
// book is Syncing until its snapshot and first event agree (see State and
// OnEvent). spec is a generated market's OrderBook, of the market c
// delivers. c is a *runtime.Conn or any other runtime.Source (such as a
// natsbridge.Source); many books may share one. The snapshot comes from
// the market's REST host unless WithSnapshotSource gives another source;
// the algorithm is the same (see the package doc). Only a Conn's socket
// losses can be observed (Group); a book on another Source relies on the
// diff stream's own ids to see what it missed.
func Open(ctx context.Context, c runtime.Source, spec *Spec, symbol string, opts ...Option) (*Book, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	if err := checkSource(c, spec, "Open", symbol); err != nil {
		return nil, err
	}
	o := options{buffer: DefaultBuffer, firstWait: DefaultFirstWait, retryMin: DefaultRetryMin, retryMax: DefaultRetryMax}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	st, err := spec.DiffStream(symbol)
	if err != nil {
		return nil, err
	}
	if o.snapSrc != nil {
		if o.fetcher != nil || o.rest != "" || o.env != "" {
			return nil, errors.New("orderbook: Open: WithSnapshotSource excludes WithFetcher, WithREST and WithEnvironment")
		}
		return open(ctx, c, spec, symbol, o, st, nil, o.limit)
	}
	limit := o.limit
	if limit == 0 {
		limit = spec.Limits.Fit(1000)
	}
	if !spec.Limits.Valid(limit) {
		return nil, fmt.Errorf("orderbook: limit %d is not accepted by %s (values %v, up to %d)", limit, spec.Path, spec.Limits.Values, spec.Limits.Max)
	}
	f := o.fetcher
	if f != nil && spec.Limits.Weight(limit) > f.budget {
		return nil, fmt.Errorf("orderbook: a snapshot of limit %d weighs %d, more than the Fetcher's budget of %d", limit, spec.Limits.Weight(limit), f.budget)
	}
	if f == nil {
		base := o.rest
		if base == "" && o.env != "" {
			for _, e := range spec.REST {
				if e.Name == o.env {
					base = e.URL
				}
			}
			if base == "" {
				return nil, fmt.Errorf("orderbook: market %q has no REST host %q", spec.Market.Name, o.env)
			}
		}
		if base == "" {
			base = spec.REST[0].URL
		}
		if f, err = sharedFetcher(spec, base); err != nil {
			return nil, err
		}
	}
	return open(ctx, c, spec, symbol, o, st, f, limit)
}

// checkSource reports a Source that is nil or not of spec's market.
func checkSource(c runtime.Source, spec *Spec, fn, symbol string) error {
	var m *runtime.Market
	if c != nil {
		m = c.Market()
	}
	if m == nil {
		return fmt.Errorf("orderbook: %s %s: nil Source", fn, symbol)
	}
	if m.Name != spec.Market.Name {
		return fmt.Errorf("orderbook: %s %s: the Source is of market %q, the Spec of market %q", fn, symbol, m.Name, spec.Market.Name)
	}
	return nil
}

// open starts a book whose snapshots come from f (a shared Fetcher when
// o.fetcher is nil) or, when f is nil, from o.snapSrc.
func open(ctx context.Context, c runtime.Source, spec *Spec, symbol string, o options, st runtime.Stream, f *Fetcher, limit int) (*Book, error) {
	b := newBook(spec, symbol, o, st)
	b.f, b.shared, b.limit = f, f != nil && o.fetcher == nil, limit
	go b.syncLoop()
	b.wantSnap <- struct{}{}
	sub, err := subscribeReady(ctx, c, st, b.handle, o.sub)
	if err != nil {
		b.cancel()
		<-b.done
		if b.shared {
			f.release()
		}
		return nil, err
	}
	b.sub = sub
	return b, nil
}

// subscribeReady subscribes st on c and waits for the confirmation:
// Subscribe returns once the request is queued, and a refused stream would
// leave the book Syncing for ever.
func subscribeReady(ctx context.Context, c runtime.Source, st runtime.Stream, handle func(any), opts []runtime.SubscribeOption) (*runtime.Subscription, error) {
	sub, err := c.Subscribe(ctx, st, handle, opts...)
	if err != nil {
		return nil, err
	}
	if err := sub.Ready(ctx); err != nil {
		_ = sub.Unsubscribe(context.Background())
		return nil, err
	}
	return sub, nil
}

// Spec returns the Spec the book was opened with.
func (b *Book) Spec() *Spec { return b.spec }

// newBook returns a Syncing book that has no goroutine yet.
func newBook(spec *Spec, symbol string, o options, st runtime.Stream) *Book {
	b := &Book{
		spec: spec, symbol: symbol, o: o, stream: st,
		state: Syncing, wantSnap: make(chan struct{}, 1), gotDiff: make(chan struct{}, 1), done: make(chan struct{}),
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.upd.Symbol = symbol
	b.visit, b.set = b.visitLevel, b.setLive
	return b
}

// Symbol returns the book's symbol.
func (b *Book) Symbol() string { return b.symbol }

// State returns the book's state.
func (b *Book) State() State {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.state
}

// Stats returns the book's counters.
func (b *Book) Stats() Stats {
	s := &b.stats
	return Stats{Applied: s.applied.Load(), Syncs: s.syncs.Load(), Resyncs: s.resyncs.Load(), Gaps: s.gaps.Load(),
		Crossed: s.crossed.Load(), Stale: s.stale.Load(), Snapshots: s.snapshots.Load(), Errors: s.errors.Load(), Ignored: s.ignored.Load(), Backwards: s.backwards.Load()}
}

// Close unsubscribes the diff stream and stops the book; reads then fail
// with ErrNotSynced. It waits for the book's goroutines and is idempotent.
// It must not be called from OnUpdate or OnEvent.
func (b *Book) Close() error {
	var err error
	b.closing.Do(func() {
		b.work.Lock()
		b.mu.Lock()
		b.state = Closed
		b.mu.Unlock()
		b.work.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = b.sub.Unsubscribe(ctx)
		if errors.Is(err, runtime.ErrClosed) {
			err = nil // the Conn was closed first: nothing to unsubscribe
		}
		b.cancel()
		<-b.done
		if b.shared {
			b.f.release()
		}
	})
	return err
}

// Resync makes a Synced book synchronise again from a new snapshot.
func (b *Book) Resync() {
	b.work.Lock()
	defer b.work.Unlock()
	if b.state == Synced {
		b.resync(ErrResync)
	}
	b.flush()
}

// Suspect marks a Synced book as unverified, for example while its socket
// reconnects (Group does this on runtime.EventDisconnected): reads fail
// until the next diff event, which must follow the book's update id
// exactly (the book is then Synced again without a snapshot) or starts a
// resync.
func (b *Book) Suspect() {
	b.work.Lock()
	defer b.work.Unlock()
	if b.state == Synced {
		b.setState(Resyncing)
		b.verify = true
		b.lastSynced = b.last
	}
}

// handle is the diff stream's handler.
func (b *Book) handle(v any) {
	b.work.Lock()
	defer b.work.Unlock()
	if b.state == Synced && !b.verify && b.live(v) {
		b.flush()
		return
	}
	d := &b.scratch
	if err := b.read(v, d); err != nil {
		if b.state != Closed {
			b.buf = b.buf[:0]
			b.pending = false
			b.resync(fmt.Errorf("%w: %v", ErrBadEvent, err))
		}
	} else {
		b.onDiff(d)
	}
	b.flush()
}

// live applies an event that follows a Synced book straight from its
// decoded levels, parsing each under the write lock: the common case,
// without the copy onDiff works on. It returns false, having changed
// nothing, for any other event (not a diff, a duplicate, a gap), which
// then takes the general path.
func (b *Book) live(v any) bool {
	if !b.spec.Changes(v, nil) {
		return false
	}
	q := b.stream.Seq(v)
	d := diff{first: q.First, last: q.Last, prev: q.Prev}
	if d.last <= b.last || d.last < d.first || !b.follows(&d, b.last) {
		return false
	}
	var upd *Update
	if b.o.onUpdate != nil {
		upd = &b.upd
		upd.FirstID, upd.LastID, upd.Changes = d.first, d.last, upd.Changes[:0]
	}
	b.mu.Lock()
	b.liveUpd, b.readErr = upd, nil
	b.spec.Changes(v, b.set)
	b.liveUpd = nil
	b.finish(&d, upd, b.readErr, false)
	return true
}

// setLive is the visitor of live: it parses and sets one level. Called
// with b.mu held.
func (b *Book) setLive(bid bool, price, qty wire.Decimal) {
	if b.readErr != nil {
		return
	}
	// The common case inline: both values parse at or under the book's
	// scales and the level needs no Update; anything else goes through
	// newChange and setLevel.
	p, err1 := ParseFixed(price.String())
	q, err2 := ParseFixed(qty.String())
	if err1 == nil && err2 == nil && p.Int > 0 && q.Int >= 0 && p.Scale <= b.ps && q.Scale <= b.qs && b.liveUpd == nil {
		pk, ok1 := p.at(b.ps)
		qk, ok2 := q.at(b.qs)
		if ok1 && ok2 {
			if bid {
				b.bids.set(pk, qk)
			} else {
				b.asks.set(-pk, qk)
			}
			return
		}
	}
	c, err := newChange(bid, price, qty)
	if err == nil {
		err = b.setLevel(c, b.liveUpd)
	}
	if err != nil {
		b.readErr = err
	}
}

// read parses a decoded diff event into d, reusing its slice.
func (b *Book) read(v any, d *diff) error {
	d.ch = d.ch[:0]
	b.reading, b.readErr = d, nil
	ok := b.spec.Changes(v, b.visit)
	b.reading = nil
	if !ok {
		return errNotDiff // before Seq, which expects the stream's type
	}
	q := b.stream.Seq(v)
	d.first, d.last, d.prev = q.First, q.Last, q.Prev
	switch {
	case b.readErr != nil:
		return b.readErr
	case d.last < d.first:
		return fmt.Errorf("update ids %d..%d run backwards", d.first, d.last)
	}
	return nil
}

// visitLevel is the visitor of read: it appends a level to b.reading.
func (b *Book) visitLevel(bid bool, price, qty wire.Decimal) {
	if b.readErr != nil {
		return
	}
	c, err := newChange(bid, price, qty)
	if err != nil {
		b.readErr = err
		return
	}
	b.reading.ch = append(b.reading.ch, c)
}

// stale reports whether d is already contained in a book at update id id:
// for FirstNext, u <= id; for FirstCovering, u < id (the event ending at
// id is applied again after a snapshot).
func (b *Book) stale(d *diff, id int64) bool {
	if b.spec.First == FirstCovering {
		return d.last < id
	}
	return d.last <= id
}

// reaches reports whether d, not stale, can be the first event after a
// snapshot at id: U <= id+1 for FirstNext, U <= id for FirstCovering.
func (b *Book) reaches(d *diff, id int64) bool {
	if b.spec.First == FirstCovering {
		return d.first <= id
	}
	return d.first <= id+1
}

// follows reports whether d comes right after an event ending at last,
// with nothing missing: pu == last for linked streams; U <= last+1 < ...
// for consecutive ones (an overlap is fine: quantities are absolute).
func (b *Book) follows(d *diff, last int64) bool {
	if b.spec.First == FirstCovering {
		return d.prev == last
	}
	return d.first <= last+1 && d.last > last
}

// gap notes the updates missing between last and d.
func (b *Book) gap(d *diff, last int64) {
	b.stats.gaps.Add(1)
	to := d.first - 1
	if b.spec.First == FirstCovering {
		to = d.prev
	}
	b.note(Event{Kind: EventGap, From: last + 1, To: to, LastUpdateID: last})
}

// onDiff handles one diff event.
func (b *Book) onDiff(d *diff) {
	switch {
	case b.state == Closed:
	case b.state == Synced || b.verify:
		if d.last <= b.last {
			b.stats.ignored.Add(1) // a duplicate
			return
		}
		if !b.follows(d, b.last) {
			b.gap(d, b.last)
			b.resync(ErrGap)
			b.keep(d)
			return
		}
		wasVerify := b.verify
		if !b.apply(d, false) {
			return
		}
		if wasVerify {
			b.verify = false
			b.synced(0, 0)
		}
	case b.pending:
		if b.stale(d, b.snapID) {
			b.stats.ignored.Add(1)
			return
		}
		if !b.reaches(d, b.snapID) {
			b.staleSnapshot()
			b.keep(d)
			return
		}
		b.pending = false
		if b.apply(d, true) {
			b.synced(b.lastSynced+1, b.snapID)
		}
	default:
		b.keep(d)
	}
}

// keep buffers a copy of d while the book waits for a snapshot. Events
// must chain; after a gap only the events after it are of use.
func (b *Book) keep(d *diff) {
	if n := len(b.buf); n > 0 {
		if d.last <= b.buf[n-1].last {
			return // a duplicate
		}
		if !b.follows(d, b.buf[n-1].last) {
			b.gap(d, b.buf[n-1].last)
			b.buf = b.buf[:0]
		}
	}
	if len(b.buf) >= b.o.buffer {
		b.note(Event{Kind: EventResync, Err: ErrOverflow})
		b.buf = b.buf[:0]
	}
	b.buf = append(b.buf, diff{first: d.first, last: d.last, prev: d.prev, ch: append([]change(nil), d.ch...)})
	select {
	case b.gotDiff <- struct{}{}:
	default:
	}
}

// resync makes the book unusable and asks for a snapshot.
func (b *Book) resync(why error) {
	if b.state == Synced || b.verify {
		b.lastSynced = b.last
		if time.Since(b.syncedAt) < stableAfter {
			b.streak++
		} else {
			b.streak = 0
		}
	}
	b.verify, b.pending = false, false
	b.setState(Resyncing)
	b.stats.resyncs.Add(1)
	b.note(Event{Kind: EventResync, Err: why, LastUpdateID: b.lastSynced})
	b.want()
}

func (b *Book) want() {
	select {
	case b.wantSnap <- struct{}{}:
	default:
	}
}

func (b *Book) staleSnapshot() {
	b.pending = false
	b.stats.stale.Add(1)
	b.note(Event{Kind: EventStaleSnapshot, LastUpdateID: b.snapID})
	b.want()
}

func (b *Book) synced(from, to int64) {
	b.setState(Synced)
	b.syncedAt = time.Now()
	b.stats.syncs.Add(1)
	if b.lastSynced == 0 {
		from, to = 0, 0
	}
	b.note(Event{Kind: EventSynced, LastUpdateID: b.last, From: from, To: to})
}

func (b *Book) setState(s State) {
	b.mu.Lock()
	if b.state != Closed {
		b.state = s
	}
	b.mu.Unlock()
}

// note queues an event for flush.
func (b *Book) note(e Event) {
	if b.o.onEvent == nil {
		return
	}
	e.Symbol, e.Time = b.symbol, time.Now()
	b.notes = append(b.notes, e)
}

// flush delivers the queued events. Called with b.work held.
func (b *Book) flush() {
	for i, e := range b.notes {
		b.o.onEvent(e)
		b.notes[i] = Event{}
	}
	b.notes = b.notes[:0]
}

// install installs a snapshot unless the buffered events show it is too
// old. It returns false when a new snapshot is needed.
func (b *Book) install(s *snapshot) bool {
	b.work.Lock()
	defer b.work.Unlock()
	defer b.flush()
	if b.state == Closed || b.state == Synced || b.verify {
		return true
	}
	i := 0
	for i < len(b.buf) && b.stale(&b.buf[i], s.id) {
		i++
	}
	if i < len(b.buf) && !b.reaches(&b.buf[i], s.id) {
		b.snapID = s.id
		b.staleSnapshot()
		return false
	}
	b.stats.ignored.Add(uint64(i))
	b.mu.Lock()
	b.bids.reset()
	b.asks.reset()
	b.ps, b.qs, b.last = 0, 0, s.id
	err := b.setLevels(s.bids, nil)
	if err == nil {
		err = b.setLevels(s.asks, nil)
	}
	b.mu.Unlock()
	if err != nil {
		b.stats.errors.Add(1)
		b.note(Event{Kind: EventSnapshotError, Err: err})
		return false
	}
	b.snapID, b.pending = s.id, true
	// The events left go through onDiff: the first completes the sync, the
	// rest follow it (or, after a gap or a crossed book, are kept again).
	rest := b.buf[i:]
	b.buf = nil
	for j := range rest {
		b.onDiff(&rest[j])
	}
	return true
}

// apply applies d to the book, checks that it is not crossed, and calls
// OnUpdate unless d is the first event of a sync (the book is then read
// whole, after EventSynced). It returns false when the book crossed (a
// resync has started).
func (b *Book) apply(d *diff, first bool) bool {
	var upd *Update
	if b.o.onUpdate != nil {
		upd = &b.upd
		upd.FirstID, upd.LastID, upd.Changes = d.first, d.last, upd.Changes[:0]
	}
	b.mu.Lock()
	return b.finish(d, upd, b.setLevels(d.ch, upd), first)
}

// finish ends the application of d under b.mu, which it releases: unless
// setting the levels failed (err) or crossed the book, the book is at
// d.last and OnUpdate is called (not for the first event of a sync);
// otherwise the book leaves Synced in the same critical section and a
// resync starts. It reports whether d was applied.
func (b *Book) finish(d *diff, upd *Update, err error, first bool) bool {
	crossed := false
	if err == nil {
		bb, okB := b.bids.best()
		ba, okA := b.asks.best()
		crossed = okB && okA && bb.key >= -ba.key
	}
	if err != nil || crossed {
		if b.state != Closed {
			b.state = Resyncing // in the same critical section: readers never see it
		}
		b.mu.Unlock()
		b.buf = b.buf[:0]
		if crossed {
			b.stats.crossed.Add(1)
			b.resync(ErrCrossed)
		} else {
			b.resync(fmt.Errorf("%w: %v", ErrBadEvent, err))
		}
		return false
	}
	b.last = d.last
	if !first && b.state != Closed {
		b.stats.applied.Add(1)
	}
	b.mu.Unlock()
	if upd != nil && !first {
		b.o.onUpdate(upd)
	}
	return true
}

// setLevels writes levels, widening the book's scales when a value has
// more decimals. Called with b.mu held.
func (b *Book) setLevels(cs []change, upd *Update) error {
	for _, c := range cs {
		if err := b.setLevel(c, upd); err != nil {
			return err
		}
	}
	return nil
}

// setLevel writes one level (see setLevels).
func (b *Book) setLevel(c change, upd *Update) error {
	if c.ps > b.ps {
		if err := b.rescale(&b.ps, c.ps, true); err != nil {
			return err
		}
	}
	if c.qs > b.qs {
		if err := b.rescale(&b.qs, c.qs, false); err != nil {
			return err
		}
	}
	p, ok1 := Fixed{c.p, c.ps}.at(b.ps)
	q, ok2 := Fixed{c.q, c.qs}.at(b.qs)
	if !ok1 || !ok2 {
		return errRange
	}
	if c.bid {
		b.bids.set(p, q)
	} else {
		b.asks.set(-p, q)
	}
	if upd != nil {
		s := Ask
		if c.bid {
			s = Bid
		}
		upd.Changes = append(upd.Changes, Change{Side: s, Level: Level{Price: Fixed{p, b.ps}, Qty: Fixed{q, b.qs}}})
	}
	return nil
}

// rescale multiplies every price (or quantity) by 10^(to-*scale).
func (b *Book) rescale(scale *int8, to int8, price bool) error {
	m := pow10[to-*scale]
	if !b.bids.scale(m, price) || !b.asks.scale(m, price) { // a failed asks leaves scaled bids: resync
		return errRange
	}
	*scale = to
	return nil
}

// syncLoop fetches a snapshot each time one is wanted, until Close.
func (b *Book) syncLoop() {
	defer close(b.done)
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-b.wantSnap:
		}
		b.work.Lock()
		streak, waitDiff := b.streak, len(b.buf) == 0
		b.work.Unlock()
		if streak > 0 && !b.sleep(b.delay(streak)) {
			return
		}
		if waitDiff {
			t := time.NewTimer(b.o.firstWait)
			select {
			case <-b.ctx.Done():
				t.Stop()
				return
			case <-b.gotDiff:
			case <-t.C:
			}
			t.Stop()
		}
		for attempt := 0; ; attempt++ {
			if attempt > 0 && !b.sleep(b.delay(attempt)) {
				return
			}
			s, err := b.fetch()
			if b.ctx.Err() != nil {
				return
			}
			if err != nil {
				b.stats.errors.Add(1)
				b.work.Lock()
				b.note(Event{Kind: EventSnapshotError, Err: err})
				b.flush()
				b.work.Unlock()
				continue
			}
			b.stats.snapshots.Add(1)
			if b.install(s) {
				break
			}
		}
	}
}

// fetch gets a snapshot from the book's Fetcher or its snapshot source.
func (b *Book) fetch() (*snapshot, error) {
	if b.f != nil {
		return b.f.fetch(b.ctx, b.symbol, b.limit)
	}
	s, err := b.o.snapSrc(b.ctx, b.symbol, b.limit)
	if err != nil {
		return nil, err
	}
	return fromSnapshot(b.symbol, s)
}

// fromSnapshot checks and converts a snapshot a snapshot source returned.
func fromSnapshot(symbol string, s *Snapshot) (*snapshot, error) {
	if s == nil {
		return nil, errors.New("orderbook: the snapshot source returned no snapshot and no error")
	}
	if s.Symbol != "" && !strings.EqualFold(s.Symbol, symbol) {
		return nil, fmt.Errorf("orderbook: the snapshot source returned a snapshot of %q, not %q", s.Symbol, symbol)
	}
	if s.LastUpdateID <= 0 {
		return nil, fmt.Errorf("orderbook: snapshot of %s: update id %d is not positive", symbol, s.LastUpdateID)
	}
	out := &snapshot{id: s.LastUpdateID, bids: make([]change, 0, len(s.Bids)), asks: make([]change, 0, len(s.Asks))}
	for _, sd := range []struct {
		levels []Level
		bid    bool
		dst    *[]change
	}{{s.Bids, true, &out.bids}, {s.Asks, false, &out.asks}} {
		for _, l := range sd.levels {
			if l.Price.Int <= 0 || l.Qty.Int < 0 || l.Price.Scale < 0 || l.Price.Scale > maxScale || l.Qty.Scale < 0 || l.Qty.Scale > maxScale {
				return nil, fmt.Errorf("orderbook: snapshot of %s: level [%s, %s]: price must be positive and quantity not negative, with 0 to %d decimals", symbol, l.Price, l.Qty, maxScale)
			}
			*sd.dst = append(*sd.dst, change{p: l.Price.Int, q: l.Qty.Int, ps: l.Price.Scale, qs: l.Qty.Scale, bid: sd.bid})
		}
	}
	return out, nil
}

// delay is the wait before attempt n (1, 2, ...): growing by 1.6, ±20 %.
func (b *Book) delay(n int) time.Duration {
	d := float64(b.o.retryMin) * math.Pow(1.6, float64(n-1))
	d = min(d, float64(b.o.retryMax))
	return time.Duration(d * (0.8 + 0.4*rand.Float64()))
}

func (b *Book) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-b.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
