package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
)

func TestSubscribeUnsubscribe(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	c, _ := dial(t, m, s)

	got := make(chan *seqEvent, 100)
	sub, err := subscribeReady(c, ctx(t), stream("btcusdt@prices"), func(v any) { got <- v.(*seqEvent) })
	if err != nil {
		t.Fatal(err)
	}
	for want := 0; want < 3; want++ {
		select {
		case ev := <-got:
			if ev.S != "btcusdt@prices" || ev.Seq < 1 {
				t.Fatalf("got %+v", ev)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
		}
	}
	if err := sub.Unsubscribe(ctx(t)); err != nil {
		t.Fatal(err)
	}
	<-sub.Done()
	if !errors.Is(sub.Err(), runtime.ErrUnsubscribed) {
		t.Fatalf("Err() = %v", sub.Err())
	}
	if err := sub.Unsubscribe(ctx(t)); err != nil {
		t.Fatalf("second Unsubscribe: %v", err)
	}
	// The unsubscribe message is queued, not awaited.
	eventually(t, 5*time.Second, func() bool {
		open := s.OpenConns()
		return len(open) == 1 && len(open[0].Streams) == 0
	}, "server still has %v", conns(s))
}

// TestSubscribeLoop: a plain loop of 1,000 Subscribe calls, with the
// exchange's own limits (5 control messages per second, 1,024 streams per
// connection), returns at once because requests queued behind the rate
// limit go out together; Ready then sees every one confirmed in seconds,
// and a loop of Unsubscribe calls is as quick. The server counts no
// violation.
func TestSubscribeLoop(t *testing.T) {
	m := testMarket()
	m.Limits.StreamsPerConnection = 1024
	m.Limits.ControlMessagesPerSecond = 5
	s := startSim(t, m, sim.WithPublishInterval(time.Second))
	c, _ := dial(t, m, s)
	const n = 1000
	start := time.Now()
	subs := make([]*runtime.Subscription, n)
	for i := range n {
		sub, err := c.Subscribe(ctx(t), stream(fmt.Sprintf("s%d@trade", i)), func(any) {})
		if err != nil {
			t.Fatal(err)
		}
		subs[i] = sub
	}
	queued := time.Since(start)
	for _, sub := range subs {
		if err := sub.Ready(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	confirmed := time.Since(start)
	for _, sub := range subs {
		if err := sub.Unsubscribe(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, func() bool { return len(s.OpenConns()[0].Streams) == 0 }, "not all unsubscribed")
	all := time.Since(start)
	ci := s.OpenConns()[0]
	t.Logf("%d streams: queued in %v, confirmed after %v, unsubscribed after %v; %d messages", n, queued, confirmed, all, ci.Messages)
	if confirmed > 10*time.Second {
		t.Fatalf("%d Subscribe calls confirmed after %v", n, confirmed)
	}
	if v := s.Violations(); v.Messages+v.Streams+v.ConnectionAttempts != 0 {
		t.Fatalf("violations: %+v", v)
	}
}

// TestSubscribeAll subscribes a list in one call: it returns once every
// stream is confirmed or refused, with an error naming each refused one;
// an invalid stream fails the call before anything is sent.
func TestSubscribeAll(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	c, _ := dial(t, m, s)
	col := newCollector()
	var streams []runtime.Stream
	for _, n := range []string{"a@prices", "badusdt@prices", "b@prices", "c@prices"} {
		streams = append(streams, stream(n))
	}
	bad := append(slices.Clone(streams), runtime.Stream{Name: "nodecoder@prices"})
	if _, err := c.SubscribeAll(ctx(t), bad, col.handle); err == nil || !strings.Contains(err.Error(), "nodecoder@prices: the stream has no decoder") {
		t.Fatalf("an invalid stream: %v", err)
	}
	if ci := s.Conns()[0]; ci.Messages != 0 {
		t.Fatalf("%d messages sent for an invalid list", ci.Messages)
	}

	subs, err := c.SubscribeAll(ctx(t), streams, col.handle)
	var se *runtime.SubscribeError
	var server *runtime.ServerError
	if !errors.As(err, &se) || se.Stream != "badusdt@prices" || !errors.As(err, &server) || server.Code != 2 {
		t.Fatalf("err = %v, want the refusal of badusdt@prices", err)
	}
	if len(subs) != 4 || subs[1] != nil {
		t.Fatalf("subscriptions %v", subs)
	}
	for i, n := range []string{"a@prices", "", "b@prices", "c@prices"} {
		if n == "" {
			continue
		}
		if subs[i] == nil || subs[i].Ready(ctx(t)) != nil {
			t.Fatalf("%s not confirmed", n)
		}
		col.waitLen(t, n, 2)
	}
}

// TestReadyRefused: Subscribe returns before the reply; a refusal ends the
// subscription, and Ready, Err and EventSubscriptionClosed report it.
func TestReadyRefused(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	c, rec := dial(t, m, s)
	sub, err := c.Subscribe(ctx(t), stream("badusdt@prices"), func(any) {})
	if err != nil {
		t.Fatal(err)
	}
	err = sub.Ready(ctx(t))
	var server *runtime.ServerError
	if !errors.As(err, &server) || server.Code != 2 || err.Error() != "runtime: subscribe badusdt@prices: server error 2: Invalid request: invalid stream" {
		t.Fatalf("Ready: %v", err)
	}
	<-sub.Done()
	if !errors.As(sub.Err(), &server) {
		t.Fatalf("Err: %v", sub.Err())
	}
	e := rec.wait(t, runtime.EventSubscriptionClosed, nil)
	if e.Subscription != sub || !errors.As(e.Err, &server) {
		t.Fatalf("event %v", e)
	}
	// Ready on a confirmed subscription that was then unsubscribed is nil.
	ok, err := subscribeReady(c, ctx(t), stream("btcusdt@prices"), func(any) {})
	if err != nil {
		t.Fatal(err)
	}
	ok.Unsubscribe(ctx(t))
	if err := ok.Ready(ctx(t)); err != nil {
		t.Fatalf("Ready after Unsubscribe: %v", err)
	}
}

func TestSubscribeServerError(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	c, _ := dial(t, m, s)

	// A stream the exchange does not know.
	_, err := subscribeReady(c, ctx(t), stream("badusdt@prices"), func(any) {})
	var se *runtime.ServerError
	if !errors.As(err, &se) || se.Code != 2 || se.Msg != "Invalid request: invalid stream" {
		t.Fatalf("err = %v, want *ServerError code 2", err)
	}
	// An injected rejection.
	s.RejectNextSubscribe(2, "Invalid request: too many streams")
	_, err = subscribeReady(c, ctx(t), stream("btcusdt@trade"), func(any) {})
	if !errors.As(err, &se) || se.Msg != "Invalid request: too many streams" {
		t.Fatalf("err = %v", err)
	}
	// The connection goes on, and a retry works.
	if _, err := subscribeReady(c, ctx(t), stream("btcusdt@trade"), func(any) {}); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Conns()); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
	// Unknown property comes back as the flat error with id.
	_, err = c.Call(ctx(t), "", "SET_PROPERTY", "colour", true)
	if !errors.As(err, &se) || se.Code != 0 || se.Msg != "Unknown property" {
		t.Fatalf("SetProperty: %v", err)
	}
}

func TestListSubscriptionsAndCombined(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	c, _ := dial(t, m, s)
	names := []string{"btcusdt@prices", "ethusdt@prices", "bnbusdt@depth"}
	col := newCollector()
	for _, n := range names {
		if _, err := subscribeReady(c, ctx(t), stream(n), col.handle); err != nil {
			t.Fatal(err)
		}
	}
	got, err := listSubscriptions(c, ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(names))
	if !slices.Equal(got, want) {
		t.Fatalf("ListSubscriptions = %v, want %v", got, want)
	}
	on, err := getCombined(c, ctx(t), "")
	if err != nil || !on {
		t.Fatalf("GetCombined = %v, %v", on, err)
	}
	if _, err := listSubscriptions(c, ctx(t), "public"); err == nil {
		t.Fatal("route on a market without routes accepted")
	}
}

// A frame without routing members on a multiplexed socket (here: bare
// payloads after SET_PROPERTY combined=false) is reported and never handed to
// a decoder, even when the socket carries a single stream.
func TestBareFramesNeverDecoded(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	c, rec := dial(t, m, s)
	col := newCollector()
	if _, err := subscribeReady(c, ctx(t), stream("btcusdt@prices"), col.handle); err != nil {
		t.Fatal(err)
	}
	if err := setCombined(c, ctx(t), "", false); err != nil {
		t.Fatal(err)
	}
	e := rec.wait(t, runtime.EventError, func(e runtime.Event) bool { return errors.Is(e.Err, runtime.ErrUnknownFrame) })
	n := len(col.get("btcusdt@prices"))
	time.Sleep(50 * time.Millisecond) // several publish ticks
	if got := len(col.get("btcusdt@prices")); got != n {
		t.Fatalf("%d bare frames reached the handler", got-n)
	}
	if c.Stats().Malformed == 0 {
		t.Fatalf("bare frames not counted: %+v (%v)", c.Stats(), e)
	}
	if err := setCombined(c, ctx(t), "", true); err != nil {
		t.Fatal(err)
	}
	col.waitLen(t, "btcusdt@prices", n+3)
}

func TestRoutes(t *testing.T) {
	m := routedMarket()
	route := func(name string) string {
		if name == "btcusdt@depth" {
			return "public"
		}
		return "market"
	}
	s := startSim(t, m, sim.WithRoute(route))
	c, rec := dial(t, m, s)
	if n := len(s.Conns()); n != 0 {
		t.Fatalf("Dial opened %d sockets on a routed market, want 0 (lazy)", n)
	}
	col := newCollector()
	for _, n := range []string{"btcusdt@depth", "btcusdt@prices", "ethusdt@prices"} {
		st := stream(n)
		st.Route = route(n)
		if _, err := subscribeReady(c, ctx(t), st, col.handle); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"btcusdt@depth", "btcusdt@prices", "ethusdt@prices"} {
		col.waitLen(t, n, 3)
	}
	conns := s.Conns()
	if len(conns) != 2 {
		t.Fatalf("%d sockets, want 2", len(conns))
	}
	for _, ci := range conns {
		for _, n := range ci.Streams {
			if route(n) != ci.Route {
				t.Errorf("stream %s on route %q", n, ci.Route)
			}
		}
		if ci.Path != "/"+ci.Route+"/stream" {
			t.Errorf("path %q", ci.Path)
		}
	}
	if _, err := subscribeReady(c, ctx(t), stream("x@prices"), col.handle); err == nil {
		t.Fatal("empty route accepted on a routed market")
	}
	if got, err := listSubscriptions(c, ctx(t), "public"); err != nil || !slices.Equal(got, []string{"btcusdt@depth"}) {
		t.Fatalf("ListSubscriptions(public) = %v, %v", got, err)
	}
	if rec.count(runtime.EventConnected) != 2 {
		t.Fatalf("events: %v", rec)
	}
}

func TestReconnectResubscribes(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	c, rec := dial(t, m, s)
	col := newCollector()
	names := []string{"btcusdt@prices", "ethusdt@prices", "bnbusdt@trade"}
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := subscribeReady(c, ctx(t), stream(n), col.handle); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for round := 1; round <= 3; round++ {
		s.DropConnections()
		eventually(t, 5*time.Second, func() bool { return rec.count(runtime.EventResubscribed) >= round },
			"round %d: no resubscription: %v", round, rec)
		eventually(t, 5*time.Second, func() bool {
			open := s.OpenConns()
			return len(open) == 1 && len(open[0].Streams) == len(names)
		}, "round %d: server has %+v", round, conns(s))
	}
	for _, n := range names {
		k := len(col.get(n))
		col.waitLen(t, n, k+3)
	}
	checkOncePerConn(t, s)
	if n := rec.count(runtime.EventDisconnected); n != 3 {
		t.Fatalf("%d disconnects, want 3", n)
	}
	e := rec.wait(t, runtime.EventResubscribed, nil)
	if e.Count != uint64(len(names)) {
		t.Fatalf("resubscribed %d streams, want %d", e.Count, len(names))
	}
}

func TestSubscribeWhileDisconnected(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	c, rec := dial(t, m, s, runtime.WithBackoff(runtime.Backoff{Initial: 100 * time.Millisecond, Max: 100 * time.Millisecond, Factor: 1}))
	eventually(t, 5*time.Second, func() bool { return len(s.OpenConns()) == 1 }, "server did not register the socket")
	s.DropConnections()
	rec.wait(t, runtime.EventDisconnected, nil)
	col := newCollector()
	if _, err := subscribeReady(c, ctx(t), stream("btcusdt@prices"), col.handle); err != nil {
		t.Fatal(err)
	}
	col.waitLen(t, "btcusdt@prices", 3)
	checkOncePerConn(t, s)
}

func TestSilentServerDetected(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	c, rec := dial(t, m, s, runtime.WithReadTimeout(200*time.Millisecond))
	col := newCollector()
	if _, err := subscribeReady(c, ctx(t), stream("btcusdt@prices"), col.handle); err != nil {
		t.Fatal(err)
	}
	col.waitLen(t, "btcusdt@prices", 2)
	s.Silence()
	e := rec.wait(t, runtime.EventDisconnected, nil)
	if !errors.Is(e.Err, runtime.ErrNoData) {
		t.Fatalf("disconnect cause %v, want ErrNoData", e.Err)
	}
	rec.wait(t, runtime.EventResubscribed, nil)
	k := len(col.get("btcusdt@prices"))
	col.waitLen(t, "btcusdt@prices", k+3)
}

func TestPingsKeepQuietSocketAlive(t *testing.T) {
	m := testMarket()
	s := startSim(t, m, sim.WithPublishInterval(0), sim.WithPing(20*time.Millisecond, time.Second))
	_, rec := dial(t, m, s, runtime.WithReadTimeout(150*time.Millisecond))
	time.Sleep(500 * time.Millisecond)
	if n := rec.count(runtime.EventDisconnected); n != 0 {
		t.Fatalf("quiet socket with pings dropped: %v", rec)
	}
}

func TestServerShutdownReplaces(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	c, rec := dial(t, m, s)
	col := newCollector()
	names := []string{"btcusdt@prices", "ethusdt@prices"}
	for _, n := range names {
		if _, err := subscribeReady(c, ctx(t), stream(n), col.handle); err != nil {
			t.Fatal(err)
		}
	}
	col.waitLen(t, names[0], 3)
	s.SendServerShutdown(5 * time.Second)
	e := rec.wait(t, runtime.EventReplaced, nil)
	if !errors.Is(e.Err, runtime.ErrServerShutdown) {
		t.Fatalf("replaced because %v", e.Err)
	}
	eventually(t, 5*time.Second, func() bool { o := s.OpenConns(); return len(o) == 1 && o[0].ID == 2 }, "old socket not closed: %v", conns(s))
	for _, n := range names {
		k := len(col.get(n))
		col.waitLen(t, n, k+5)
		checkConsecutive(t, n, col.get(n))
	}
	checkOncePerConn(t, s)
	if n := rec.count(runtime.EventDisconnected); n != 0 {
		t.Fatalf("%d disconnects during a replacement", n)
	}
}

func TestLifetimeReplacement(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	c, rec := dial(t, m, s, runtime.WithReplaceAfter(300*time.Millisecond))
	col := newCollector()
	if _, err := subscribeReady(c, ctx(t), stream("btcusdt@prices"), col.handle); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() bool { return rec.count(runtime.EventReplaced) >= 2 }, "no replacements: %v", rec)
	e := rec.wait(t, runtime.EventReplaced, nil)
	if !errors.Is(e.Err, runtime.ErrLifetime) {
		t.Fatalf("replaced because %v", e.Err)
	}
	k := len(col.get("btcusdt@prices"))
	col.waitLen(t, "btcusdt@prices", k+3)
	checkConsecutive(t, "btcusdt@prices", col.get("btcusdt@prices"))
	checkOncePerConn(t, s)
	if n := len(s.OpenConns()); n > 2 {
		t.Fatalf("%d open sockets", n)
	}
}

func TestBadFramesReported(t *testing.T) {
	m := testMarket()
	s := startSim(t, m, sim.WithPublishInterval(0))
	c, rec := dial(t, m, s)
	col := newCollector()
	const name = "btcusdt@prices"
	if _, err := subscribeReady(c, ctx(t), stream(name), col.handle); err != nil {
		t.Fatal(err)
	}
	s.SendMalformed()
	s.Publish(name, []byte(`{"s":"btcusdt@prices","seq":"not a number"}`))
	s.SendRaw([]byte(`{"stream":"xrpusdt@trade","data":{}}`))
	s.Publish(name, seqPayloads(name, 1, 1)[0])
	col.waitLen(t, name, 1)

	// Events reach OnEvent handlers through their own goroutine, so they
	// may come after the handler's event.
	var malformed, undecodable, unknown bool
	eventually(t, 5*time.Second, func() bool {
		for _, e := range rec.all() {
			if e.Kind != runtime.EventError {
				continue
			}
			var fe *runtime.FrameError
			if !errors.As(e.Err, &fe) {
				t.Fatalf("error event without FrameError: %v", e.Err)
			}
			switch {
			case errors.Is(e.Err, runtime.ErrMalformedFrame):
				malformed = true
			case errors.Is(e.Err, runtime.ErrUnknownStream):
				unknown = fe.Stream == "xrpusdt@trade"
			case fe.Stream == name:
				undecodable = true
			}
		}
		return malformed && undecodable && unknown
	}, "malformed, undecodable and unknown frames not all reported: %v", rec)
	if len(s.Conns()) != 1 || rec.count(runtime.EventDisconnected) != 0 {
		t.Fatal("bad frames broke the connection")
	}
	if st := c.Stats(); st.Malformed != 1 || st.Rejected != 1 || st.Unsolicited != 1 {
		t.Fatalf("stats %+v, want 1 malformed, 1 rejected, 1 unsolicited", st)
	}
}

func TestPingsAnswered(t *testing.T) {
	m := testMarket()
	s := startSim(t, m, sim.WithPing(20*time.Millisecond, 500*time.Millisecond))
	dial(t, m, s)
	eventually(t, 5*time.Second, func() bool { cs := s.Conns(); return len(cs) > 0 && cs[0].Pongs >= 5 }, "pongs: %+v", conns(s))
	ci := s.Conns()[0]
	if ci.BadPongs != 0 || !ci.Open || ci.Pongs < ci.Pings-1 {
		t.Fatalf("pings %d pongs %d bad %d open %v", ci.Pings, ci.Pongs, ci.BadPongs, ci.Open)
	}
}

func TestControlRateLimit(t *testing.T) {
	m := testMarket()
	// A window long enough that scheduling delays on a loaded machine (the
	// race detector, parallel packages) do not bunch writes across it.
	const n, per = 5, 300 * time.Millisecond
	s := startSim(t, m, sim.WithMessageLimit(n, per), sim.WithPing(150*time.Millisecond, 2*time.Second))
	// One frame of slack: on a loaded machine the client's writes can reach
	// the server bunched by more than the limiter's 10 % margin.
	c, rec := dial(t, m, s, runtime.WithControlRate(n-1, per+per/10))
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				_, err := listSubscriptions(c, ctx(t), "")
				if err != nil {
					t.Error(err)
				}
			} else if _, err := getCombined(c, ctx(t), ""); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	ci := s.Conns()[0]
	if !ci.Open || ci.MaxRate > n || rec.count(runtime.EventDisconnected) != 0 {
		t.Fatalf("limit broken: %+v %v", ci, rec)
	}
	if ci.Messages < 30 {
		t.Fatalf("server saw %d messages", ci.Messages)
	}
}

// TestControlRateLimitEnforced shows that the simulator would catch a client
// without the limiter.
func TestControlRateLimitEnforced(t *testing.T) {
	m := testMarket()
	s := startSim(t, m, sim.WithMessageLimit(5, time.Second))
	c, rec := dial(t, m, s, runtime.WithControlRate(0, 0))
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cx, cancel := context.WithTimeout(ctx(t), time.Second)
			defer cancel()
			_, _ = listSubscriptions(c, cx, "")
		}()
	}
	wg.Wait()
	rec.wait(t, runtime.EventDisconnected, nil)
	if ci := s.Conns()[0]; ci.Closed != "too many requests" {
		t.Fatalf("closed because %q", ci.Closed)
	}
}

