package bench

import (
	"context"
	"fmt"
	goruntime "runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
)

// manyStreams is the stream count of BenchmarkManyStreams (issue 11).
const manyStreams = 10_000

// manySimResult is what runManySim measured.
type manySimResult struct {
	confirm    time.Duration // SubscribeAll from cold until every stream was confirmed
	conns      int           // the Conn's connections once all were confirmed
	flowing    time.Duration // from the start until every stream had delivered an event
	recover    time.Duration // from DropConnections until every stream delivered an event published after it
	connsAfter int           // the server's open connections after the recovery
	before     sim.Violations
	after      sim.Violations
	maxRate    int     // most client frames one connection sent within one second (the server's count)
	rate       float64 // events/s delivered in the steady state after the recovery
	dropped    uint64  // events the subscriptions dropped
}

// runManySim subscribes n aggTrade streams from cold through the spot
// simulator with the market's own limits (streams per connection, control
// messages per second, connection budget: the defaults of both the server
// and the Conn), waits until every stream delivers, then drops every
// connection at once and waits until every stream delivers an event
// published after the drop; then it measures the delivered rate for
// measure. The server publishes one event per stream every publish.
func runManySim(tb testing.TB, n int, publish, measure time.Duration) (res manySimResult, err error) {
	srv := sim.New(&spot.Market, sim.WithSource(&sim.Numbered{}), sim.WithPublishInterval(publish))
	if err := srv.Start(); err != nil {
		return res, err
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	start := time.Now()
	c, err := runtime.Dial(ctx, &spot.Market, runtime.WithURL(srv.URL()))
	if err != nil {
		return res, err
	}
	defer c.Close()

	syms := symbols(n)
	index := make(map[string]int, n)
	ps := make([]spot.StreamParams, n)
	for i, s := range syms {
		index[s] = i
		ps[i] = spot.AggTradeParams{Symbol: s}
	}
	last := make([]atomic.Int64, n) // event time of each stream's last event
	var events atomic.Int64
	handle := func(p spot.Payload) {
		if ev, ok := p.(*spot.AggTradeEvent); ok {
			if i, ok := index[ev.Symbol]; ok {
				last[i].Store(int64(ev.EventTime))
			}
		}
		events.Add(1)
	}
	subs, err := spot.SubscribeAll(ctx, c, ps, handle)
	res.confirm = time.Since(start)
	if err != nil {
		return res, err
	}
	res.conns = len(c.Stats().Connections)
	if err := waitFlowing(ctx, last, 0); err != nil {
		return res, fmt.Errorf("from cold: %w (%d events; %s)", err, events.Load(), describe(srv, c))
	}
	res.flowing = time.Since(start)
	res.before = srv.Violations()

	drop := time.Now()
	if k := srv.DropConnections(); k != res.conns {
		return res, fmt.Errorf("dropped %d connections, the Conn had %d (%s)", k, res.conns, describe(srv, c))
	}
	if err := waitFlowing(ctx, last, drop.UnixMilli()); err != nil {
		return res, fmt.Errorf("after the drop: %w (%d events; %s)", err, events.Load(), describe(srv, c))
	}
	res.recover = time.Since(drop)
	res.connsAfter = len(srv.OpenConns())

	e0, t0 := events.Load(), time.Now()
	time.Sleep(measure)
	res.rate = float64(events.Load()-e0) / time.Since(t0).Seconds()

	res.after = srv.Violations()
	for _, ci := range srv.Conns() {
		res.maxRate = max(res.maxRate, ci.MaxRate)
	}
	for _, s := range subs {
		res.dropped += s.Dropped()
	}
	return res, nil
}

// describe summarizes the server's connections and the Conn's, for an error.
func describe(srv *sim.Server, c *runtime.Conn) string {
	var b strings.Builder
	for _, ci := range srv.Conns() {
		fmt.Fprintf(&b, "server conn %d: open %v, %d streams, closed %q; ", ci.ID, ci.Open, len(ci.Streams), ci.Closed)
	}
	st := c.Stats()
	fmt.Fprintf(&b, "client: %d frames, %d sent, connections %+v", st.Frames, st.Sent, st.Connections)
	return b.String()
}

// waitFlowing waits until every stream's last event time is later than
// after (milliseconds since the epoch).
func waitFlowing(ctx context.Context, last []atomic.Int64, after int64) error {
	i := 0
	for {
		for i < len(last) && last[i].Load() > after {
			i++
		}
		if i == len(last) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stream %d of %d delivers nothing: %w", i+1, len(last), ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// manySteadyResult is what runManySteady measured.
type manySteadyResult struct {
	conns    int
	idle     float64 // heap and goroutine-stack bytes per subscribed idle stream
	cpu      float64 // process CPU (user + system) ns per event delivered
	rate     float64 // events/s delivered
	perWrite float64 // frames per feed write
}

// runManySteady subscribes n aggTrade streams through the pre-serialized
// feed (which spends nothing per stream or message besides its writes),
// measures the memory the idle streams hold, then paces rate frames/s in
// all (every stream at the same rate, each connection's frames written
// together every millisecond) for dur and measures the process CPU time
// per event delivered: the runtime, the handlers and the feed's writes.
func runManySteady(tb testing.TB, n int, rate float64, dur, tick time.Duration) (res manySteadyResult, err error) {
	f := newFeed(tb, nil, binance, n)
	c, err := dialRuntime(&spot.Market, f, runtime.WithControlRate(0, 0))
	if err != nil {
		return res, err
	}
	defer c.Close()
	ps := make([]spot.StreamParams, n)
	for i, s := range symbols(n) {
		ps[i] = spot.AggTradeParams{Symbol: s}
	}
	var events atomic.Int64
	handle := func(spot.Payload) { events.Add(1) }
	before := heapAndStacks()
	subs, err := spot.SubscribeAll(context.Background(), c, ps, handle)
	if err != nil {
		return res, err
	}
	res.idle = float64(heapAndStacks()-before) / float64(n)
	res.conns = len(c.Stats().Connections)

	f.mu.Lock()
	conns := slices.Clone(f.conns)
	f.mu.Unlock()
	perStream := int(rate * dur.Seconds() / float64(n))
	type paced struct {
		fc          *feedConn
		fr          *frames
		rate        float64 // frames/s
		total, sent int
	}
	var ps2 []*paced
	total := 0
	for _, fc := range conns {
		names := fc.streams()
		if len(names) == 0 {
			continue
		}
		reps := max(1, 4000/len(names))
		fr := serialize(len(names)*reps, func(j int) ([]byte, int64) {
			name := names[j%len(names)]
			sym, _, _ := strings.Cut(name, "@")
			a := int64(j/len(names) + 1)
			return fmt.Appendf(nil, `{"stream":"%s","data":%s}`, name, aggTradeData(strings.ToUpper(sym), a)), a
		})
		p := &paced{fc: fc, fr: fr, rate: rate * float64(len(names)) / float64(n), total: perStream * len(names)}
		ps2 = append(ps2, p)
		total += p.total
	}
	if len(ps2) != res.conns {
		return res, fmt.Errorf("the feed has %d connections with streams, the Conn %d", len(ps2), res.conns)
	}

	cpu0 := cpuTime()
	t0 := time.Now()
	writes := 0
	var werr error
	for done := false; !done && werr == nil; {
		time.Sleep(tick)
		el := time.Since(t0).Seconds()
		done = true
		for _, p := range ps2 {
			due := min(int(el*p.rate), p.total)
			for p.sent < due && werr == nil {
				k := p.fr.k()
				i := p.sent % k
				m := min(due-p.sent, k-i)
				werr = p.fc.write(p.fr.buf[p.fr.off[i]:p.fr.off[i+m]])
				p.sent += m
				writes++
			}
			done = done && p.sent == p.total
		}
	}
	if werr != nil {
		return res, werr
	}
	// Wait for the events still on their way.
	var dropped uint64
	for last, stall := int64(-1), 0; ; time.Sleep(time.Millisecond) {
		dropped = 0
		for _, s := range subs {
			dropped += s.Dropped()
		}
		e := events.Load()
		if e+int64(dropped) >= int64(total) {
			break
		}
		if e == last {
			if stall++; stall > 2000 {
				return res, fmt.Errorf("%d events of %d delivered, %d dropped", e, total, dropped)
			}
		} else {
			last, stall = e, 0
		}
	}
	el := time.Since(t0)
	res.cpu = float64(cpuTime()-cpu0) / float64(total)
	res.rate = float64(total) / el.Seconds()
	res.perWrite = float64(total) / float64(max(writes, 1))
	if dropped > 0 {
		return res, fmt.Errorf("%d events of %d dropped", dropped, total)
	}
	return res, nil
}

// heapAndStacks returns the bytes of live heap objects and goroutine stacks
// after a full collection.
func heapAndStacks() uint64 {
	goruntime.GC()
	goruntime.GC()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return ms.HeapAlloc + ms.StackInuse
}

// BenchmarkManyStreams measures issue 11's scale figures. Fixed runs: b.N
// is ignored and ns/op is not reported.
//
//   - subscribe/streams=10000: 10,000 aggTrade streams subscribed from cold
//     (SubscribeAll) through the spot simulator with the market's own limits
//     (1,024 streams per connection, 5 control messages/s, 300 connections
//     per 5 min, batches of the Dialect's 200 streams), the simulator
//     publishing one event per stream every 200 ms (50,000 msg/s nominal).
//     confirm-s: until SubscribeAll returned (every stream confirmed);
//     flowing-s: until every stream had delivered an event; conns: the
//     Conn's connections (the limit allows 10 at least); recover-s: from
//     the simulator dropping every connection at once until every stream
//     delivered an event published after the drop; violations and
//     recover-violations: the simulator's count of limit violations
//     (refused handshakes, 1008 closes, refused subscribes) before and
//     after the drop; max-msgs/s: the most client frames one connection
//     sent within a second; sim-msg/s: events delivered per second after
//     the recovery (what the simulator managed of the nominal 50,000).
//   - steady/streams=1 and steady/streams=10000: the pre-serialized feed
//     paced at 50,000 msg/s in all for 3 s, every stream at the same rate.
//     cpu-ns/msg: process CPU time (user + system, the feed's writes
//     included) per event delivered; x-1stream: over the one-stream run's
//     in the same run; idle-B/stream: live heap and goroutine stacks per
//     subscribed stream before any data (the Conn's connections, the
//     subscriptions and their goroutines); frames/write: frames per feed
//     write (the feed writes each connection's due frames every
//     millisecond).
func BenchmarkManyStreams(b *testing.B) {
	b.Run(fmt.Sprintf("subscribe/streams=%d", manyStreams), func(b *testing.B) {
		res, err := runManySim(b, manyStreams, 200*time.Millisecond, 2*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(res.confirm.Seconds(), "confirm-s")
		b.ReportMetric(res.flowing.Seconds(), "flowing-s")
		b.ReportMetric(float64(res.conns), "conns")
		b.ReportMetric(float64(violations(res.before)), "violations")
		b.ReportMetric(res.recover.Seconds(), "recover-s")
		b.ReportMetric(float64(violations(res.after)-violations(res.before)), "recover-violations")
		b.ReportMetric(float64(res.maxRate), "max-msgs/s")
		b.ReportMetric(res.rate, "sim-msg/s")
		b.ReportMetric(float64(res.dropped), "dropped")
	})
	// Each feed write carries about 50 frames for its connection in the
	// first two runs: one connection at 50,000 msg/s every millisecond, ten
	// at 5,000 msg/s each every 10 ms. The third writes every millisecond
	// (5 frames a write): more, smaller reads.
	var one float64
	for _, r := range []struct {
		name string
		n    int
		tick time.Duration
	}{
		{"streams=1", 1, time.Millisecond},
		{fmt.Sprintf("streams=%d", manyStreams), manyStreams, 10 * time.Millisecond},
		{fmt.Sprintf("streams=%d/tick=1ms", manyStreams), manyStreams, time.Millisecond},
	} {
		b.Run("steady/"+r.name, func(b *testing.B) {
			res, err := runManySteady(b, r.n, 50_000, 3*time.Second, r.tick)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(res.cpu, "cpu-ns/msg")
			if r.n == 1 {
				one = res.cpu
			} else {
				if one > 0 {
					b.ReportMetric(res.cpu/one, "x-1stream")
				}
				b.ReportMetric(res.idle, "idle-B/stream")
			}
			b.ReportMetric(float64(res.conns), "conns")
			b.ReportMetric(res.rate, "msg/s")
			b.ReportMetric(res.perWrite, "frames/write")
		})
	}
}

func violations(v sim.Violations) int { return v.ConnectionAttempts + v.Messages + v.Streams }

// TestManyHarness runs both halves of BenchmarkManyStreams on 1,100
// streams, beyond one connection's 1,024, with the spot market's own
// limits: two connections, no violation, every stream flowing again after
// all connections drop.
func TestManyHarness(t *testing.T) {
	const n = 1100
	res, err := runManySim(t, n, 100*time.Millisecond, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.conns != 2 || res.connsAfter != 2 {
		t.Errorf("%d connections, %d after the drop; want 2", res.conns, res.connsAfter)
	}
	if v := res.after; violations(v) != 0 || v.MaxAttemptsPerWindow > 4 {
		t.Errorf("violations: %+v", v)
	}
	if res.maxRate > spot.Market.Limits.ControlMessagesPerSecond {
		t.Errorf("a connection sent %d frames within a second", res.maxRate)
	}
	t.Logf("confirmed in %v, flowing after %v, again %v after the drop, %.0f msg/s", res.confirm, res.flowing, res.recover, res.rate)
	st, err := runManySteady(t, n, 5000, 500*time.Millisecond, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if st.conns != 2 {
		t.Errorf("%d connections, want 2", st.conns)
	}
	t.Logf("%.0f ns CPU/msg, %.0f B/idle stream, %.0f msg/s", st.cpu, st.idle, st.rate)
}
