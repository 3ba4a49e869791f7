package runtime

import "time"

// Proactive replacement (before the connection lifetime ends, or when the
// server announces a shutdown) is make-before-break:
//
//  1. a new link is opened and every registered stream is subscribed on it,
//     while the old link keeps delivering;
//  2. during the overlap both links receive the same events, each with its
//     own lag. Per stream, the old link stays the source and the new link's
//     events are held back until the two overlap: the old link delivers an
//     event the new one holds, or the one right before its first (by the
//     stream's sequence key, Stream.Seq). The held events after that point
//     are released and the new link becomes the source; its events already
//     delivered are dropped. If the new link is behind instead, it becomes
//     the source at its first event that was delivered already. Either way
//     every event is delivered once, in order, whatever the lag;
//  3. when every stream has switched, or after the overlap limit
//     (WithReplaceOverlap), or when the old link dies, the old link is
//     retired and closed, and the remaining streams release what the new
//     link held. Only then can events be missing (those neither link
//     delivered, such as after a server that closed the old link at once);
//     on streams whose key reveals gaps they are reported as EventGap.
//
// Streams without a sequence key switch when the old link retires; they can
// lose or repeat the events in flight at that moment. If the new link cannot
// be opened or subscribed, the old one stays and the replacement is retried
// with backoff.
type handoff struct {
	old    *link
	want   int // streams with a sequence key that must switch before the old link can go
	moved  int
	done   chan struct{}
	closed bool
}

// check closes done when every stream has switched. Called with s.dmu held.
func (h *handoff) check() {
	if !h.closed && h.moved >= h.want {
		h.closed = true
		close(h.done)
	}
}

// finish switches every remaining stream to the new link, releasing what it
// held back, and ends the handoff. The old link must be retired first.
func (s *socket) finish(h *handoff) {
	s.fresh()
	s.dmu.Lock()
	defer s.dmu.Unlock()
	for _, routes := range *s.table.Load() {
		for _, r := range routes {
			s.move(h, r)
		}
	}
	s.flush()
	s.clearSeq()
	s.handoff = nil
}

// clearSeq forgets the replacement state of every stream. Called with s.dmu
// held.
func (s *socket) clearSeq() {
	for _, routes := range *s.table.Load() {
		for _, r := range routes {
			r.e.seq.moved, r.e.seq.pending = false, nil
		}
	}
}

// replace performs a proactive replacement of old (see handoff). It returns
// the link to continue with: the new one, old itself when the replacement
// failed, or nil when both are gone.
func (s *socket) replace(old *link, reason error) *link {
	h := &handoff{old: old, done: make(chan struct{})}
	s.dmu.Lock()
	s.handoff = h
	s.dmu.Unlock()
	abort := func(nl *link, err error) *link {
		if nl != nil {
			s.deactivate(nl)
			nl.retired.Store(true)
		}
		s.dmu.Lock()
		s.clearSeq()
		s.handoff = nil
		s.dmu.Unlock()
		if nl != nil {
			nl.close()
		}
		if err != nil {
			s.emit(Event{Kind: EventError, URL: s.url, Err: err})
		}
		return old
	}
	if err := s.conn.budget.wait(s.closing); err != nil {
		return abort(nil, nil)
	}
	nl, err := s.dialLink(s.conn.ctx)
	if err != nil {
		return abort(nil, err)
	}
	n, err := s.activate(nl)
	if err != nil {
		return abort(nl, err)
	}
	s.fresh()
	s.dmu.Lock()
	for _, routes := range *s.table.Load() {
		for _, r := range routes {
			if r.e.stream.Seq != nil {
				h.want++
			}
		}
	}
	h.check()
	s.dmu.Unlock()
	t := time.NewTimer(s.conn.opts.replaceOverlap)
	select {
	case <-h.done:
	case <-t.C:
	case <-old.dead:
	case <-nl.dead:
	case <-s.closing:
	}
	t.Stop()
	select {
	case <-nl.dead:
		if isClosed(old.dead) {
			// Both gone: retire both and reconnect from scratch.
			abort(nl, nil)
			s.deactivate(old)
			old.close()
			return nil
		}
		return abort(nl, nl.cause)
	default:
	}
	old.retired.Store(true)
	s.deactivate(old)
	s.finish(h)
	old.close()
	s.emit(Event{Kind: EventReplaced, URL: nl.url, Err: reason})
	s.emit(Event{Kind: EventResubscribed, URL: nl.url, Count: uint64(n)})
	return nl
}
