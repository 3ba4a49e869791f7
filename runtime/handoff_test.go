package runtime

import (
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/marketwire/marketwire/internal/dispatch"
)

// handoffRig is a socket with one stream whose payloads are decimal numbers
// with a consecutive sequence key, and two links, for driving the hand-off
// directly: no network, every interleaving reproducible. A deferred rig's
// stream is Deferred, its key read by SeqRaw; the other's payloads are
// decoded on the reader.
type handoffRig struct {
	s        *socket
	sub      *Subscription
	old, new *link
	events   []Event
}

func newHandoffRig(t testing.TB, deferred bool) *handoffRig {
	r := &handoffRig{}
	c := &Conn{market: &Market{}, opts: options{dropReport: time.Hour}, events: dispatch.New[Event](nil)}
	t.Cleanup(c.events.Close)
	c.reports = newReports(time.Hour, func(e Event) { r.events = append(r.events, e) })
	st := Stream{
		Name: "n",
		Decode: func(b []byte) (any, error) {
			return strconv.ParseInt(string(b), 10, 64)
		},
		Seq: func(v any) Seq { n := v.(int64); return Seq{Kind: SeqConsecutive, First: n, Last: n} },
	}
	if deferred {
		st.Deferred = true
		st.SeqRaw = func(b []byte) (Seq, error) {
			n, err := strconv.ParseInt(string(b), 10, 64)
			return Seq{Kind: SeqConsecutive, First: n, Last: n}, err
		}
	}
	s := newSocket(c, "", "", 0)
	r.sub = newSubscription(s, st, func(any) {}, subOptions{size: 1 << 16, bytes: 1 << 30})
	e := newEntry(&r.sub.stream)
	e.subs = []*Subscription{r.sub}
	s.reg["n"] = e
	s.publish()
	r.s, r.old, r.new = s, &link{s: s}, &link{s: s}
	return r
}

func (r *handoffRig) frame(l *link, n int64) {
	r.s.dispatch(l, []byte("n"), strconv.AppendInt(nil, n, 10), nil, false)
}

// delivered returns the values queued for the handler, in order.
func (r *handoffRig) delivered() []int64 {
	r.s.dmu.Lock()
	r.s.flush() // what the readers staged
	r.s.dmu.Unlock()
	out := make([]int64, 0, r.sub.n)
	for i := 0; i < r.sub.n; i++ {
		q := r.sub.buf[(r.sub.head+i)%len(r.sub.buf)]
		if q.v == nil { // queued to be decoded by the subscription
			n, _ := strconv.ParseInt(string(q.pl.in), 10, 64)
			q.v = n
		}
		out = append(out, q.v.(int64))
	}
	return out
}

func (r *handoffRig) gaps() [][2]int64 {
	var out [][2]int64
	for _, e := range r.events {
		if e.Kind == EventGap {
			out = append(out, [2]int64{e.From, e.To})
		}
	}
	return out
}

// rotate simulates a replacement: events 1..total are published one per
// millisecond; the old link receives each lagOld ms later up to event
// oldEnd (then it dies); the new link receives events from start on, lagNew
// ms later. Frames arriving at the same time go in random order. The old
// link retires when the hand-off completes, or when it died and the new
// link has delivered one frame more. It returns what the handler got.
func rotate(t testing.TB, rng *rand.Rand, total, oldEnd, start int64, lagOld, lagNew time.Duration, before int64) *handoffRig {
	r := newHandoffRig(t, rng.IntN(2) == 0)
	for n := int64(1); n <= before; n++ { // delivered before the replacement
		r.frame(r.old, n)
	}
	type arrival struct {
		at  time.Duration
		l   *link
		n   int64
		tie int
	}
	var as []arrival
	for n := before + 1; n <= total; n++ {
		pub := time.Duration(n) * time.Millisecond
		if n <= oldEnd {
			as = append(as, arrival{pub + lagOld, r.old, n, rng.Int()})
		}
		if n >= start {
			as = append(as, arrival{pub + lagNew, r.new, n, rng.Int()})
		}
	}
	sort.Slice(as, func(i, j int) bool {
		if as[i].at != as[j].at {
			return as[i].at < as[j].at
		}
		return as[i].tie < as[j].tie
	})
	h := &handoff{old: r.old, done: make(chan struct{}), want: 1}
	r.s.handoff = h
	oldDone := false
	retire := func() {
		r.old.retired.Store(true)
		r.s.finish(h)
	}
	for _, a := range as {
		if r.s.handoff != nil && (isClosed(h.done) || oldDone && a.l == r.new) {
			retire()
		}
		r.frame(a.l, a.n)
		if a.l == r.old && a.n == oldEnd {
			oldDone = true
		}
	}
	if r.s.handoff != nil {
		retire()
	}
	return r
}

