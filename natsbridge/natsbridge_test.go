package natsbridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEscapeToken(t *testing.T) {
	for _, s := range []string{"", "btcusdt@aggTrade", "!ticker@arr", "ticker:BTCUSDT", "a.b", "a*b>c", "50%", "a b\tc\n", "é", "%", "%41", "x.%2E"} {
		tok := EscapeToken(s)
		if tok == "" || strings.ContainsAny(tok, ". \t\r\n*>") {
			t.Errorf("EscapeToken(%q) = %q: not one token", s, tok)
		}
		back, err := UnescapeToken(tok)
		if err != nil || back != s {
			t.Errorf("UnescapeToken(EscapeToken(%q) = %q) = %q, %v", s, tok, back, err)
		}
	}
	if got := EscapeToken("btcusdt@aggTrade"); got != "btcusdt@aggTrade" {
		t.Errorf("a plain stream name is escaped: %q", got)
	}
	if got := Subject("spot", "a.b*"); got != "mw.spot.a%2Eb%2A" {
		t.Errorf("Subject = %q", got)
	}
	for _, bad := range []string{"", "%4", "%zz", "%41", "%2e", "a b", "a%"} {
		if s, err := UnescapeToken(bad); err == nil {
			t.Errorf("UnescapeToken(%q) = %q, want an error", bad, s)
		}
	}
	for _, bad := range []string{"mw.spot", "xx.spot.a", "mw.spot.a.b", "mw.spot.%zz"} {
		if _, _, err := ParseSubject(bad); err == nil {
			t.Errorf("ParseSubject(%q): no error", bad)
		}
	}
	m, s, err := ParseSubject(Subject("spot", "btcusdt@depth@100ms"))
	if err != nil || m != "spot" || s != "btcusdt@depth@100ms" {
		t.Errorf("ParseSubject: %q %q %v", m, s, err)
	}
}

func TestMsgID(t *testing.T) {
	sub := Subject("spot", "btcusdt@aggTrade")
	if got := MsgID(sub, runtime.Seq{Kind: runtime.SeqConsecutive, First: 7, Last: 9}, []byte("x")); got != sub+":9" {
		t.Errorf("consecutive: %q", got)
	}
	tk := runtime.Seq{Kind: runtime.SeqTime, First: 5, Last: 5}
	a, b := MsgID(sub, tk, []byte(`{"E":5,"c":"1"}`)), MsgID(sub, tk, []byte(`{"E":5,"c":"2"}`))
	if a == b || !strings.HasPrefix(a, sub+":5-") {
		t.Errorf("time keys: %q %q", a, b)
	}
	if a != MsgID(sub, tk, []byte(`{"E":5,"c":"1"}`)) {
		t.Error("time key: the same payload gets another id")
	}
	if got := MsgID(sub, runtime.Seq{}, []byte("x")); !strings.HasPrefix(got, sub+":h") {
		t.Errorf("no key: %q", got)
	}
}

// startNATS starts an embedded single-node JetStream server for the test.
func startNATS(t testing.TB) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

