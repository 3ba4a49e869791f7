package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testMarket is a market without routes and with limits that tests can meet
// quickly.
func testMarket() *runtime.Market {
	return &runtime.Market{
		Name:      "test",
		Dialect:   sim.Dialect,
		Endpoints: []runtime.Endpoint{{Name: "prod", URL: "ws://127.0.0.1:1"}},
		Limits: runtime.Limits{
			StreamsPerConnection:     50,
			ControlMessagesPerSecond: 50,
			PingInterval:             time.Hour,
			PongDeadline:             time.Hour,
		},
	}
}

func routedMarket() *runtime.Market {
	m := testMarket()
	m.Name = "routed"
	m.Routes = []string{"public", "market", "private"}
	return m
}

// seqSource publishes {"s":<stream>,"seq":n} with n = 1, 2, ... per stream.
// Every connection sees the same sequence, as with the exchange.
func seqSource() sim.Source {
	return sim.SourceFunc(func(stream string) (sim.Feed, error) {
		if strings.HasPrefix(stream, "bad") {
			return nil, errors.New("unknown")
		}
		n := 0
		return sim.FeedFunc(func(time.Time) []byte {
			n++
			return fmt.Appendf(nil, `{"s":%q,"seq":%d}`, stream, n)
		}), nil
	})
}

func seqPayloads(stream string, from, to int) [][]byte {
	var out [][]byte
	for i := from; i <= to; i++ {
		out = append(out, fmt.Appendf(nil, `{"s":%q,"seq":%d}`, stream, i))
	}
	return out
}

type seqEvent struct {
	S   string `json:"s"`
	Seq int    `json:"seq"`
}

