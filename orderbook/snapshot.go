package orderbook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/marketwire/marketwire/runtime"
)

// OpenSnapshot subscribes to a snapshot stream of symbol on c (a
// partial-depth stream, one of spec.Snapshots: the first unless
// WithSnapshotStream names another) and keeps the symbol's book from it
// until Close. Each message replaces both sides whole: the book holds the
// stream's top levels (WithLevels; by default the most it offers) and
// needs no REST snapshot. It is Synced after the first valid message; a
// message whose update id is older than the book's is rejected
// (EventBackwards, the book unchanged), and a crossed or unreadable one
// takes the book out of Synced until a good one arrives (EventResync).
// It returns once the stream is subscribed. The options of the REST
// snapshot and of the diff buffer do not apply; OnUpdate receives each
// accepted message whole (see OnUpdate).
//
// c is a *runtime.Conn or any other runtime.Source of spec's market.
func OpenSnapshot(ctx context.Context, c runtime.Source, spec *Spec, symbol string, opts ...Option) (*Book, error) {
	if spec == nil || spec.Market == nil {
		return nil, fmt.Errorf("orderbook: OpenSnapshot %s: nil or incomplete Spec (use a generated market's OrderBook)", symbol)
	}
	if len(spec.Snapshots) == 0 {
		return nil, fmt.Errorf("orderbook: market %q has no snapshot stream", spec.Market.Name)
	}
	if err := checkSource(c, spec, "OpenSnapshot", symbol); err != nil {
		return nil, err
	}
	o := options{buffer: DefaultBuffer, firstWait: DefaultFirstWait, retryMin: DefaultRetryMin, retryMax: DefaultRetryMax}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	sn := &spec.Snapshots[0]
	if o.snapStream != "" {
		i := slices.IndexFunc(spec.Snapshots, func(s SnapshotSpec) bool { return s.Name == o.snapStream })
		if i < 0 {
			return nil, fmt.Errorf("orderbook: market %q has no snapshot stream %q", spec.Market.Name, o.snapStream)
		}
		sn = &spec.Snapshots[i]
	}
	if sn.Stream == nil || sn.Read == nil || len(sn.Levels) == 0 {
		return nil, fmt.Errorf("orderbook: snapshot stream %q of market %q is incomplete", sn.Name, spec.Market.Name)
	}
	levels := o.levels
	if levels == 0 {
		levels = sn.Levels[len(sn.Levels)-1]
	}
	if !slices.Contains(sn.Levels, levels) {
		return nil, fmt.Errorf("orderbook: %s offers %v levels per side, not %d", sn.Name, sn.Levels, levels)
	}
	st, err := sn.Stream(symbol, levels)
	if err != nil {
		return nil, err
	}
	b := newBook(spec, symbol, o, st)
	b.snap = sn
	close(b.done) // no snapshot goroutine
	sub, err := subscribeReady(ctx, c, st, b.handleSnapshot, o.sub)
	if err != nil {
		b.cancel()
		return nil, err
	}
	b.sub = sub
	return b, nil
}

// handleSnapshot is the snapshot stream's handler: it replaces the book
// whole with a message that is readable, not older than the book and not
// crossed.
func (b *Book) handleSnapshot(v any) {
	b.work.Lock()
	defer b.work.Unlock()
	defer b.flush()
	if b.state == Closed {
		return
	}
	d := &b.scratch
	d.ch = d.ch[:0]
	b.reading, b.readErr = d, nil
	id, ok := b.snap.Read(v, b.visit)
	b.reading = nil
	err := b.readErr
	if !ok {
		err = errNotSnapshot
	}
	wasSynced := b.state == Synced && !b.verify
	if err != nil {
		b.rejectSnapshot(fmt.Errorf("%w: %v", ErrBadEvent, err), wasSynced || b.verify)
		return
	}
	if b.seen && id < b.last {
		b.stats.backwards.Add(1)
		b.note(Event{Kind: EventBackwards, LastUpdateID: b.last, From: id, To: id, Err: ErrBackwards})
		return
	}
	var upd *Update
	if b.o.onUpdate != nil {
		upd = &b.upd
		upd.FirstID, upd.LastID, upd.Changes = id, id, upd.Changes[:0]
	}
	b.mu.Lock()
	b.bids.reset()
	b.asks.reset()
	b.ps, b.qs = 0, 0
	err = b.setLevels(d.ch, upd)
	crossed := false
	if err == nil {
		bb, okB := b.bids.best()
		ba, okA := b.asks.best()
		crossed = okB && okA && bb.key >= -ba.key
	}
	if err != nil || crossed {
		wasUp := wasSynced || b.verify
		if b.state == Synced {
			b.state = Resyncing // in the same critical section: readers never see it
		}
		b.mu.Unlock()
		if crossed {
			b.stats.crossed.Add(1)
			b.rejectSnapshot(ErrCrossed, wasUp)
		} else {
			b.rejectSnapshot(fmt.Errorf("%w: %v", ErrBadEvent, err), wasUp)
		}
		return
	}
	b.last, b.seen = id, true
	b.state = Synced
	b.mu.Unlock()
	b.verify = false
	if wasSynced {
		b.stats.applied.Add(1)
		if upd != nil {
			b.o.onUpdate(upd)
		}
		return
	}
	b.syncedAt = time.Now()
	b.stats.syncs.Add(1)
	b.note(Event{Kind: EventSynced, LastUpdateID: id})
}

// rejectSnapshot reports a snapshot message that was not installed; a
// book that was Synced (or Suspect), wasUp, leaves Synced until a good one
// arrives. The levels it holds meanwhile are not read: reads need Synced.
func (b *Book) rejectSnapshot(why error, wasUp bool) {
	if wasUp {
		b.lastSynced = b.last
		b.verify = false
		b.stats.resyncs.Add(1)
	}
	b.setState(b.stateAfterReject())
	b.note(Event{Kind: EventResync, Err: why, LastUpdateID: b.last})
}

// stateAfterReject is Syncing before the first sync, Resyncing after it.
func (b *Book) stateAfterReject() State {
	if b.stats.syncs.Load() == 0 {
		return Syncing
	}
	return Resyncing
}

var errNotSnapshot = errors.New("orderbook: the snapshot stream delivered a value that is not one of its messages")
