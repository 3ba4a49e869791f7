package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
)

// The fault suite: a simulator that keeps publishing numbered aggTrade
// events (a = 1, 2, 3, … per stream) whether or not the client is
// connected, a client through the generated spot bindings, and one test per
// fault. Each counts, per stream, what was published while the client
// listened, what arrived, what was lost, duplicated or reordered, and checks
// that every lost event lies in a gap the runtime reported (EventGap) or was
// dropped by the overflow policy and counted. TestFaults prints the table.

// faultRow is one scenario's counts.
type faultRow struct {
	scenario               string
	sent, received, lost   int64
	reported, dup, reorder int64
	dropped                uint64
	pause                  time.Duration // longest gap between two deliveries
	goroutines             int
	heapKB                 uint64
}

var (
	faultMu    sync.Mutex
	faultTable []faultRow
)

// faultRig is one simulator and one client.
type faultRig struct {
	t   *testing.T
	src *sim.Numbered
	srv *sim.Server
	c   *runtime.Conn
	rec *recorder

	mu   sync.Mutex
	ids  map[string][]int64 // per stream, in delivery order
	last time.Time
	gap  time.Duration // longest pause between deliveries
}

const faultTick = 2 * time.Millisecond

func newFaultRig(t *testing.T, simOpts []sim.Option, dialOpts ...runtime.Option) *faultRig {
	t.Helper()
	r := &faultRig{t: t, src: &sim.Numbered{}, ids: map[string][]int64{}}
	r.srv = sim.New(&spot.Market, append([]sim.Option{sim.WithSource(r.src), sim.WithPublishInterval(faultTick)}, simOpts...)...)
	if err := r.srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.srv.Close)
	// Every gap is its own event (no coalescing), so that tally sees each range.
	dialOpts = append([]runtime.Option{runtime.WithDropReportInterval(time.Nanosecond)}, dialOpts...)
	fast := runtime.WithBackoff(runtime.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond, Factor: 2, Jitter: 0.2})
	r.c, r.rec = dialMarket(t, &spot.Market, r.srv.URL(), append([]runtime.Option{fast}, dialOpts...)...)
	return r
}

// subscribe subscribes to symbol's aggTrade stream and records its ids.
// subscribe subscribes to symbol's aggTrade stream and waits for the
// server's confirmation.
func (r *faultRig) subscribe(symbol string, opts ...runtime.SubscribeOption) (*runtime.Subscription, error) {
	name := strings.ToLower(symbol) + "@aggTrade"
	sub, err := spot.SubscribeAggTrade(testCtx(r.t), r.c, spot.AggTradeParams{Symbol: symbol}, func(ev *spot.AggTradeEvent) {
		r.add(name, ev.AggTradeID)
	}, opts...)
	if err != nil {
		return nil, err
	}
	return sub, sub.Ready(testCtx(r.t))
}

func (r *faultRig) mustSubscribe(symbol string, opts ...runtime.SubscribeOption) *runtime.Subscription {
	r.t.Helper()
	sub, err := r.subscribe(symbol, opts...)
	if err != nil {
		r.t.Fatal(err)
	}
	return sub
}

func (r *faultRig) add(name string, id int64) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.last.IsZero() {
		r.gap = max(r.gap, now.Sub(r.last))
	}
	r.last = now
	r.ids[name] = append(r.ids[name], id)
}

func (r *faultRig) got(name string) []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids[name])
}

// more waits until n more events of stream arrived.
func (r *faultRig) more(name string, n int) {
	r.t.Helper()
	k := len(r.got(name))
	waitFor(r.t, fmt.Sprintf("%d more events of %s (have %d)", n, name, k), func() bool { return len(r.got(name)) >= k+n })
}

