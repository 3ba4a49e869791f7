package runtime_test

import (
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
)

func TestOverflowPolicies(t *testing.T) {
	const name, total, size = "btcusdt@prices", 200, 8
	for _, p := range []runtime.OverflowPolicy{runtime.DropOldest, runtime.DropNewest, runtime.Block, runtime.CloseSubscription} {
		t.Run(p.String(), func(t *testing.T) {
			m := testMarket()
			s := startSim(t, m, sim.WithPublishInterval(0))
			c, rec := dial(t, m, s, runtime.WithDropReportInterval(time.Millisecond))
			release := make(chan struct{})
			var once sync.Once
			col := newCollector()
			sub, err := subscribeReady(c, ctx(t), stream(name), func(v any) {
				<-release // the first call blocks until every frame was sent
				col.handle(v)
			}, runtime.WithOverflow(p), runtime.WithQueueSize(size))
			if err != nil {
				t.Fatal(err)
			}
			sent := make(chan struct{})
			go func() {
				defer close(sent)
				s.Blast(name, seqPayloads(name, 1, total))
			}()
			if p == runtime.Block {
				// The reader is stuck; let the handler go before the blast ends.
				time.Sleep(50 * time.Millisecond)
				once.Do(func() { close(release) })
			}
			<-sent
			if p == runtime.CloseSubscription {
				eventually(t, 5*time.Second, func() bool { return sub.Err() != nil }, "queue never overflowed")
				once.Do(func() { close(release) })
				<-sub.Done()
				if !errors.Is(sub.Err(), runtime.ErrSlowConsumer) {
					t.Fatalf("Err() = %v", sub.Err())
				}
				e := rec.wait(t, runtime.EventSubscriptionClosed, nil)
				if e.Subscription != sub || !errors.Is(e.Err, runtime.ErrSlowConsumer) {
					t.Fatalf("event %v", e)
				}
				eventually(t, 5*time.Second, func() bool { return len(s.OpenConns()[0].Streams) == 0 }, "not unsubscribed on the server")
				return
			}
			if p != runtime.Block {
				eventually(t, 5*time.Second, func() bool { return sub.Dropped() > 0 }, "queue never overflowed")
			}
			once.Do(func() { close(release) })
			if p == runtime.Block {
				col.waitLen(t, name, total)
				checkConsecutive(t, name, col.get(name))
				if sub.Dropped() != 0 {
					t.Fatalf("Block dropped %d", sub.Dropped())
				}
				return
			}
			// Every frame is either delivered or dropped.
			eventually(t, 5*time.Second, func() bool {
				return int(sub.Dropped())+len(col.get(name)) == total
			}, "frames missing: delivered %d dropped %d", len(col.get(name)), sub.Dropped())
			switch seqs := col.get(name); p {
			case runtime.DropOldest: // the newest survive
				if seqs[len(seqs)-1] != total {
					t.Fatalf("DropOldest lost the newest event: %v", seqs)
				}
			case runtime.DropNewest: // the oldest survive: 1..size first
				if len(seqs) < size || seqs[size-1] != size {
					t.Fatalf("DropNewest kept %v", seqs)
				}
			}
			seqs := col.get(name)
			checkIncreasing(t, name, seqs)
			dropped := sub.Dropped()
			if dropped == 0 {
				t.Fatal("nothing dropped")
			}
			// Drops are reported, coalesced, and add up.
			eventually(t, 5*time.Second, func() bool {
				var sum uint64
				for _, e := range rec.all() {
					if e.Kind == runtime.EventDropped && e.Subscription == sub {
						sum += e.Count
					}
				}
				return sum == dropped
			}, "reported drops do not add up to %d: %v", dropped, rec)
			if n := rec.count(runtime.EventDropped); n >= int(dropped) {
				t.Fatalf("%d drop events for %d drops: not coalesced", n, dropped)
			}
		})
	}
}

func TestOrderingUnderLoad(t *testing.T) {
	m := testMarket()
	s := startSim(t, m, sim.WithPublishInterval(0))
	c, _ := dial(t, m, s)
	names := []string{"btcusdt@prices", "ethusdt@prices", "bnbusdt@prices"}
	const total = 5000
	col := newCollector()
	for _, n := range names {
		if _, err := subscribeReady(c, ctx(t), stream(n), col.handle, runtime.WithOverflow(runtime.Block)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Blast(n, seqPayloads(n, 1, total))
		}()
	}
	wg.Wait()
	for _, n := range names {
		col.waitLen(t, n, total)
		checkConsecutive(t, n, col.get(n))
	}
}

