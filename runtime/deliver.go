package runtime

import (
	"hash/maphash"
	"slices"
)

// This file holds the delivery of data frames: from a link's reader to the
// subscriptions of the frame's routing key, in order. The reader reads each
// payload's sequence key (Stream.SeqRaw) and queues the payload; each
// subscription's goroutine decodes what it handles (Stream.Deferred), so the
// reader, which every stream of the connection waits for, does the least.
// Deliveries of one socket are serialised by socket.dmu, which also guards
// every stream's sequence state (below): normally one reader delivers,
// during a replacement two do.

// target is one stream a routing key reaches, with its subscriptions.
type target struct {
	e    *entry
	subs []*Subscription
}

// seqState is what delivery remembers of a stream's sequence key: the last
// event delivered, and during a replacement which link is the source and
// the new link's frames held back. Guarded by socket.dmu.
type seqState struct {
	last Seq
	has  bool
	ties []uint64 // SeqTime: payload hashes delivered at last.Last

	moved   bool   // the replacement link is this stream's source
	pending []held // the replacement link's frames, held back until the old link catches up
	catchUp bool   // the link switched to may still repeat delivered events
}

// held is a payload of the replacement link held back, with its sequence
// key.
type held struct {
	pl  payload
	seq Seq
}

// maxHeld bounds the frames held back per stream during a replacement. When
// the old link falls further behind, the stream switches to the new link at
// once; a gap, if any, is reported.
const maxHeld = 4096

var hashSeed = maphash.MakeSeed()

// seen reports whether an event with key q and payload in was delivered
// already: its key is before the last one, or equal to it (for SeqTime, equal
// and with a payload delivered at that time).
func (st *seqState) seen(q Seq, in []byte) bool {
	if !st.has {
		return false
	}
	if q.Last != st.last.Last {
		return q.Last < st.last.Last
	}
	if q.Kind != SeqTime {
		return true
	}
	return slices.Contains(st.ties, maphash.Bytes(hashSeed, in))
}

// follows reports whether q is known to come right after the last event
// delivered, with nothing missing in between.
func (st *seqState) follows(q Seq) bool {
	switch q.Kind {
	case SeqConsecutive:
		return st.has && q.First == st.last.Last+1
	case SeqLinked:
		return st.has && q.Prev == st.last.Last
	}
	return false
}

// payload is what one stream decodes from a frame: in, and, when in was
// taken lazily (see frame.scan), the whole frame, to take it again exactly
// if it does not decode. Frames are never modified (see arena), so a
// payload may wait in a queue and an event may alias it.
type payload struct {
	in, frame []byte
}

// retake returns p's exact data member when p was taken lazily and it is
// not what was taken; otherwise ok is false.
func (p payload) retake(g *grammar) (in []byte, ok bool) {
	if p.frame == nil {
		return nil, false
	}
	f := frame{g: g}
	if f.scanFull(p.frame) != nil {
		return nil, false
	}
	in = f.get(g.data)
	return in, in != nil && len(in) != len(p.in)
}

// decode decodes p with dec, into reuse if not nil (see StreamDecoder).
func (p payload) decode(g *grammar, dec StreamDecoder, reuse any) (any, error) {
	v, err := dec.Decode(p.in, reuse)
	if err != nil {
		if in, ok := p.retake(g); ok {
			return dec.Decode(in, reuse)
		}
	}
	return v, err
}

// dispatch hands one data frame of link l to the targets of its key. A key
// nobody subscribed to is counted as unsolicited. With lazy set (see
// frame.scan) data may have been taken wrongly; each decoder that rejects
// it takes it again from b.
func (s *socket) dispatch(l *link, key, data, b []byte, lazy bool) {
	targets, ok := (*s.table.Load())[string(key)]
	if !ok {
		s.conn.stats.unsolicited.Add(1)
		if !s.conn.market.Dialect.Unsolicited {
			s.frameError("unknown", Event{Stream: string(key)}, key, b, ErrUnknownStream)
		}
		return
	}
	s.dmu.Lock()
	defer s.dmu.Unlock()
	if l.retired.Load() {
		return
	}
	s.dgid = l.gid.Load()
	for _, r := range targets {
		pl := payload{in: data}
		if r.e.stream.Whole {
			pl.in = b
		} else if lazy {
			pl.frame = b
		}
		s.arrive(l, r, pl)
	}
	l.unflushed = l.unflushed || len(s.staged) > 0
}