func decodeSeq(b []byte) (any, error) {
	ev := new(seqEvent)
	if err := json.Unmarshal(b, ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// stream is a stream of seqSource's payloads, decoded on the subscription's
// goroutine (Deferred), the reader reading only their key (seqRaw), as for
// generated streams.
func stream(name string) runtime.Stream {
	return runtime.Stream{Name: name, Decode: decodeSeq, Seq: seqOf, SeqRaw: seqRaw, Deferred: true}
}

// readerStream is stream(name) decoded on the socket's reader.
func readerStream(name string) runtime.Stream {
	return runtime.Stream{Name: name, Decode: decodeSeq, Seq: seqOf}
}

// seqRaw reads the sequence key of seqSource's payloads without decoding
// them.
func seqRaw(b []byte) (runtime.Seq, error) {
	raw, found, err := wire.LookupRaw(b, "seq")
	if err == nil && !found {
		err = errors.New("no seq")
	}
	if err != nil {
		return runtime.Seq{}, err
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	return runtime.Seq{Kind: runtime.SeqConsecutive, First: n, Last: n}, err
}

// seqOf is the sequence key of seqSource's events: consecutive numbers.
func seqOf(v any) runtime.Seq {
	n := int64(v.(*seqEvent).Seq)
	return runtime.Seq{Kind: runtime.SeqConsecutive, First: n, Last: n}
}

func startSim(t *testing.T, m *runtime.Market, opts ...sim.Option) *sim.Server {
	t.Helper()
	opts = append([]sim.Option{sim.WithSource(seqSource()), sim.WithPublishInterval(10 * time.Millisecond)}, opts...)
	s := sim.New(m, opts...)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// recorder collects events.
type recorder struct {
	mu     sync.Mutex
	events []runtime.Event
}

func (r *recorder) handle(e runtime.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) all() []runtime.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *recorder) String() string { return fmt.Sprint(r.all()) }

func (r *recorder) count(kind runtime.EventKind) int {
	n := 0
	for _, e := range r.all() {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// wait waits for an event of kind that matches ok (nil matches all).
func (r *recorder) wait(t *testing.T, kind runtime.EventKind, ok func(runtime.Event) bool) runtime.Event {
	t.Helper()
	var found runtime.Event
	eventually(t, 5*time.Second, func() bool {
		for _, e := range r.all() {
			if e.Kind == kind && (ok == nil || ok(e)) {
				found = e
				return true
			}
		}
		return false
	}, "no %v event; got %v", kind, r)
	return found
}

func dial(t *testing.T, m *runtime.Market, s *sim.Server, opts ...runtime.Option) (*runtime.Conn, *recorder) {
	t.Helper()
	rec := &recorder{}
	base := []runtime.Option{
		runtime.WithURL(s.URL()),
		runtime.OnEvent(rec.handle),
		runtime.WithBackoff(runtime.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Factor: 2, Jitter: 0.2}),
	}
	c, err := runtime.Dial(ctx(t), m, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, rec
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func eventually(t *testing.T, d time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf(format, args...)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// collector is a handler that records sequence numbers per stream.
type collector struct {
	mu   sync.Mutex
	seqs map[string][]int
}

func newCollector() *collector { return &collector{seqs: map[string][]int{}} }

func (c *collector) handle(v any) {
	ev := v.(*seqEvent)
	c.mu.Lock()
	c.seqs[ev.S] = append(c.seqs[ev.S], ev.Seq)
	c.mu.Unlock()
}

func (c *collector) get(name string) []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.seqs[name])
}

func (c *collector) waitLen(t *testing.T, name string, n int) {
	t.Helper()
	eventually(t, 5*time.Second, func() bool { return len(c.get(name)) >= n }, "stream %s: fewer than %d events", name, n)
}

// checkConsecutive fails unless seqs increase by exactly one.
func checkConsecutive(t *testing.T, name string, seqs []int) {
	t.Helper()
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("stream %s: seq %d follows %d (index %d of %d)", name, seqs[i], seqs[i-1], i, len(seqs))
		}
	}
}

func checkIncreasing(t *testing.T, name string, seqs []int) {
	t.Helper()
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("stream %s: seq %d follows %d", name, seqs[i], seqs[i-1])
		}
	}
}

// checkOncePerConn asserts that the server saw each stream subscribed at
// most once on every connection.
func checkOncePerConn(t *testing.T, s *sim.Server) {
	t.Helper()
	for _, ci := range s.Conns() {
		for name, n := range ci.Subs {
			if n != 1 {
				t.Errorf("connection %d subscribed %s %d times", ci.ID, name, n)
			}
		}
	}
}

// conns formats the server's connections lazily, for failure messages.
type connsOf struct{ s *sim.Server }

func conns(s *sim.Server) fmt.Stringer { return connsOf{s} }

func (c connsOf) String() string { return fmt.Sprintf("%+v", c.s.Conns()) }

// The simulator's own requests, sent through Conn.Call.

func listSubscriptions(c *runtime.Conn, ctx context.Context, route string) ([]string, error) {
	raw, err := c.Call(ctx, route, "LIST_SUBSCRIPTIONS")
	if err != nil {
		return nil, err
	}
	var names []string
	err = json.Unmarshal(raw, &names)
	return names, err
}

func getCombined(c *runtime.Conn, ctx context.Context, route string) (bool, error) {
	raw, err := c.Call(ctx, route, "GET_PROPERTY", "combined")
	if err != nil {
		return false, err
	}
	var on bool
	err = json.Unmarshal(raw, &on)
	return on, err
}

func setCombined(c *runtime.Conn, ctx context.Context, route string, on bool) error {
	_, err := c.Call(ctx, route, "SET_PROPERTY", "combined", on)
	return err
}

// subscribeReady is c.Subscribe followed by Ready: for tests that need the
// server to have the stream when it returns.
func subscribeReady(c *runtime.Conn, ctx context.Context, st runtime.Stream, handle func(any), opts ...runtime.SubscribeOption) (*runtime.Subscription, error) {
	sub, err := c.Subscribe(ctx, st, handle, opts...)
	if err != nil {
		return nil, err
	}
	if err := sub.Ready(ctx); err != nil {
		return nil, err
	}
	return sub, nil
}