func TestConcurrentSubscribesShareRequests(t *testing.T) {
	m := testMarket()
	s := startSim(t, m, sim.WithPublishInterval(0))
	// A slow limiter makes requests queue up, so they merge.
	c, _ := dial(t, m, s, runtime.WithControlRate(1, 200*time.Millisecond))
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := string(rune('a'+i)) + "usdt@trade"
			if _, err := subscribeReady(c, ctx(t), stream(name), func(any) {}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	ci := s.Conns()[0]
	if len(ci.Streams) != 20 || ci.Messages >= 20 {
		t.Fatalf("%d streams in %d messages", len(ci.Streams), ci.Messages)
	}
	checkOncePerConn(t, s)
}

// TestShards: beyond Limits.StreamsPerConnection, streams go to more
// connections of the same route, each within the limit; a second handler
// needs no new slot, and a slot freed by Unsubscribe is used again.
func TestShards(t *testing.T) {
	m := testMarket()
	m.Limits.StreamsPerConnection = 2
	s := startSim(t, m)
	c, _ := dial(t, m, s)
	col := newCollector()
	names := []string{"a@trade", "b@trade", "c@trade", "d@trade", "e@trade"}
	subs := map[string]*runtime.Subscription{}
	for _, n := range names {
		sub, err := subscribeReady(c, ctx(t), stream(n), col.handle)
		if err != nil {
			t.Fatal(err)
		}
		if err := sub.Ready(ctx(t)); err != nil {
			t.Fatal(err)
		}
		subs[n] = sub
	}
	for _, n := range names {
		col.waitLen(t, n, 3)
		checkConsecutive(t, n, col.get(n))
	}
	if got := streamsPerConn(c); !slices.Equal(got, []int{2, 2, 1}) {
		t.Fatalf("streams per connection %v, want [2 2 1]", got)
	}
	if got := serverStreamsPerConn(s); !slices.Equal(got, []int{1, 2, 2}) {
		t.Fatalf("the server's connections carry %v streams, want 1, 2 and 2", got)
	}
	// A second handler on a subscribed stream needs no new slot.
	if _, err := subscribeReady(c, ctx(t), stream("c@trade"), func(any) {}); err != nil {
		t.Fatal(err)
	}
	// A freed slot is taken again once the server confirmed the unsubscribe.
	if err := subs["a@trade"].Unsubscribe(ctx(t)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() bool { return slices.Equal(streamsPerConn(c), []int{1, 2, 1}) }, "not unsubscribed: %v", streamsPerConn(c))
	if got := serverStreamsPerConn(s); !slices.Equal(got, []int{1, 1, 2}) {
		t.Fatalf("the server's connections carry %v streams, want 1, 1 and 2", got)
	}
	if _, err := subscribeReady(c, ctx(t), stream("f@trade"), col.handle); err != nil {
		t.Fatal(err)
	}
	col.waitLen(t, "f@trade", 3)
	if got := streamsPerConn(c); !slices.Equal(got, []int{2, 2, 1}) {
		t.Fatalf("streams per connection %v after unsubscribe and subscribe, want [2 2 1]", got)
	}
	if v := s.Violations(); v != (sim.Violations{Window: v.Window, MaxAttemptsPerWindow: v.MaxAttemptsPerWindow}) {
		t.Fatalf("violations: %+v", v)
	}
}

// serverStreamsPerConn returns how many streams each of the server's open
// connections carries, in increasing order (not in the order they
// connected).
func serverStreamsPerConn(s *sim.Server) []int {
	var out []int
	for _, ci := range s.OpenConns() {
		out = append(out, len(ci.Streams))
	}
	slices.Sort(out)
	return out
}

func streamsPerConn(c *runtime.Conn) []int {
	var out []int
	for _, cs := range c.Stats().Connections {
		out = append(out, cs.Streams)
	}
	return out
}

func TestRawStreams(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	c, _ := dial(t, m, s, runtime.WithRawStreams())
	col := newCollector()
	var subs []*runtime.Subscription
	for _, n := range []string{"btcusdt@prices", "ethusdt@prices"} {
		sub, err := subscribeReady(c, ctx(t), stream(n), col.handle)
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
		col.waitLen(t, n, 3)
	}
	open := s.OpenConns()
	if len(open) != 2 || open[0].Combined || open[0].Path != "/ws/btcusdt@prices" || open[0].Subs["btcusdt@prices"] != 1 || len(open[0].Streams) != 1 {
		t.Fatalf("conns %+v", open)
	}
	if _, err := listSubscriptions(c, ctx(t), ""); !errors.Is(err, runtime.ErrRawMode) {
		t.Fatalf("ListSubscriptions in raw mode: %v", err)
	}
	s.SendServerShutdown(0)
	eventually(t, 5*time.Second, func() bool { return len(s.Conns()) == 4 && len(s.OpenConns()) == 2 }, "no replacement: %+v", conns(s))
	if err := subs[0].Unsubscribe(ctx(t)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() bool { return len(s.OpenConns()) == 1 }, "raw socket not closed: %+v", conns(s))
}

func TestDialErrors(t *testing.T) {
	m := testMarket()
	for name, opt := range map[string]runtime.Option{
		"bad url":      runtime.WithURL("http://example.com"),
		"bad backoff":  runtime.WithBackoff(runtime.Backoff{}),
		"bad timeout":  runtime.WithReadTimeout(0),
		"bad endpoint": runtime.WithEndpoint("nope"),
		"bad limit":    runtime.WithReadLimit(-1),
		"nil handler":  runtime.OnEvent(nil),
	} {
		if c, err := runtime.Dial(ctx(t), m, opt); err == nil {
			c.Close()
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := runtime.Dial(ctx(t), nil); err == nil {
		t.Error("nil market accepted")
	}
	// Nothing listens on the default endpoint.
	if _, err := runtime.Dial(ctx(t), m); err == nil {
		t.Error("dial to a closed port succeeded")
	}
	s := startSim(t, m)
	c, _ := dial(t, m, s)
	if _, err := subscribeReady(c, ctx(t), stream("a@trade"), func(any) {}, runtime.WithQueueSize(0)); err == nil {
		t.Error("queue size 0 accepted")
	}
}

func TestCloseIsIdempotentAndPrompt(t *testing.T) {
	m := testMarket()
	s := startSim(t, m)
	rec := &recorder{}
	c, err := runtime.Dial(ctx(t), m, runtime.WithURL(s.URL()), runtime.OnEvent(rec.handle),
		runtime.WithBackoff(runtime.Backoff{Initial: time.Hour, Max: time.Hour, Factor: 1}))
	if err != nil {
		t.Fatal(err)
	}
	block := make(chan struct{})
	sub, err := subscribeReady(c, ctx(t), stream("btcusdt@prices"), func(any) { <-block }, runtime.WithOverflow(runtime.Block), runtime.WithQueueSize(1))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let the reader block on the full queue
	s.DropConnections()               // and the supervisor wait an hour
	start := time.Now()
	// Close waits for handlers to return; this one returns a little later.
	time.AfterFunc(100*time.Millisecond, func() { close(block) })
	c.Close()
	c.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
	<-sub.Done()
	if !errors.Is(sub.Err(), runtime.ErrClosed) {
		t.Fatalf("sub.Err() = %v", sub.Err())
	}
	if all := rec.all(); all[len(all)-1].Kind != runtime.EventClosed {
		t.Fatalf("last event %v", all[len(all)-1])
	}
	if _, err := subscribeReady(c, ctx(t), stream("x@trade"), func(any) {}); !errors.Is(err, runtime.ErrClosed) {
		t.Fatalf("Subscribe after Close: %v", err)
	}
}

// A data member that is not the last member of its frame is found, even
// when the member after it is an object too (the scanner takes the data span
// to the frame's end when data comes last, and checks).
func TestDataNotLastMember(t *testing.T) {
	t.Run("deferred", func(t *testing.T) { testDataNotLastMember(t, stream) })
	t.Run("reader", func(t *testing.T) { testDataNotLastMember(t, readerStream) })
}

func testDataNotLastMember(t *testing.T, stream func(string) runtime.Stream) {
	m := testMarket()
	s := startSim(t, m, sim.WithPublishInterval(0))
	c, rec := dial(t, m, s)
	col := newCollector()
	const name = "btcusdt@prices"
	if _, err := subscribeReady(c, ctx(t), stream(name), col.handle); err != nil {
		t.Fatal(err)
	}
	s.SendRaw([]byte(`{"stream":"btcusdt@prices","data":{"s":"btcusdt@prices","seq":7},"x":{"y":1}}`))
	s.SendRaw([]byte(`{"data":{"s":"btcusdt@prices","seq":8} , "stream":"btcusdt@prices" }`))
	s.SendRaw([]byte(` {"stream":"btcusdt@prices","data":{"s":"btcusdt@prices","seq":9}}  `))
	col.waitLen(t, name, 3)
	if got := col.get(name); !slices.Equal(got, []int{7, 8, 9}) || rec.count(runtime.EventError) != 0 {
		t.Fatalf("got %v, events %v", got, rec)
	}
}

// Dial and Subscribe: ctx bounds the call only; an unreachable endpoint
// fails Dial (at once for a market without routes, with WithDialRoutes for
// one with routes); errors name the stream once.
func TestContextAndDialSemantics(t *testing.T) {
	for _, m := range []*runtime.Market{testMarket(), routedMarket()} {
		var opts []runtime.Option
		if len(m.Routes) > 0 {
			opts = append(opts, runtime.WithDialRoutes("public"))
		}
		if _, err := runtime.Dial(ctx(t), m, append(opts, runtime.WithURL("ws://127.0.0.1:1"))...); err == nil {
			t.Fatalf("%s: Dial to a closed port succeeded", m.Name)
		}
	}
	m := testMarket()
	s := startSim(t, m)
	c, _ := dial(t, m, s)
	cctx, cancel := context.WithCancel(context.Background())
	col := newCollector()
	if _, err := c.Subscribe(cctx, stream("btcusdt@prices"), col.handle); err != nil {
		t.Fatal(err)
	}
	cancel()
	n := len(col.get("btcusdt@prices"))
	col.waitLen(t, "btcusdt@prices", n+3) // the stream outlives the ctx of its Subscribe
	_, err := c.Subscribe(cctx, stream("ethusdt@prices"), col.handle)
	var se *runtime.SubscribeError
	if !errors.As(err, &se) || se.Stream != "ethusdt@prices" || !errors.Is(err, context.Canceled) ||
		err.Error() != "runtime: subscribe ethusdt@prices: context canceled" {
		t.Fatalf("Subscribe with a cancelled ctx: %v", err)
	}
	c.Close()
	_, err = subscribeReady(c, ctx(t), stream("bnbusdt@prices"), col.handle)
	if !errors.Is(err, runtime.ErrClosed) || err.Error() != "runtime: subscribe bnbusdt@prices: connection closed" {
		t.Fatalf("Subscribe after Close: %v", err)
	}
}

// TestSameStreamOwnDecoders: two subscriptions of one stream on one Conn
// whose Streams decode differently each receive values of their own
// decoder, whichever subscribed first and after the first one leaves.
func TestSameStreamOwnDecoders(t *testing.T) {
	type wrapped struct{ ev *seqEvent }
	m := testMarket()
	s := startSim(t, m)
	c, _ := dial(t, m, s)

	plain := stream("btcusdt@prices")
	wrap := plain
	dec := plain.Decode
	wrap.Decode = func(data []byte) (any, error) {
		v, err := dec(data)
		if err != nil {
			return nil, err
		}
		return &wrapped{v.(*seqEvent)}, nil
	}
	wrap.NewDecoder = nil
	wrap.Seq = func(v any) runtime.Seq { return seqOf(v.(*wrapped).ev) }

	for _, wrapFirst := range []bool{false, true} {
		var bad atomic.Int64
		var plainN, wrapN atomic.Int64
		onPlain := func(v any) {
			if _, ok := v.(*seqEvent); !ok {
				bad.Add(1)
			}
			plainN.Add(1)
		}
		onWrap := func(v any) {
			if w, ok := v.(*wrapped); !ok || w.ev.S != "btcusdt@prices" {
				bad.Add(1)
			}
			wrapN.Add(1)
		}
		first, second := plain, wrap
		h1, h2 := onPlain, onWrap
		if wrapFirst {
			first, second, h1, h2 = wrap, plain, onWrap, onPlain
		}
		s1, err := subscribeReady(c, ctx(t), first, h1)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := subscribeReady(c, ctx(t), second, h2)
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, func() bool { return plainN.Load() >= 3 && wrapN.Load() >= 3 }, "events: plain %d, wrapped %d", plainN.Load(), wrapN.Load())
		if err := s1.Unsubscribe(ctx(t)); err != nil {
			t.Fatal(err)
		}
		<-s1.Done()
		n := plainN.Load() + wrapN.Load()
		eventually(t, 5*time.Second, func() bool { return plainN.Load()+wrapN.Load() >= n+3 }, "no events after the first subscription left")
		if err := s2.Unsubscribe(ctx(t)); err != nil {
			t.Fatal(err)
		}
		<-s2.Done()
		if bad.Load() != 0 {
			t.Fatalf("wrapFirst=%v: %d values of the other subscription's decoder", wrapFirst, bad.Load())
		}
	}
}