// TestHandoffExact: whatever the lag of the new link behind or ahead of the
// old one, every event is delivered once, in order (issue #9: the hash-based
// hand-off repeated 1/4/19 events at 5/20/100 ms).
func TestHandoffExact(t *testing.T) {
	lags := []time.Duration{0, 5 * time.Millisecond, 20 * time.Millisecond, 100 * time.Millisecond, 500 * time.Millisecond}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, lag := range lags {
		for _, ahead := range []bool{false, true} {
			lagOld, lagNew := time.Duration(0), lag
			if ahead {
				lagOld, lagNew = lag, 0
			}
			for range 20 {
				// The new link subscribes while event 600 is published.
				r := rotate(t, rng, 2000, 2000, 600, lagOld, lagNew, 100)
				got := r.delivered()
				if len(got) != 2000 || got[0] != 1 || !consecutive(got) {
					t.Fatalf("new link %v %s: delivered %d events, first %v, consecutive %v", lag, map[bool]string{false: "behind", true: "ahead"}[ahead], len(got), got[:min(3, len(got))], consecutive(got))
				}
				if g := r.gaps(); len(g) != 0 {
					t.Fatalf("gaps reported: %v", g)
				}
			}
		}
	}
}

// TestHandoffOldDiesEarly: the server closes the old link right after its
// shutdown notice, before the new link covers the next event: the events
// neither link received are missing, reported as one gap with their range,
// and nothing else is lost or repeated.
func TestHandoffOldDiesEarly(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, lag := range []time.Duration{0, 20 * time.Millisecond, 500 * time.Millisecond} {
		r := rotate(t, rng, 1000, 400, 450, 0, lag, 10)
		got := r.delivered()
		want := append(seq(1, 400), seq(450, 1000)...)
		if !slices.Equal(got, want) {
			t.Fatalf("lag %v: delivered %d events, want 1..400 and 450..1000", lag, len(got))
		}
		if g := r.gaps(); !slices.Equal(g, [][2]int64{{401, 449}}) {
			t.Fatalf("lag %v: gaps %v, want [401 449]", lag, g)
		}
	}
}

func seq(from, to int64) []int64 {
	var out []int64
	for n := from; n <= to; n++ {
		out = append(out, n)
	}
	return out
}

func consecutive(ns []int64) bool {
	for i := 1; i < len(ns); i++ {
		if ns[i] != ns[i-1]+1 {
			return false
		}
	}
	return true
}

// FuzzHandoff drives random rotations: whatever the lags, the point where the
// new link starts and where the old one ends, the handler gets every event
// that either link received, once and in order, and exactly the events
// neither received are reported as gaps.
func FuzzHandoff(f *testing.F) {
	f.Add(uint16(5), uint16(0), uint16(300), uint16(200), uint64(1))
	f.Add(uint16(0), uint16(100), uint16(300), uint16(310), uint64(2))
	f.Add(uint16(500), uint16(0), uint16(100), uint16(400), uint64(3))
	f.Fuzz(func(t *testing.T, lagOld, lagNew, oldEnd, start uint16, seed uint64) {
		const total = 600
		oe := int64(oldEnd%total) + 20
		st := int64(start%total) + 20
		r := rotate(t, rand.New(rand.NewPCG(seed, seed)), total+40, oe, st, time.Duration(lagOld%1000)*time.Millisecond, time.Duration(lagNew%1000)*time.Millisecond, 10)
		got := r.delivered()
		var want []int64
		var gaps [][2]int64
		for n := int64(1); n <= total+40; n++ {
			if n <= oe || n >= st {
				want = append(want, n)
			} else if n == oe+1 {
				gaps = append(gaps, [2]int64{oe + 1, st - 1})
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("delivered %v..., want %v...", got[:min(10, len(got))], want[:min(10, len(want))])
		}
		if g := r.gaps(); !slices.Equal(g, gaps) {
			t.Fatalf("gaps %v, want %v", g, gaps)
		}
	})
}