// tally counts stream's events between the first and last delivered, and
// fails on any duplicate, reorder, or loss outside a reported gap (or, with
// dropped > 0, beyond the events the overflow policy dropped).
func (r *faultRig) tally(scenario, name string, dropped uint64) faultRow {
	r.t.Helper()
	ids := r.got(name)
	row := faultRow{scenario: scenario, received: int64(len(ids)), dropped: dropped}
	if len(ids) == 0 {
		r.t.Fatalf("%s: no events", name)
	}
	seen := map[int64]bool{}
	lo, hi := ids[0], ids[0]
	for i, id := range ids {
		if seen[id] {
			row.dup++
		}
		seen[id] = true
		if i > 0 && id < ids[i-1] {
			row.reorder++
		}
		lo, hi = min(lo, id), max(hi, id)
	}
	row.sent = hi - lo + 1
	var gaps [][2]int64
	waitFor(r.t, "every gap reported", func() bool {
		gaps = gaps[:0]
		n := uint64(0)
		for _, e := range r.rec.all() {
			if e.Kind == runtime.EventGap {
				n += e.Count
				if e.Stream == name {
					gaps = append(gaps, [2]int64{e.From, e.To})
				}
			}
		}
		return n == r.c.Stats().Gaps
	})
	var unexplained int64
	for id := lo; id <= hi; id++ {
		if seen[id] {
			continue
		}
		row.lost++
		in := false
		for _, g := range gaps {
			in = in || g[0] <= id && id <= g[1]
		}
		if in {
			row.reported++
		} else {
			unexplained++
		}
	}
	r.mu.Lock()
	row.pause = r.gap
	r.mu.Unlock()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	row.goroutines, row.heapKB = goruntime.NumGoroutine(), ms.HeapAlloc>>10
	faultMu.Lock()
	faultTable = append(faultTable, row)
	faultMu.Unlock()
	if row.dup != 0 || row.reorder != 0 {
		r.t.Errorf("%s: %d duplicated, %d reordered", name, row.dup, row.reorder)
	}
	// Dropped events are counted, not named: they explain as many losses (the
	// count also includes events still queued when the subscription ended).
	if unexplained > 0 && dropped > 0 {
		unexplained = max(0, unexplained-int64(dropped))
	}
	if unexplained != 0 {
		r.t.Errorf("%s: %d events lost outside reported gaps (lost %d, in gaps %d, dropped %d); gaps %v", name, unexplained, row.lost, row.reported, dropped, gaps)
	}
	return row
}