// seqOf reads the sequence key of r's payload pl: from its bytes with the
// stream's SeqRaw, which leaves decoding to the subscriptions; otherwise by
// decoding it, and then v is the event for r's first subscription (see
// push), unless that one borrows its events: it decodes its own, into the
// one it handled last, and the reader decodes into a scratch event of the
// entry. pl is returned exact if it had to be taken again.
func (s *socket) seqOf(r target, pl payload) (v any, q Seq, _ payload, err error) {
	st := r.e.stream
	if st.SeqRaw != nil {
		if q, err = st.SeqRaw(pl.in); err != nil {
			if in, ok := pl.retake(s.conn.grammar); ok {
				pl = payload{in: in}
				q, err = st.SeqRaw(in)
			}
		}
		return nil, q, pl, err
	}
	sub := r.first()
	scratch := sub == nil || sub.borrow && sub.queues()
	var reuse any
	switch {
	case scratch:
		reuse = r.e.scratch
	case sub.inline:
		reuse = sub.reuse()
	}
	v, err = pl.decode(s.conn.grammar, r.e.decoder(), reuse)
	if err != nil {
		return nil, q, pl, err
	}
	q = st.Seq(v)
	if scratch {
		r.e.scratch, v = v, nil
	}
	return v, q, pl, nil
}

// first returns r's subscription that made the stream's entry, whose
// Stream the entry's decoder decodes with, or nil when it has left.
func (r target) first() *Subscription {
	if len(r.subs) > 0 && &r.subs[0].stream == r.e.stream {
		return r.subs[0]
	}
	return nil
}

// arrive delivers, holds back or drops one payload pl of target r read on
// link l (nil for a Feed). Without a replacement in progress every payload
// is delivered; during one, each stream with a sequence key switches from
// the old link to the new at the point where the two overlap, so that
// nothing is lost or repeated whatever their relative lag (see handoff).
// It returns false when the sequence key could not be read.
func (s *socket) arrive(l *link, r target, pl payload) bool {
	if r.e.stream.Seq == nil {
		if h := s.handoff; h == nil || l == h.old {
			s.push(r, nil, pl) // the old link is the source until it retires
		}
		return true
	}
	v, q, pl, err := s.seqOf(r, pl)
	if err != nil {
		s.decodeError(r.e.stream.Name, pl.in, err)
		return false
	}
	st := &r.e.seq
	h := s.handoff
	switch {
	case h == nil:
		if st.catchUp {
			if st.seen(q, pl.in) {
				return true // a replacement link that was behind repeats what the old one delivered
			}
			st.catchUp = false
		}
		s.advance(r, q, pl.in)
		s.push(r, v, pl)
	case st.moved:
		if l != h.old && !st.seen(q, pl.in) {
			s.advance(r, q, pl.in)
			s.push(r, v, pl)
		}
	case l == h.old:
		if !st.seen(q, pl.in) {
			s.advance(r, q, pl.in)
			s.push(r, v, pl)
		}
		s.trySwitch(h, r)
	case st.seen(q, pl.in):
		// The new link is behind: this one was delivered, every later one will
		// come from the new link.
		s.move(h, r)
	case len(st.pending) == 0 && st.follows(q):
		s.move(h, r)
		s.advance(r, q, pl.in)
		s.push(r, v, pl)
	default:
		st.pending = append(st.pending, held{pl: pl, seq: q})
		if len(st.pending) >= maxHeld {
			s.move(h, r)
		}
	}
	return true
}

// trySwitch moves r to the new link once the old link has delivered what
// the new link's first held frame holds, or reached the event right before it.
func (s *socket) trySwitch(h *handoff, r target) {
	st := &r.e.seq
	if len(st.pending) == 0 {
		return
	}
	overlap := false
	for len(st.pending) > 0 && st.seen(st.pending[0].seq, st.pending[0].pl.in) {
		st.pending = st.pending[1:]
		overlap = true
	}
	if overlap || len(st.pending) > 0 && st.follows(st.pending[0].seq) {
		s.move(h, r)
	}
}

