package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
)

// TestManyStreams subscribes 1,101 aggTrade streams with the generated
// spot.SubscribeAll through the simulator, both sides with spot's own limits
// (1,024 streams per connection, 5 messages/s, the connection budget), one
// of them refused by the server: SubscribeAll returns the refusal for that
// stream alone, the other 1,100 are confirmed on the two connections the
// limit requires, each delivers its numbered events in order without
// duplicates, again after every connection drops at once, and the
// simulator counts no violation.
func TestManyStreams(t *testing.T) {
	const n = 1100
	src := &sim.Numbered{}
	srv := sim.New(&spot.Market, sim.WithSource(src), sim.WithPublishInterval(200*time.Millisecond))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	const refused = "zzzzusdt@aggTrade"
	srv.RejectStream(refused, 2, "Invalid request: invalid stream")
	c, _ := dialMarket(t, &spot.Market, srv.URL())

	var mu sync.Mutex
	ids := map[string][]int64{} // by symbol, in delivery order
	ps := make([]spot.StreamParams, 0, n+1)
	for i := range n {
		ps = append(ps, spot.AggTradeParams{Symbol: fmt.Sprintf("S%04dUSDT", i)})
	}
	ps = append(ps[:n/2:n/2], append([]spot.StreamParams{spot.AggTradeParams{Symbol: "ZZZZUSDT"}}, ps[n/2:]...)...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	subs, err := spot.SubscribeAll(ctx, c, ps, func(p spot.Payload) {
		ev := p.(*spot.AggTradeEvent)
		mu.Lock()
		ids[ev.Symbol] = append(ids[ev.Symbol], ev.AggTradeID)
		mu.Unlock()
	})
	var se *runtime.SubscribeError
	var srvErr *runtime.ServerError
	if !errors.As(err, &se) || se.Stream != refused || !errors.As(err, &srvErr) || strings.Count(err.Error(), "\n") != 0 {
		t.Fatalf("SubscribeAll: %v; want one refusal, of %s", err, refused)
	}
	for i, s := range subs {
		if (s == nil) != (i == n/2) {
			t.Fatalf("subscription %d (%s): %v", i, ps[i].StreamName(), s)
		}
	}
	// The refused stream took a place on the first connection until the
	// refusal: the second carries what did not fit then.
	if got := c.Stats().Connections; len(got) != 2 || got[0].Streams+got[1].Streams != n || got[0].Streams > 1024 {
		t.Fatalf("connections %+v, want two carrying %d streams", got, n)
	}

	// Every stream delivers; then every connection drops and every stream
	// delivers an event published after the drop.
	flowing := func(after map[string]int64) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			for i := range n {
				sym := fmt.Sprintf("S%04dUSDT", i)
				got := ids[sym]
				if len(got) == 0 || got[len(got)-1] <= after[sym] {
					return false
				}
			}
			return true
		}
	}
	waitForLong(t, "every stream to deliver", flowing(nil))
	if k := srv.DropConnections(); k != 2 {
		t.Fatalf("dropped %d connections, want 2 (%s)", k, closedConns(srv))
	}
	last := map[string]int64{} // ids published before the drop, at most
	for i := range n {
		last[fmt.Sprintf("S%04dUSDT", i)] = src.Last(fmt.Sprintf("s%04dusdt@aggTrade", i))
	}
	waitForLong(t, "every stream to deliver after the drop", flowing(last))

	mu.Lock()
	for sym, got := range ids {
		for j := 1; j < len(got); j++ {
			if got[j] <= got[j-1] {
				t.Fatalf("%s: id %d after %d", sym, got[j], got[j-1])
			}
		}
	}
	mu.Unlock()
	if v := srv.Violations(); v.ConnectionAttempts+v.Messages+v.Streams != 0 {
		t.Errorf("violations: %+v", v)
	}
	for _, ci := range srv.Conns() {
		if ci.MaxRate > spot.Market.Limits.ControlMessagesPerSecond || len(ci.Streams) > spot.Market.Limits.StreamsPerConnection {
			t.Errorf("connection %d: %d frames within a second, %d streams", ci.ID, ci.MaxRate, len(ci.Streams))
		}
	}
	if open := srv.OpenConns(); len(open) != 2 {
		t.Errorf("%d connections open after the drop, want 2 (%s)", len(open), closedConns(srv))
	}
}

// closedConns lists the server's closed connections and why they closed.
func closedConns(srv *sim.Server) string {
	var closed []string
	for _, ci := range srv.Conns() {
		if !ci.Open {
			closed = append(closed, fmt.Sprintf("%d: %s", ci.ID, ci.Closed))
		}
	}
	return "closed: " + strings.Join(closed, "; ")
}

// waitForLong is waitFor with a bound for subscribing many streams within
// the exchange's message rate.
func waitForLong(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