func (r *faultRig) waitEvent(kind runtime.EventKind, ok func(runtime.Event) bool) runtime.Event {
	r.t.Helper()
	var found runtime.Event
	waitFor(r.t, fmt.Sprintf("a %v event", kind), func() bool {
		for _, e := range r.rec.all() {
			if e.Kind == kind && (ok == nil || ok(e)) {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

const btc = "btcusdt@aggTrade"

func TestFaults(t *testing.T) {
	t.Cleanup(printFaultTable)
	t.Run("abrupt close x20", func(t *testing.T) {
		r := newFaultRig(t, nil)
		r.mustSubscribe("BTCUSDT")
		for range 20 {
			r.more(btc, 5)
			r.srv.DropConnections()
		}
		r.more(btc, 20)
		if k := r.rec.count(runtime.EventDisconnected); k < 20 {
			t.Fatalf("%d disconnects for 20 drops", k)
		}
		if row := r.tally("abrupt close x20", btc, 0); row.lost == 0 {
			t.Fatal("20 drops of a socket lost nothing: the server did not publish while the client was away")
		}
	})
	t.Run("half-open", func(t *testing.T) {
		r := newFaultRig(t, nil, runtime.WithReadTimeout(time.Second))
		r.mustSubscribe("BTCUSDT")
		r.more(btc, 5)
		start := time.Now()
		r.srv.Silence()
		e := r.waitEvent(runtime.EventDisconnected, nil)
		if d := time.Since(start); !errors.Is(e.Err, runtime.ErrNoData) || d > 1500*time.Millisecond {
			t.Fatalf("half-open socket noticed after %v: %v", d, e)
		}
		r.more(btc, 20)
		r.tally("half-open", btc, 0)
	})
	t.Run("no pong", func(t *testing.T) {
		r := newFaultRig(t, nil, runtime.WithReadTimeout(500*time.Millisecond))
		r.mustSubscribe("BTCUSDT")
		r.more(btc, 5)
		r.srv.NoPong()
		time.Sleep(time.Second) // data keeps the socket alive; probes are not needed
		r.more(btc, 5)
		if k := r.rec.count(runtime.EventDisconnected); k != 0 {
			t.Fatalf("%d disconnects while data flowed", k)
		}
		if row := r.tally("no pong", btc, 0); row.lost != 0 {
			t.Fatalf("lost %d", row.lost)
		}
	})
	t.Run("ping storm", func(t *testing.T) {
		r := newFaultRig(t, nil)
		r.mustSubscribe("BTCUSDT")
		r.more(btc, 5)
		r.srv.PingStorm(200)
		time.Sleep(1500 * time.Millisecond)
		r.more(btc, 5)
		if k := r.rec.count(runtime.EventDisconnected); k != 0 || r.srv.Violations().Messages != 0 {
			t.Fatalf("%d disconnects, violations %+v", k, r.srv.Violations())
		}
		if row := r.tally("ping storm", btc, 0); row.lost != 0 {
			t.Fatalf("lost %d", row.lost)
		}
	})
	for _, lag := range []time.Duration{0, 5 * time.Millisecond, 20 * time.Millisecond, 100 * time.Millisecond, 500 * time.Millisecond} {
		for _, ahead := range []bool{false, true} {
			where := "behind"
			if ahead {
				where = "ahead"
			}
			name := fmt.Sprintf("shutdown notice, new socket %v %s", lag, where)
			t.Run(name, func(t *testing.T) {
				latency := func(id int) time.Duration {
					if id == 1 == ahead { // the old socket is conn 1
						return lag
					}
					return 0
				}
				r := newFaultRig(t, []sim.Option{sim.WithLatency(latency)})
				r.mustSubscribe("BTCUSDT")
				r.more(btc, 20)
				r.srv.SendServerShutdown(0)
				r.waitEvent(runtime.EventReplaced, nil)
				r.more(btc, 20)
				if row := r.tally(name, btc, 0); row.lost != 0 {
					t.Fatalf("a replacement lost %d events", row.lost)
				}
				if k := r.rec.count(runtime.EventDisconnected); k != 0 {
					t.Fatalf("%d disconnects during a replacement", k)
				}
			})
		}
	}
	t.Run("lifetime rotation x5", func(t *testing.T) {
		r := newFaultRig(t, nil, runtime.WithReplaceAfter(300*time.Millisecond))
		r.mustSubscribe("BTCUSDT")
		waitFor(t, "5 replacements", func() bool { return r.rec.count(runtime.EventReplaced) >= 5 })
		r.more(btc, 10)
		if row := r.tally("lifetime rotation x5", btc, 0); row.lost != 0 {
			t.Fatalf("rotations lost %d events", row.lost)
		}
	})
	t.Run("shutdown notice then close", func(t *testing.T) {
		r := newFaultRig(t, nil)
		r.mustSubscribe("BTCUSDT")
		r.more(btc, 20)
		r.srv.SendServerShutdownAndClose()
		r.waitEvent(runtime.EventResubscribed, nil)
		r.more(btc, 20)
		r.tally("shutdown notice then close", btc, 0)
	})
	t.Run("malformed and oversized frames", func(t *testing.T) {
		r := newFaultRig(t, nil, runtime.WithReadLimit(64<<10))
		r.mustSubscribe("BTCUSDT")
		r.more(btc, 5)
		for range 100 {
			r.srv.SendMalformed()
		}
		r.more(btc, 5)
		if k := r.rec.count(runtime.EventDisconnected); k != 0 {
			t.Fatalf("malformed frames broke the socket")
		}
		r.srv.SendOversized(128 << 10)
		r.waitEvent(runtime.EventResubscribed, nil)
		r.more(btc, 20)
		if st := r.c.Stats(); st.Malformed != 100 {
			t.Fatalf("stats %+v, want 100 malformed", st)
		}
		r.tally("malformed and oversized frames", btc, 0)
	})
	t.Run("unknown kinds and control frames", func(t *testing.T) {
		r := newFaultRig(t, nil)
		r.mustSubscribe("BTCUSDT")
		r.more(btc, 5)
		for _, f := range []string{
			`{"stream":"btcusdt@aggTrade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1,"m":true,"M":true}}`,
			`{"stream":"btcusdt@aggTrade","data":{}}`,
			`{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1,"s":"BTCUSDT","p":"1"}}`,
			`{"e":"somethingNew","E":1}`,
			`{"result":null,"id":987654}`,
			`{"stream":"ethusdt@aggTrade","data":{"e":"aggTrade"}}`,
		} {
			r.srv.SendRaw([]byte(f))
		}
		r.more(btc, 10)
		for _, id := range r.got(btc) {
			if id == 0 {
				t.Fatal("a zero event reached the handler")
			}
		}
		if st := r.c.Stats(); st.Rejected != 3 || st.Malformed != 1 || st.Unsolicited != 1 {
			t.Fatalf("stats %+v, want 3 rejected, 1 malformed (unrecognised), 1 unsolicited", st)
		}
		if k := r.rec.count(runtime.EventDisconnected); k != 0 {
			t.Fatal("bad frames broke the socket")
		}
		r.tally("unknown kinds and control frames", btc, 0)
	})
	t.Run("rejected subscribe and resubscribe", func(t *testing.T) {
		r := newFaultRig(t, nil)
		r.srv.RejectStream("xrpusdt@aggTrade", 2, "Invalid request: unknown stream")
		var se *runtime.ServerError
		if _, err := r.subscribe("XRPUSDT"); !errors.As(err, &se) || se.Code != 2 {
			t.Fatalf("refused subscribe: %v", err)
		}
		r.srv.RejectStream("xrpusdt@aggTrade", 0, "")
		r.mustSubscribe("BTCUSDT")
		eth := r.mustSubscribe("ETHUSDT")
		r.mustSubscribe("BNBUSDT")
		r.more(btc, 10)
		r.srv.RejectStream("ethusdt@aggTrade", 2, "Invalid request: unknown stream")
		r.srv.DropConnections()
		waitDone(t, eth)
		if !errors.As(eth.Err(), &se) {
			t.Fatalf("refused stream ended with %v", eth.Err())
		}
		r.more(btc, 20)
		r.more("bnbusdt@aggTrade", 20)
		r.tally("rejected resubscribe (others)", btc, 0)
		r.tally("rejected resubscribe (others)", "bnbusdt@aggTrade", 0)
	})
	t.Run("1008 close loop", func(t *testing.T) {
		r := newFaultRig(t, nil, runtime.WithBackoff(runtime.Backoff{Initial: 100 * time.Millisecond, Max: 2 * time.Second, Factor: 2, Jitter: 0.1}))
		r.mustSubscribe("BTCUSDT")
		r.more(btc, 5)
		r.srv.ClosePolicyAfterSubscribe(true)
		r.srv.DropConnections()
		time.Sleep(3 * time.Second)
		r.srv.ClosePolicyAfterSubscribe(false)
		attempts := len(r.srv.Conns()) - 1
		// 0, 0.1, 0.2, 0.4, 0.8, 1.6 s: at most 6 attempts in 3 s (before: one a second or faster, forever).
		if attempts > 7 {
			t.Fatalf("%d connection attempts in 3 s of 1008 closes", attempts)
		}
		waitFor(t, "recovery", func() bool { open := r.srv.OpenConns(); return len(open) == 1 && len(open[0].Streams) == 1 })
		r.more(btc, 20)
		if v := r.srv.Violations(); v.ConnectionAttempts != 0 || v.Messages != 0 {
			t.Fatalf("violations %+v", v)
		}
		r.tally(fmt.Sprintf("1008 close loop (%d attempts in 3 s)", attempts), btc, 0)
	})
	for _, p := range []runtime.OverflowPolicy{runtime.DropOldest, runtime.DropNewest, runtime.Block, runtime.CloseSubscription} {
		name := "slow consumer, " + p.String()
		t.Run(name, func(t *testing.T) {
			r := newFaultRig(t, nil)
			release := make(chan struct{})
			var once sync.Once
			sub, err := spot.SubscribeAggTrade(testCtx(t), r.c, spot.AggTradeParams{Symbol: "BTCUSDT"}, func(ev *spot.AggTradeEvent) {
				<-release
				r.add(btc, ev.AggTradeID)
			}, runtime.WithOverflow(p), runtime.WithQueueSize(64))
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond * 3) // ~150 events into a queue of 64
			once.Do(func() { close(release) })
			if p == runtime.CloseSubscription {
				waitDone(t, sub)
				if !errors.Is(sub.Err(), runtime.ErrSlowConsumer) {
					t.Fatalf("Err() = %v", sub.Err())
				}
				return
			}
			r.more(btc, 20)
			if p == runtime.Block && sub.Dropped() != 0 {
				t.Fatalf("Block dropped %d", sub.Dropped())
			}
			if p != runtime.Block && sub.Dropped() == 0 {
				t.Fatal("nothing dropped")
			}
			// Stop before counting so that drops and deliveries are final.
			if err := sub.Unsubscribe(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			r.tally(name, btc, sub.Dropped())
		})
	}
	t.Run("handler panic", func(t *testing.T) {
		r := newFaultRig(t, nil)
		calls := 0
		bad, err := spot.SubscribeAggTrade(testCtx(t), r.c, spot.AggTradeParams{Symbol: "ETHUSDT"}, func(*spot.AggTradeEvent) {
			if calls++; calls == 3 {
				panic("handler bug")
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		r.mustSubscribe("BTCUSDT")
		waitDone(t, bad)
		r.waitEvent(runtime.EventPanic, nil)
		r.more(btc, 20)
		r.tally("handler panic (other stream)", btc, 0)
	})
	t.Run("Close and cancel under load and in backoff", func(t *testing.T) {
		base := goruntime.NumGoroutine()
		r := newFaultRig(t, nil)
		for _, s := range []string{"BTCUSDT", "ETHUSDT", "BNBUSDT"} {
			r.mustSubscribe(s)
		}
		r.more(btc, 20)
		start := time.Now()
		r.c.Close()
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Close under load took %v", d)
		}
		r.tally("Close under load", btc, 0)

		// A subscribe whose ctx ends while the socket is down returns the ctx error.
		c2, rec2 := dialMarket(t, &spot.Market, r.srv.URL(), runtime.WithBackoff(runtime.Backoff{Initial: time.Second, Max: 5 * time.Second, Factor: 2}))
		r.srv.ClosePolicyAfterSubscribe(true)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		_, err := spot.SubscribeAggTrade(ctx, c2, spot.AggTradeParams{Symbol: "XRPUSDT"}, func(*spot.AggTradeEvent) {})
		cancel()
		if err == nil {
			waitFor(t, "a disconnect", func() bool { return rec2.count(runtime.EventDisconnected) > 0 })
		}
		// Close while the socket waits in backoff returns at once.
		waitFor(t, "a disconnect", func() bool { return rec2.count(runtime.EventDisconnected) > 0 })
		start = time.Now()
		c2.Close()
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Fatalf("Close during backoff took %v", d)
		}
		r.srv.Close()
		waitFor(t, "goroutines to end", func() bool { return goruntime.NumGoroutine() <= base+2 })
	})
}

func waitDone(t *testing.T, sub *runtime.Subscription) {
	t.Helper()
	select {
	case <-sub.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("subscription %s did not end", sub.Stream())
	}
}

func printFaultTable() {
	faultMu.Lock()
	defer faultMu.Unlock()
	if len(faultTable) == 0 {
		return
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "scenario\tsent\treceived\tlost\tin gaps\tdropped\tdup\treordered\tlongest pause\tgoroutines\theap KiB\t")
	for _, r := range faultTable {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%v\t%d\t%d\t\n", r.scenario, r.sent, r.received, r.lost, r.reported, r.dropped, r.dup, r.reorder, r.pause.Round(time.Millisecond), r.goroutines, r.heapKB)
	}
	w.Flush()
	faultTable = nil
}