// move makes the new link r's source and releases the frames held back.
func (s *socket) move(h *handoff, r target) {
	st := &r.e.seq
	if st.moved {
		return
	}
	st.moved, st.catchUp = true, true
	pending := st.pending
	st.pending = nil
	for _, p := range pending {
		if st.seen(p.seq, p.pl.in) {
			continue
		}
		s.advance(r, p.seq, p.pl.in)
		s.push(r, nil, p.pl)
	}
	h.moved++
	h.check()
}

// advance records q as the last event of r's stream and reports a gap
// before it.
func (s *socket) advance(r target, q Seq, in []byte) {
	st := &r.e.seq
	if st.has {
		switch {
		case q.Kind == SeqConsecutive && q.First > st.last.Last+1:
			s.gap(r, st.last.Last+1, q.First-1)
		case q.Kind == SeqLinked && q.Prev != st.last.Last && q.Last > st.last.Last:
			s.gap(r, st.last.Last+1, q.Prev)
		}
	}
	if q.Kind == SeqTime {
		if !st.has || q.Last != st.last.Last {
			st.ties = st.ties[:0]
		}
		st.ties = append(st.ties, maphash.Bytes(hashSeed, in))
	}
	st.last, st.has = q, true
}

// gap reports the ids missing from r's stream.
func (s *socket) gap(r target, from, to int64) {
	s.conn.stats.gaps.Add(1)
	s.report("gap "+r.e.stream.Name, Event{Kind: EventGap, Stream: r.e.stream.Name, From: from, To: to})
}

// push hands payload pl to each subscription of r: queued as it is, to be
// decoded on the subscription's goroutine (Stream.Deferred), or decoded
// here and queued, or handled here for a handler run inline. v, when not
// nil, is pl decoded by the entry's decoder (see seqOf), which r's first
// subscription takes as its event.
func (s *socket) push(r target, v any, pl payload) {
	first := r.first()
	for _, sub := range r.subs {
		own := v
		if sub != first {
			own = nil
		}
		if sub.queues() {
			s.stage(sub, queued{v: own, pl: pl, size: len(pl.in)})
			continue
		}
		if own == nil {
			var err error
			if own, err = pl.decode(s.conn.grammar, sub.decoder(), sub.reuse()); err != nil {
				s.decodeError(sub.stream.Name, pl.in, err)
				continue
			}
		}
		if sub.inline {
			sub.callInline(own, s.dgid)
		} else {
			s.stage(sub, queued{v: own, size: len(pl.in)})
		}
	}
}

// stage holds q for sub until flush, which the reader calls before it
// reads from the network, so that the payloads of one read (up to
// readBuffer bytes) are queued under one lock of sub's queue instead of one
// each: the subscription's goroutine, draining the queue on the other core,
// takes that lock too. A subscription that gathers maxStaged payloads has
// them queued at once. Called with dmu held.
func (s *socket) stage(sub *Subscription, q queued) {
	if len(sub.staged) == 0 {
		s.staged = append(s.staged, sub)
	}
	sub.staged = append(sub.staged, q)
	if len(sub.staged) >= maxStaged {
		sub.unstage()
	}
}

// maxStaged is the most payloads stage holds for one subscription.
const maxStaged = 64

// flush queues every payload stage holds. Called with dmu held: by a
// reader before it reads, and at the end of every other delivery (a
// Feed's, a replacement's release of what it held back).
func (s *socket) flush() {
	for i, sub := range s.staged {
		sub.unstage()
		s.staged[i] = nil
	}
	s.staged = s.staged[:0]
}

// unstage queues the payloads staged for s. Called with socket.dmu held.
func (s *Subscription) unstage() {
	if len(s.staged) > 0 {
		s.push(s.staged)
		clear(s.staged)
		s.staged = s.staged[:0]
	}
}

// deliver hands one data frame of link l to the streams of its key. cut is
// where the key's last part starts, or -1 (see frame.routeKey); b is the
// whole frame, for streams that decode it whole; lazy is frame.lazy.
func (s *socket) deliver(l *link, key []byte, cut int, data, b []byte, lazy bool) {
	if l.retired.Load() {
		return
	}
	if cut >= 0 {
		t := *s.table.Load()
		if _, ok := t[string(key)]; !ok {
			if _, ok := t[string(key[:cut])]; ok {
				key = key[:cut]
			}
		}
	}
	s.dispatch(l, key, data, b, lazy)
}
