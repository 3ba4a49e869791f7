package runtime

import (
	"hash/maphash"
	"slices"
)

// This file holds the delivery of data frames: from a link's reader to the
// subscriptions of the frame's routing key, decoded once per subscription,
// in order. Deliveries of one socket are serialised by socket.dmu, which
// also guards every stream's sequence state (below): normally one reader
// delivers, during a replacement two do.

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

// held is a frame of the replacement link held back: a copy of the bytes its
// stream decodes, and their sequence key.
type held struct {
	in  []byte
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

// dispatch hands one data frame of link l to the targets of its key. A key
// nobody subscribed to is counted as unsolicited. With lazy set (see
// frame.scan) a payload that does not decode is not reported: dispatch
// returns false, delivering nothing, so that the frame is scanned in full
// and dispatched again.
func (s *socket) dispatch(l *link, key, data, b []byte, lazy bool) bool {
	targets, ok := (*s.table.Load())[string(key)]
	if !ok {
		s.conn.stats.unsolicited.Add(1)
		if !s.conn.market.Dialect.Unsolicited {
			s.frameError("unknown", Event{Stream: string(key)}, key, b, ErrUnknownStream)
		}
		return true
	}
	s.dmu.Lock()
	defer s.dmu.Unlock()
	if l.retired.Load() {
		return true
	}
	s.dgid = l.gid.Load()
	for i, r := range targets {
		in := data
		if r.e.stream.Whole {
			in = b
		}
		v, err := r.decodeEntry(in)
		if err != nil {
			if lazy && i == 0 && !r.e.stream.Whole {
				return false
			}
			s.decodeError(r, key, in, err)
			continue
		}
		s.arrive(l, r, v, in)
	}
	return true
}

// arrive delivers, holds back or drops one decoded payload v of target r
// read on link l. Without a replacement in progress every payload is
// delivered; during one, each stream with a sequence key switches from the
// old link to the new at the point where the two overlap, so that nothing is
// lost or repeated whatever their relative lag (see handoff).
func (s *socket) arrive(l *link, r target, v any, in []byte) {
	if r.e.stream.Seq == nil {
		if h := s.handoff; h == nil || l == h.old {
			s.push(r, v, in) // the old link is the source until it retires
		}
		return
	}
	q := r.e.stream.Seq(v)
	st := &r.e.seq
	h := s.handoff
	switch {
	case h == nil:
		if st.catchUp {
			if st.seen(q, in) {
				return // a replacement link that was behind repeats what the old one delivered
			}
			st.catchUp = false
		}
		s.advance(r, q, in)
		s.push(r, v, in)
	case st.moved:
		if l != h.old && !st.seen(q, in) {
			s.advance(r, q, in)
			s.push(r, v, in)
		}
	case l == h.old:
		if !st.seen(q, in) {
			s.advance(r, q, in)
			s.push(r, v, in)
		}
		s.trySwitch(h, r)
	case st.seen(q, in):
		// The new link is behind: this one was delivered, every later one will
		// come from the new link.
		s.move(h, r)
	case len(st.pending) == 0 && st.follows(q):
		s.move(h, r)
		s.advance(r, q, in)
		s.push(r, v, in)
	default:
		st.pending = append(st.pending, held{in: append([]byte(nil), in...), seq: q})
		if len(st.pending) >= maxHeld {
			s.move(h, r)
		}
	}
}

// trySwitch moves r to the new link once the old link has delivered what
// the new link's first held frame holds, or reached the event right before it.
func (s *socket) trySwitch(h *handoff, r target) {
	st := &r.e.seq
	if len(st.pending) == 0 {
		return
	}
	overlap := false
	for len(st.pending) > 0 && st.seen(st.pending[0].seq, st.pending[0].in) {
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
		if st.seen(p.seq, p.in) {
			continue
		}
		v, err := r.decodeEntry(p.in)
		if err != nil {
			continue // it decoded when it arrived
		}
		s.advance(r, p.seq, p.in)
		s.push(r, v, p.in)
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

// push queues v for the route's first subscription and a fresh decode of in
// for each other one, and for any that has its own decoder.
func (s *socket) push(r target, v any, in []byte) {
	for i, sub := range r.subs {
		if i > 0 || sub.dec != nil {
			var err error
			if v, err = r.decode(in, i); err != nil {
				s.decodeError(r, []byte(sub.stream.Name), in, err)
				continue
			}
		}
		if sub.inline {
			sub.callInline(v, s.dgid)
		} else {
			sub.push(v, len(in))
		}
	}
}

// decode decodes in for r's subscription i: into an event it is done with
// if it borrows its events (WithBorrow), else into a new one; with the
// subscription's own decoder if it has one, else the stream's. Called with
// s.dmu held.
func (r target) decode(in []byte, i int) (any, error) {
	dec := r.e.dec
	var reuse any
	if i < len(r.subs) {
		sub := r.subs[i]
		reuse = sub.reuse()
		if sub.dec != nil {
			dec = sub.dec
		}
	}
	return dec.Decode(in, reuse)
}

// decodeEntry decodes in with the stream's own decoder, as its sequence key
// and the first subscription (unless it has its own decoder) read it.
func (r target) decodeEntry(in []byte) (any, error) {
	if len(r.subs) > 0 && r.subs[0].dec == nil {
		return r.decode(in, 0)
	}
	return r.e.dec.Decode(in, nil)
}

// deliver hands one data frame of link l to the streams of its key. cut is
// where the key's last part starts, or -1 (see frame.routeKey); b is the
// whole frame, for streams that decode it whole. It returns false when a
// lazily scanned payload did not decode (see dispatch).
func (s *socket) deliver(l *link, key []byte, cut int, data, b []byte, lazy bool) bool {
	if l.retired.Load() {
		return true
	}
	if cut >= 0 {
		t := *s.table.Load()
		if _, ok := t[string(key)]; !ok {
			if _, ok := t[string(key[:cut])]; ok {
				key = key[:cut]
			}
		}
	}
	return s.dispatch(l, key, data, b, lazy)
}