func TestUnsubscribeFromHandler(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	c, _ := dial(t, m, s)
	var sub *runtime.Subscription
	ready := make(chan struct{})
	calls := 0
	sub, err := subscribeReady(c, ctx(t), stream("btcusdt@prices"), func(any) {
		<-ready
		calls++
		if calls == 3 {
			if err := sub.Unsubscribe(ctx(t)); err != nil {
				t.Error(err)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	close(ready)
	select {
	case <-sub.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("subscription did not end")
	}
	if calls != 3 {
		t.Fatalf("%d handler calls after Unsubscribe at 3", calls)
	}
}

func TestTwoHandlersOneStream(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	c, _ := dial(t, m, s)
	a, b := newCollector(), newCollector()
	const name = "btcusdt@prices"
	subA, err := subscribeReady(c, ctx(t), stream(name), a.handle)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := subscribeReady(c, ctx(t), stream(name), b.handle); err != nil {
		t.Fatal(err)
	}
	b.waitLen(t, name, 3)
	if err := subA.Unsubscribe(ctx(t)); err != nil {
		t.Fatal(err)
	}
	k := len(b.get(name))
	b.waitLen(t, name, k+3)
	if ci := s.OpenConns()[0]; len(ci.Streams) != 1 || ci.Subs[name] != 1 {
		t.Fatalf("server: %+v", ci)
	}
}

// reuseDecoder is a runtime.StreamDecoder of seqEvents that counts the
// values it allocates and those it decodes into again.
type reuseDecoder struct{ news, reused *atomic.Int64 }

func (d reuseDecoder) Decode(b []byte, reuse any) (any, error) {
	ev, _ := reuse.(*seqEvent)
	if ev == nil {
		ev = new(seqEvent)
		d.news.Add(1)
	} else {
		*ev = seqEvent{}
		d.reused.Add(1)
	}
	if err := json.Unmarshal(b, ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// TestBorrow checks WithBorrow: a borrowing handler sees every event intact
// and in order although events are decoded into memory it handled before,
// while another subscription to the same stream owns its events and finds
// them unchanged at the end. A first burst fills the queue (every event in
// flight needs memory of its own); a second burst, once the handler has
// caught up, is decoded into the memory of the first.
func TestBorrow(t *testing.T) {
	const name, total = "btcusdt@prices", 5000
	m := testMarket()
	s := startSim(t, m, sim.WithPublishInterval(0))
	c, _ := dial(t, m, s)
	var news, reused atomic.Int64
	st := stream(name)
	st.NewDecoder = func() runtime.StreamDecoder { return reuseDecoder{&news, &reused} }
	st.Deferred = true // decoded on the subscription's goroutine, into the event handled last

	borrowed := make(chan []int, 2)
	var seqs []int
	var handled atomic.Int64
	b, err := subscribeReady(c, ctx(t), st, func(v any) {
		ev := v.(*seqEvent)
		if ev.S != name {
			t.Errorf("borrowed event of stream %q", ev.S)
		}
		seqs = append(seqs, ev.Seq)
		handled.Add(1)
		if len(seqs)%500 == 0 && len(seqs) <= total {
			time.Sleep(5 * time.Millisecond) // let events queue up behind the handler
		}
		if len(seqs)%total == 0 {
			borrowed <- slices.Clone(seqs)
		}
	}, runtime.WithBorrow(), runtime.WithOverflow(runtime.Block))
	if err != nil {
		t.Fatal(err)
	}
	owned := make(chan []*seqEvent, 2)
	var kept []*seqEvent
	o, err := subscribeReady(c, ctx(t), st, func(v any) {
		kept = append(kept, v.(*seqEvent))
		if len(kept)%total == 0 {
			owned <- slices.Clone(kept)
		}
	}, runtime.WithOverflow(runtime.Block))
	if err != nil {
		t.Fatal(err)
	}
	wait := func(burst int) {
		t.Helper()
		select {
		case got := <-borrowed:
			checkConsecutive(t, name, got)
			if got[0] != 1 || len(got) != burst*total {
				t.Fatalf("the borrowing handler got %d events from %d", len(got), got[0])
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("burst %d: the borrowing handler got %d events (dropped %d)", burst, len(seqs), b.Dropped())
		}
		select {
		case got := <-owned:
			for i, ev := range got {
				if ev.Seq != i+1 || ev.S != name {
					t.Fatalf("kept event %d changed to %+v", i, *ev)
				}
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("burst %d: the owning handler got %d events (dropped %d)", burst, len(kept), o.Dropped())
		}
	}
	s.Blast(name, seqPayloads(name, 1, total))
	wait(1)
	// The second burst comes in steps the handler keeps up with, so that
	// fewer events are in flight than the first burst left behind.
	before := reused.Load()
	for from := total + 1; from <= 2*total; from += 100 {
		s.Blast(name, seqPayloads(name, from, from+99))
		eventually(t, 5*time.Second, func() bool { return handled.Load() >= int64(from+99) }, "step from %d", from)
	}
	wait(2)
	// The owning subscription needs a new event each time; the borrowing
	// one had the first burst's memory to decode the second into.
	if r := reused.Load() - before; r < total-10 {
		t.Fatalf("%d of the second burst's %d borrowed events reused memory (%d allocated in all)", r, total, news.Load())
	}
}

// TestInline checks WithInline: every event in order on the reader
// goroutine, decoded into reused memory, none dropped; Unsubscribe from
// another goroutine waits for a call in progress and none follows;
// Unsubscribe and Close from the handler itself return at once.
func TestInline(t *testing.T) {
	const name, total = "btcusdt@prices", 3000
	m := testMarket()
	s := startSim(t, m, sim.WithPublishInterval(0))
	c, rec := dial(t, m, s)
	var news, reused atomic.Int64
	st := stream(name)
	st.NewDecoder = func() runtime.StreamDecoder { return reuseDecoder{&news, &reused} }
	st.Deferred = true // decoded on the subscription's goroutine, into the event handled last

	var seqs []int
	all := make(chan struct{})
	sub, err := subscribeReady(c, ctx(t), st, func(v any) {
		seqs = append(seqs, v.(*seqEvent).Seq)
		if len(seqs) == total {
			close(all)
		}
	}, runtime.WithInline())
	if err != nil {
		t.Fatal(err)
	}
	s.Blast(name, seqPayloads(name, 1, total))
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		t.Fatalf("%d of %d events", len(seqs), total)
	}
	checkConsecutive(t, name, seqs)
	if sub.Dropped() != 0 || news.Load() > 2 {
		t.Fatalf("dropped %d, %d events allocated for %d", sub.Dropped(), news.Load(), total)
	}

	// Unsubscribe from another goroutine while the handler runs.
	const other = "ethusdt@prices"
	var calls, after atomic.Int64
	var unsubscribed atomic.Bool
	inCall := make(chan struct{}, 1)
	slow, err := subscribeReady(c, ctx(t), stream(other), func(any) {
		if unsubscribed.Load() {
			after.Add(1)
		}
		calls.Add(1)
		select {
		case inCall <- struct{}{}:
		default:
		}
		time.Sleep(20 * time.Millisecond)
	}, runtime.WithInline())
	if err != nil {
		t.Fatal(err)
	}
	go s.Blast(other, seqPayloads(other, 1, 50))
	<-inCall
	if err := slow.Unsubscribe(ctx(t)); err != nil {
		t.Fatal(err)
	}
	unsubscribed.Store(true)
	time.Sleep(50 * time.Millisecond)
	if after.Load() != 0 {
		t.Fatalf("%d calls after Unsubscribe returned", after.Load())
	}

	// Unsubscribe, then Close, from the handler itself.
	const third = "bnbusdt@prices"
	var self *runtime.Subscription
	returned := make(chan struct{})
	var n atomic.Int64
	self, err = subscribeReady(c, ctx(t), stream(third), func(any) {
		switch n.Add(1) {
		case 1:
			if err := self.Unsubscribe(ctx(t)); err != nil {
				t.Error(err)
			}
			c.Close()
			close(returned)
		default:
			t.Error("called after Unsubscribe")
		}
	}, runtime.WithInline())
	if err != nil {
		t.Fatal(err)
	}
	go s.Blast(third, seqPayloads(third, 1, 20))
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("Unsubscribe and Close from an inline handler did not return")
	}
	c.Close() // waits for the close the handler started
	rec.wait(t, runtime.EventClosed, nil)
	<-sub.Done()
}

// TestInlinePanic: a panic in an inline handler ends that subscription
// only; the connection's other streams go on.
func TestInlinePanic(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	c, rec := dial(t, m, s)
	bad, err := subscribeReady(c, ctx(t), stream("ethusdt@prices"), func(any) { panic("boom") }, runtime.WithInline())
	if err != nil {
		t.Fatal(err)
	}
	col := newCollector()
	if _, err := subscribeReady(c, ctx(t), stream("btcusdt@prices"), col.handle, runtime.WithInline()); err != nil {
		t.Fatal(err)
	}
	<-bad.Done()
	var perr *runtime.PanicError
	if !errors.As(bad.Err(), &perr) {
		t.Fatalf("Err = %v", bad.Err())
	}
	rec.wait(t, runtime.EventPanic, nil)
	col.waitLen(t, "btcusdt@prices", 5)
	checkConsecutive(t, "btcusdt@prices", col.get("btcusdt@prices"))
}