func connect(t testing.TB, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startSim starts a spot simulator of numbered streams.
func startSim(t testing.TB, tick time.Duration) (*sim.Server, *sim.Numbered) {
	t.Helper()
	src := &sim.Numbered{}
	s := sim.New(&spot.Market, sim.WithSource(src), sim.WithPublishInterval(tick))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, src
}

func dialSim(t testing.TB, s *sim.Server, opts ...runtime.Option) *runtime.Conn {
	t.Helper()
	c, err := runtime.Dial(testCtx(t), &spot.Market, append([]runtime.Option{runtime.WithURL(s.URL())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// events collects runtime events.
type events struct {
	mu  sync.Mutex
	all []runtime.Event
}

func (e *events) add(ev runtime.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
}

func (e *events) find(kind runtime.EventKind) (runtime.Event, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.all {
		if ev.Kind == kind {
			return ev, true
		}
	}
	return runtime.Event{}, false
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Two bridges publish the same streams; a consumer reads them with the
// generated helpers, typed, each event once and in order. What one bridge
// stores the other finds stored (a duplicate, or skipped after a look at
// the stream).
func TestBridgeToSource(t *testing.T) {
	ns := startNATS(t)
	srv, _ := startSim(t, 2*time.Millisecond)
	streams := []runtime.Stream{spot.AggTradeParams{Symbol: "BTCUSDT"}.Stream(), spot.DiffDepthParams{Symbol: "ETHUSDT"}.Stream()}
	var bridges []*Bridge
	for range 2 {
		b, err := NewBridge(testCtx(t), connect(t, ns.ClientURL()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		if _, err := b.Add(testCtx(t), dialSim(t, srv), streams); err != nil {
			t.Fatal(err)
		}
		bridges = append(bridges, b)
	}
	src, err := NewSource(connect(t, ns.ClientURL()), &spot.Market, StartAll())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	var mu sync.Mutex
	var trades, depths []int64
	if _, err := spot.SubscribeAggTrade(testCtx(t), src, spot.AggTradeParams{Symbol: "BTCUSDT"}, func(ev *spot.AggTradeEvent) {
		mu.Lock()
		trades = append(trades, ev.AggTradeID)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := spot.SubscribeDiffDepth(testCtx(t), src, spot.DiffDepthParams{Symbol: "ETHUSDT"}, func(ev *spot.DepthUpdateEvent) {
		mu.Lock()
		depths = append(depths, ev.FinalUpdateID)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "200 trades and depth updates", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(trades) >= 200 && len(depths) >= 200
	})
	mu.Lock()
	checkRun(t, "trades", trades, 1)
	checkRun(t, "depths", depths, 2)
	mu.Unlock()
	// Both bridges published the events the consumer saw once each.
	for i, b := range bridges {
		waitFor(t, fmt.Sprintf("bridge %d to have published 400 events", i), func() bool {
			s := b.Stats()
			return s.Published+s.Duplicates+s.Batched+s.Skipped >= 400
		})
	}
}

// checkRun fails unless ids grow by step, with nothing lost or repeated.
func checkRun(t *testing.T, what string, ids []int64, step int64) {
	t.Helper()
	for i := 1; i < len(ids); i++ {
		if ids[i] != ids[i-1]+step {
			t.Fatalf("%s: %d follows %d (index %d of %d)", what, ids[i], ids[i-1], i, len(ids))
		}
	}
}

// Bad input: a subject that names no stream, a payload that does not
// decode, a JetStream stream that does not exist.
func TestSourceBadInput(t *testing.T) {
	ns := startNATS(t)
	nc := connect(t, ns.ClientURL())
	var evs events
	src, err := NewSource(nc, &spot.Market, WithFeedOptions(runtime.OnEvent(evs.add)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })

	// No stream yet: a clear error.
	_, err = spot.SubscribeAggTrade(testCtx(t), src, spot.AggTradeParams{Symbol: "BTCUSDT"}, func(*spot.AggTradeEvent) {})
	var se *runtime.SubscribeError
	if !errors.As(err, &se) || !errors.Is(err, jetstream.ErrStreamNotFound) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing stream: %v", err)
	}
	if _, err := NewBridge(testCtx(t), nc, WithoutCreate()); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("WithoutCreate on a missing stream: %v", err)
	}
	if _, err := NewBridge(testCtx(t), nc); err != nil { // creates it
		t.Fatal(err)
	}
	for _, d := range []time.Duration{0, 100 * time.Millisecond, time.Minute} {
		if _, err := NewSource(nc, &spot.Market, WithHeartbeat(d)); err == nil || !strings.Contains(err.Error(), "WithHeartbeat") {
			t.Errorf("WithHeartbeat(%v): %v", d, err)
		}
	}

	for _, subj := range []string{"mw.spot.btcusdt@nosuch", "mw.nomarket.btcusdt@aggTrade", "mw.spot", "orders.x.y", "mw.usdm.btcusdt@aggTrade"} {
		if _, err := src.SubscribeSubject(testCtx(t), subj, func(any) {}); err == nil {
			t.Errorf("SubscribeSubject(%q): no error", subj)
		}
	}

	var got []int64
	var mu sync.Mutex
	sub, err := src.SubscribeSubject(testCtx(t), Subject("spot", "btcusdt@aggTrade"), func(v any) {
		mu.Lock()
		got = append(got, v.(*spot.AggTradeEvent).AggTradeID)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	subj := Subject("spot", "btcusdt@aggTrade")
	for _, p := range []string{
		`{"e":"aggTrade","E":1,"s":"BTCUSDT","a":1,"p":"1","q":"1","f":1,"l":1,"T":1,"m":true,"M":true}`,
		`{"e":"aggTrade","a":"not a number"}`,
		`not json`,
		`{"e":"aggTrade","E":1,"s":"BTCUSDT","a":2,"p":"1","q":"1","f":2,"l":2,"T":1,"m":true,"M":true}`,
	} {
		if _, err := js.Publish(testCtx(t), subj, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "two events and the decode errors", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 2 && src.Stats().Rejected == 2
	})
	ev, ok := evs.find(runtime.EventError)
	var fe *runtime.FrameError
	if !ok || !errors.As(ev.Err, &fe) || fe.Stream != "btcusdt@aggTrade" {
		t.Fatalf("decode error event: %v", ev)
	}
	if err := sub.Unsubscribe(testCtx(t)); err != nil {
		t.Fatal(err)
	}
}

func ExampleSubject() {
	fmt.Println(Subject("spot", "btcusdt@aggTrade"))
	fmt.Println(Subject("spot", "btcusdt@depth@100ms"))
	fmt.Println(Subject("demo", "a.b*c>d e"))
	fmt.Println(ParseSubject("mw.demo.a%2Eb%2Ac%3Ed%20e"))
	// Output:
	// mw.spot.btcusdt@aggTrade
	// mw.spot.btcusdt@depth@100ms
	// mw.demo.a%2Eb%2Ac%3Ed%20e
	// demo a.b*c>d e <nil>
}

// A Source starts each stream from now, the beginning, a time or a stream
// sequence.
func TestSourceStart(t *testing.T) {
	ns := startNATS(t)
	nc := connect(t, ns.ClientURL())
	if _, err := NewBridge(testCtx(t), nc); err != nil { // creates the stream
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	subj := Subject("spot", "btcusdt@aggTrade")
	pub := func(from, to int) {
		for a := from; a <= to; a++ {
			p := fmt.Sprintf(`{"e":"aggTrade","E":1,"s":"BTCUSDT","a":%d,"p":"1","q":"1","f":%d,"l":%d,"T":1,"m":true,"M":true}`, a, a, a)
			if _, err := js.Publish(testCtx(t), subj, []byte(p)); err != nil {
				t.Fatal(err)
			}
		}
	}
	pub(1, 5)
	time.Sleep(20 * time.Millisecond)
	mid := time.Now()
	time.Sleep(20 * time.Millisecond)
	pub(6, 10)
	for _, tc := range []struct {
		name  string
		opt   Option
		first int64
	}{
		{"all", StartAll(), 1},
		{"sequence 4", StartSequence(4), 4},
		{"time", StartAt(mid), 6},
		{"new", StartNew(), 11},
	} {
		src, err := NewSource(nc, &spot.Market, tc.opt)
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan int64, 100)
		if _, err := spot.SubscribeAggTrade(testCtx(t), src, spot.AggTradeParams{Symbol: "BTCUSDT"}, func(ev *spot.AggTradeEvent) { got <- ev.AggTradeID }); err != nil {
			t.Fatal(err)
		}
		if tc.name == "new" {
			pub(11, 11)
		}
		select {
		case id := <-got:
			if id != tc.first {
				t.Errorf("%s: first id %d, want %d", tc.name, id, tc.first)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s: nothing delivered", tc.name)
		}
		src.Close()
	}
	if _, err := NewSource(nc, &spot.Market, StartSequence(0)); err == nil {
		t.Error("StartSequence(0) accepted")
	}
}

// TestSourceReplacesStalledConsumer: a consumer that stops delivering
// while its subject's messages are still stored is replaced after a few
// heartbeats, from the message after the last delivered: every id arrives
// once and in order, and the replacement is reported.
func TestSourceReplacesStalledConsumer(t *testing.T) {
	ns := startNATS(t)
	srv, _ := startSim(t, 2*time.Millisecond)
	b, err := NewBridge(testCtx(t), connect(t, ns.ClientURL()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if _, err := b.Add(testCtx(t), dialSim(t, srv), []runtime.Stream{spot.AggTradeParams{Symbol: "BTCUSDT"}.Stream()}); err != nil {
		t.Fatal(err)
	}
	var readers []*reader
	readerStarted = func(r *reader) { readers = append(readers, r) }
	defer func() { readerStarted = nil }()
	var evMu sync.Mutex
	var replaced []string
	src, err := NewSource(connect(t, ns.ClientURL()), &spot.Market, StartAll(), WithHeartbeat(500*time.Millisecond),
		WithFeedOptions(runtime.OnEvent(func(e runtime.Event) {
			if e.Err != nil && strings.Contains(e.Err.Error(), "replaced") {
				evMu.Lock()
				replaced = append(replaced, e.Err.Error())
				evMu.Unlock()
			}
		})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	var mu sync.Mutex
	var ids []int64
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(ids) }
	if _, err := spot.SubscribeAggTrade(testCtx(t), src, spot.AggTradeParams{Symbol: "BTCUSDT"}, func(ev *spot.AggTradeEvent) {
		mu.Lock()
		ids = append(ids, ev.AggTradeID)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "100 trades", func() bool { return count() >= 100 })
	// The consumer stops delivering, as one whose recreation hangs would.
	r := readers[0]
	r.mu.Lock()
	cc := r.cc
	r.mu.Unlock()
	cc.Stop()
	n := count()
	waitFor(t, "deliveries to resume", func() bool { return count() >= n+200 })
	evMu.Lock()
	if len(replaced) == 0 {
		t.Error("no replacement reported")
	} else {
		t.Log(replaced[0])
	}
	evMu.Unlock()
	mu.Lock()
	checkRun(t, "trades", ids, 1)
	mu.Unlock()
}
