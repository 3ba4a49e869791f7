package runtime

import (
	"hash/maphash"
	"sync"
	"time"
)

// Proactive replacement (before the connection lifetime ends, or when the
// server announces a shutdown) is make-before-break:
//
//  1. a new link is opened and every registered stream is subscribed on it,
//     while the old link keeps delivering;
//  2. during the overlap both links receive the same frames. Per stream, the
//     old link stays the source until the new link delivers a payload that
//     the old one delivered too (payloads are compared by hash): from then on
//     the new link is the source. Payloads the new link received before the
//     old one are held back and released when the old one catches up, so the
//     switch loses and repeats nothing;
//  3. when every stream has switched, or after the overlap limit
//     (WithReplaceOverlap), or when the old link dies, the old link is
//     retired and closed. Streams that have not switched by then take the
//     new link's held-back payloads and continue on it; only then can a
//     message be lost (one that the old link had not delivered yet and the
//     new link had received before its subscribe took effect) or, for
//     streams that repeat byte-identical payloads, repeated.
//
// If the new link cannot be opened or subscribed, the old one stays and the
// replacement is retried with backoff.
type handoff struct {
	old     *link
	seed    maphash.Seed
	mu      sync.Mutex
	streams map[string]*handoffStream
	want    int // streams expected to switch; 0 until known
	moved   int
	done    chan struct{}
	closed  bool
	over    bool // finish ran: the new link is the only source
}

// held is a frame held back during a handoff: a copy of the frame and its
// payload within it.
type held struct{ data, b []byte }

func hold(data, b []byte) held {
	off := cap(b) - cap(data) // data is a sub-slice of b
	c := append([]byte(nil), b...)
	return held{data: c[off : off+len(data)], b: c}
}

const (
	handoffRecent  = 128  // old payload hashes remembered per stream
	handoffPending = 4096 // new payloads held back per stream
)

type handoffStream struct {
	moved   bool
	recent  [handoffRecent]uint64
	next    int
	pending []held
	hashes  []uint64
}

func newHandoff(old *link) *handoff {
	return &handoff{old: old, seed: maphash.MakeSeed(), streams: map[string]*handoffStream{}, done: make(chan struct{})}
}

func (h *handoff) stream(name []byte) *handoffStream {
	st := h.streams[string(name)]
	if st == nil {
		st = &handoffStream{}
		h.streams[string(name)] = st
	}
	return st
}

// expect sets how many streams must switch before the old link can go.
func (h *handoff) expect(n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.want = n
	h.check()
}

func (h *handoff) check() {
	if !h.closed && h.want > 0 && h.moved >= h.want {
		h.closed = true
		close(h.done)
	}
}

// deliver routes one data frame of link l during the overlap.
func (h *handoff) deliver(s *socket, l *link, name, data, b []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.over {
		if l != h.old {
			s.dispatch(name, data, b)
		}
		return
	}
	st := h.stream(name)
	sum := maphash.Bytes(h.seed, data)
	if l == h.old {
		if st.moved {
			return
		}
		s.dispatch(name, data, b)
		st.recent[st.next%handoffRecent] = sum
		st.next++
		for i, p := range st.hashes {
			if p == sum { // the new link was ahead: release what follows
				for _, p := range st.pending[i+1:] {
					s.dispatch(name, p.data, p.b)
				}
				h.move(st)
				return
			}
		}
		return
	}
	if st.moved {
		s.dispatch(name, data, b)
		return
	}
	for _, r := range st.recent[:min(st.next, handoffRecent)] {
		if r == sum { // caught up: this one was delivered, the rest will come from l
			h.move(st)
			return
		}
	}
	if len(st.pending) == handoffPending {
		st.pending, st.hashes = st.pending[1:], st.hashes[1:]
	}
	st.pending = append(st.pending, hold(data, b))
	st.hashes = append(st.hashes, sum)
}

func (h *handoff) move(st *handoffStream) {
	st.moved = true
	st.pending, st.hashes = nil, nil
	h.moved++
	h.check()
}

// finish switches every remaining stream to the new link, releasing the
// payloads it held back. The old link must be retired first.
func (h *handoff) finish(s *socket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.over = true
	for name, st := range h.streams {
		if st.moved {
			continue
		}
		for _, p := range st.pending {
			s.dispatch([]byte(name), p.data, p.b)
		}
		st.moved = true
		st.pending, st.hashes = nil, nil
	}
}

// replace performs a proactive replacement of old (see handoff). It returns
// the link to continue with: the new one, old itself when the replacement
// failed, or nil when both are gone.
func (s *socket) replace(old *link, reason error) *link {
	h := newHandoff(old)
	s.handoff.Store(h)
	abort := func(nl *link, err error) *link {
		if nl != nil {
			s.deactivate(nl)
			nl.retired.Store(true)
		}
		s.handoff.Store(nil)
		if nl != nil {
			nl.close()
		}
		if err != nil {
			s.emit(Event{Kind: EventError, URL: s.url, Err: err})
		}
		return old
	}
	nl, err := s.dialLink(s.conn.ctx)
	if err != nil {
		return abort(nil, err)
	}
	n, err := s.activate(nl)
	if err != nil {
		return abort(nl, err)
	}
	h.expect(n)
	if n > 0 {
		t := time.NewTimer(s.conn.opts.replaceOverlap)
		select {
		case <-h.done:
		case <-t.C:
		case <-old.dead:
		case <-nl.dead:
		case <-s.closing:
		}
		t.Stop()
	}
	select {
	case <-nl.dead:
		if old.isDead() {
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
	h.finish(s)
	s.handoff.Store(nil)
	old.close()
	s.emit(Event{Kind: EventReplaced, URL: nl.url, Err: reason})
	s.emit(Event{Kind: EventResubscribed, URL: nl.url, Count: uint64(n)})
	return nl
}

func (l *link) isDead() bool {
	select {
	case <-l.dead:
		return true
	default:
		return false
	}
}
