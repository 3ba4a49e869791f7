package runtime_test

import (
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
)

// Tests for the defects of issue #9, each of which failed before its fix.

// A panicking handler ends only its subscription, reported with the stack;
// the other streams and the connection go on.
func TestHandlerPanicRecovered(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	c, rec := dial(t, m, s)
	calls := 0
	bad, err := subscribeReady(c, ctx(t), stream("btcusdt@prices"), func(any) {
		calls++
		if calls == 2 {
			panic("boom")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	good := newCollector()
	if _, err := subscribeReady(c, ctx(t), stream("ethusdt@prices"), good.handle); err != nil {
		t.Fatal(err)
	}
	<-bad.Done()
	var pe *runtime.PanicError
	if !errors.As(bad.Err(), &pe) || pe.Value != "boom" || !strings.Contains(string(pe.Stack), "TestHandlerPanicRecovered") {
		t.Fatalf("Err() = %v", bad.Err())
	}
	e := rec.wait(t, runtime.EventPanic, nil)
	if e.Subscription != bad || !errors.As(e.Err, &pe) {
		t.Fatalf("panic event %v", e)
	}
	rec.wait(t, runtime.EventSubscriptionClosed, func(e runtime.Event) bool { return e.Subscription == bad })
	n := len(good.get("ethusdt@prices"))
	good.waitLen(t, "ethusdt@prices", n+3)
	if calls != 2 {
		t.Fatalf("handler called %d times, want 2", calls)
	}
	eventually(t, 5*time.Second, func() bool { return len(s.OpenConns()[0].Streams) == 1 }, "panicked stream not unsubscribed: %v", conns(s))
	if c.Stats().Panics != 1 {
		t.Fatalf("stats %+v", c.Stats())
	}
}

// A panicking OnEvent handler is reported to the handlers as EventPanic and
// does not stop later events.
func TestEventHandlerPanicRecovered(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	var panics, closed atomic.Int32
	c, err := runtime.Dial(ctx(t), m, runtime.WithURL(s.URL()), runtime.OnEvent(func(e runtime.Event) {
		switch e.Kind {
		case runtime.EventConnected:
			panic("in OnEvent")
		case runtime.EventPanic:
			panics.Add(1)
		case runtime.EventClosed:
			closed.Add(1)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() bool { return panics.Load() == 1 }, "no panic event")
	c.Close()
	if closed.Load() != 1 {
		t.Fatal("no EventClosed after a handler panic")
	}
}

func TestNilHandlerRejected(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	c, _ := dial(t, m, s)
	if _, err := subscribeReady(c, ctx(t), stream("btcusdt@prices"), nil); err == nil || !strings.Contains(err.Error(), "nil handler") {
		t.Fatalf("err = %v", err)
	}
}

// After Unsubscribe returns, the handler is not called again; the events
// still queued are dropped and counted (before: 962 more calls).
func TestUnsubscribeStopsHandlerCalls(t *testing.T) {
	m := testMarket()
	s := startSim(t, m, sim.WithPublishInterval(0))
	c, _ := dial(t, m, s)
	const name = "btcusdt@prices"
	var calls atomic.Int64
	slow := make(chan struct{})
	sub, err := subscribeReady(c, ctx(t), stream(name), func(any) {
		calls.Add(1)
		<-slow
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Blast(name, seqPayloads(name, 1, 500))
	eventually(t, 5*time.Second, func() bool { return calls.Load() == 1 && c.Stats().Frames >= 501 }, "handler not called or frames missing")
	go func() { time.Sleep(20 * time.Millisecond); close(slow) }()
	if err := sub.Unsubscribe(ctx(t)); err != nil {
		t.Fatal(err)
	}
	after := calls.Load()
	time.Sleep(50 * time.Millisecond)
	if calls.Load() != after || after != 1 {
		t.Fatalf("%d calls after Unsubscribe returned (%d before)", calls.Load()-after, after)
	}
	if sub.Dropped() == 0 || sub.Dropped()+uint64(after) > 500 {
		t.Fatalf("Dropped() = %d", sub.Dropped())
	}
}

// Close discards the queue instead of draining it through a slow handler,
// and Close from inside a handler returns.
func TestCloseDiscardsAndFromHandler(t *testing.T) {
	m := testMarket()
	s := startSim(t, m, sim.WithPublishInterval(0))
	c, _ := dial(t, m, s)
	const name = "btcusdt@prices"
	var calls atomic.Int64
	if _, err := subscribeReady(c, ctx(t), stream(name), func(any) {
		calls.Add(1)
		time.Sleep(5 * time.Millisecond)
	}); err != nil {
		t.Fatal(err)
	}
	s.Blast(name, seqPayloads(name, 1, 1000))
	eventually(t, 5*time.Second, func() bool { return calls.Load() > 0 }, "handler not called")
	start := time.Now()
	c.Close()
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %v with a slow handler (it drained the queue)", d)
	}
	if n := calls.Load(); n > 100 {
		t.Fatalf("%d handler calls", n)
	}

	c2, _ := dial(t, m, s)
	returned := make(chan struct{})
	if _, err := subscribeReady(c2, ctx(t), stream(name), func(any) {
		c2.Close()
		close(returned)
	}); err != nil {
		t.Fatal(err)
	}
	s.Publish(name, seqPayloads(name, 1, 1)[0])
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("Close called from a handler did not return")
	}
}

// A flood of bad frames costs a bounded number of events, which still count
// every frame, and Close stays fast (before: 200,000 frames queued 99 MB of
// events and Close took minutes).
func TestBadFramesCoalesced(t *testing.T) {
	m := testMarket()
	s := startSim(t, m, sim.WithPublishInterval(0))
	var events, counted atomic.Uint64
	block := make(chan struct{})
	c, err := runtime.Dial(ctx(t), m, runtime.WithURL(s.URL()), runtime.WithDropReportInterval(50*time.Millisecond), runtime.OnEvent(func(e runtime.Event) {
		if e.Kind == runtime.EventError {
			<-block // a slow event handler
			events.Add(1)
			counted.Add(e.Count)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := subscribeReady(c, ctx(t), stream("btcusdt@prices"), func(any) {}); err != nil {
		t.Fatal(err)
	}
	const bad = 20000
	frames := make([][]byte, bad)
	for i := range frames {
		frames[i] = []byte(`{"s":"btcusdt@prices","seq":"x"}`)
	}
	s.Blast("btcusdt@prices", frames)
	eventually(t, 10*time.Second, func() bool { return c.Stats().Rejected == bad }, "rejected %d of %d", c.Stats().Rejected, bad)
	close(block)
	c.Close()
	if counted.Load() != bad {
		t.Fatalf("events count %d bad frames, want %d", counted.Load(), bad)
	}
	if events.Load() > 100 {
		t.Fatalf("%d events for %d bad frames", events.Load(), bad)
	}
}

// A subscription's queue is bounded in bytes too.
func TestQueueBytesBound(t *testing.T) {
	m := testMarket()
	s := startSim(t, m, sim.WithPublishInterval(0))
	c, _ := dial(t, m, s)
	const name = "btcusdt@prices"
	release := make(chan struct{})
	col := newCollector()
	sub, err := subscribeReady(c, ctx(t), stream(name), func(v any) { <-release; col.handle(v) },
		runtime.WithQueueBytes(10*30), runtime.WithOverflow(runtime.DropOldest))
	if err != nil {
		t.Fatal(err)
	}
	s.Blast(name, seqPayloads(name, 1, 200))
	// Every frame read (the subscribe reply and 200 payloads) before the handler goes on.
	eventually(t, 5*time.Second, func() bool { return c.Stats().Frames >= 201 }, "frames %d", c.Stats().Frames)
	close(release)
	eventually(t, 5*time.Second, func() bool { return int(sub.Dropped())+len(col.get(name)) == 200 }, "lost events")
	// At most 10 queued, and 10 more taken by the handler's goroutine with the blocked one.
	if got := len(col.get(name)); got > 21 {
		t.Fatalf("%d events queued within 300 bytes of ~30-byte payloads", got)
	}
}

// A resubscription the server refuses as a whole is split until the refused
// part is found: the other streams keep flowing (before: one error ended the
// whole batch, and the socket stayed up carrying nothing).
func TestRefusedResubscribeSplit(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	c, rec := dial(t, m, s)
	names := []string{"aaa@prices", "bbb@prices", "ccc@prices", "ddd@prices"}
	col := newCollector()
	for _, n := range names {
		if _, err := subscribeReady(c, ctx(t), stream(n), col.handle); err != nil {
			t.Fatal(err)
		}
	}
	s.RejectNextSubscribe(2, "Invalid request")
	s.DropConnections()
	rec.wait(t, runtime.EventResubscribed, nil)
	for _, n := range names {
		k := len(col.get(n))
		col.waitLen(t, n, k+3)
	}
	if k := rec.count(runtime.EventSubscriptionClosed); k != 0 {
		t.Fatalf("%d subscriptions ended: %v", k, rec)
	}
}

// A lost socket reconnects at once; one lost right after it subscribed
// waits longer each time (before: about one reconnect a second, forever).
func TestReconnectBackoffGrows(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	c, rec := dial(t, m, s, runtime.WithBackoff(runtime.Backoff{Initial: 40 * time.Millisecond, Max: time.Second, Factor: 2, Jitter: 0.1}))
	if _, err := subscribeReady(c, ctx(t), stream("btcusdt@prices"), func(any) {}); err != nil {
		t.Fatal(err)
	}
	var at []time.Time
	for range 5 {
		s.DropConnections()
		e := rec.wait(t, runtime.EventResubscribed, func(e runtime.Event) bool {
			return len(at) == 0 || e.Time.After(at[len(at)-1])
		})
		at = append(at, e.Time)
	}
	// Each drop came right after a resubscribe (younger than WithStableAfter):
	// the waits grow, roughly 0, 40, 80, 160, 320 ms.
	var waits []time.Duration
	for i := 1; i < len(at); i++ {
		waits = append(waits, at[i].Sub(at[i-1]))
	}
	if waits[len(waits)-1] < 250*time.Millisecond || waits[len(waits)-1] < 2*waits[0] {
		t.Fatalf("waits between reconnects do not grow: %v", waits)
	}
}

// A half-open socket (the server sends nothing at all) is noticed within
// the read timeout, while a quiet but healthy one stays up thanks to probes.
func TestQuietSocketProbed(t *testing.T) {
	m := testMarket()
	m.Dialect.ProbePing = true
	s := startSim(t, m, sim.WithPublishInterval(0), sim.WithPing(0, 0))
	c, rec := dial(t, m, s, runtime.WithReadTimeout(600*time.Millisecond))
	if _, err := subscribeReady(c, ctx(t), stream("btcusdt@prices"), func(any) {}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // three read timeouts with no data and no server pings
	if k := rec.count(runtime.EventDisconnected); k != 0 {
		t.Fatalf("a quiet, healthy socket was dropped: %v", rec)
	}
	start := time.Now()
	s.Silence()
	e := rec.wait(t, runtime.EventDisconnected, nil)
	if d := time.Since(start); d > 900*time.Millisecond || !errors.Is(e.Err, runtime.ErrNoData) {
		t.Fatalf("half-open socket noticed after %v: %v", d, e)
	}
}

// Reconnects stay within the connection budget, so the server never refuses
// an attempt, however often the connection drops.
func TestConnectionBudgetKept(t *testing.T) {
	m := testMarket()
	const n, per = 4, time.Second
	// The server counts over a shorter window than the client's budget, so
	// that handshakes delayed unevenly by a loaded machine still fit.
	s := startSim(t, m, sim.WithConnectionBudget(n, per*7/10))
	c, rec := dial(t, m, s, runtime.WithConnectionBudget(n, per),
		runtime.WithBackoff(runtime.Backoff{Initial: time.Millisecond, Max: 2 * time.Millisecond, Factor: 2, Jitter: 0.1}))
	if _, err := subscribeReady(c, ctx(t), stream("btcusdt@prices"), func(any) {}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := 0; i < 8; i++ {
		k := rec.count(runtime.EventResubscribed)
		s.DropConnections()
		eventually(t, 5*time.Second, func() bool { return rec.count(runtime.EventResubscribed) > k }, "no reconnect after drop %d", i+1)
	}
	v := s.Violations()
	if v.ConnectionAttempts != 0 || v.MaxAttemptsPerWindow > n {
		t.Fatalf("budget broken: %+v", v)
	}
	// 9 connections at 4 per second take at least two seconds.
	if d := time.Since(start); d < 1500*time.Millisecond {
		t.Fatalf("9 connections in %v with a budget of %d per %v", d, n, per)
	}
}

// A payload whose sequence key reads but which does not decode is rejected
// by the subscription's goroutine, which decodes a Deferred stream: it is
// reported once, with its stream, counted, and skipped; the events around
// it arrive in order, and no gap is reported, since its key was read. A
// subscriber decoding on the reader rejects it too.
func TestDeferredDecodeError(t *testing.T) {
	m := testMarket()
	s := startSim(t, m, sim.WithPublishInterval(0))
	c, rec := dial(t, m, s)
	const name = "btcusdt@prices"
	deferred, reader := newCollector(), newCollector()
	if _, err := subscribeReady(c, ctx(t), stream(name), deferred.handle); err != nil {
		t.Fatal(err)
	}
	if _, err := subscribeReady(c, ctx(t), readerStream(name), reader.handle); err != nil {
		t.Fatal(err)
	}
	frames := seqPayloads(name, 1, 3)
	frames[1] = []byte(`{"s":"btcusdt@prices","seq":2,"x":tru}`)
	s.Blast(name, frames)
	deferred.waitLen(t, name, 2)
	reader.waitLen(t, name, 2)
	if got := deferred.get(name); !slices.Equal(got, []int{1, 3}) {
		t.Fatalf("deferred subscription got %v, want [1 3]", got)
	}
	if got := reader.get(name); !slices.Equal(got, []int{1, 3}) {
		t.Fatalf("reader-decoded subscription got %v, want [1 3]", got)
	}
	eventually(t, 5*time.Second, func() bool { return c.Stats().Rejected == 2 }, "rejected %d, want 2 (one per subscription)", c.Stats().Rejected)
	ev := rec.wait(t, runtime.EventError, func(e runtime.Event) bool { return e.Stream == name })
	var fe *runtime.FrameError
	if !errors.As(ev.Err, &fe) {
		t.Fatalf("error %v is not a *FrameError", ev.Err)
	}
	if n := rec.count(runtime.EventGap); n != 0 {
		t.Fatalf("%d gaps reported: %v", n, rec)
	}
}
