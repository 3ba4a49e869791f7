package orderbook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/orderbook"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/synth"
)

// TestFetcherBudget opens 500 books' worth of snapshots at once through one
// Fetcher and checks that the host never sees more weight per window than
// its limit, so none is refused.
func TestFetcherBudget(t *testing.T) {
	const budget, window = 200, 100 * time.Millisecond
	srv, err := synth.NewServer("usdm", synth.Config{Seed: 1, Logf: func(string, ...any) {}}, sim.WithRESTWeight(budget, window))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	defer client.CloseIdleConnections()
	f, err := orderbook.NewFetcher(&usdm.OrderBook, srv.RESTURL(), budget, window, client)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := orderbook.FetchSnapshot(ctx, f, "SYM"+string(rune('A'+i%26)), 20); err != nil {
				failed.Add(1)
				t.Log(err)
			}
		}()
	}
	wg.Wait()
	st := srv.SnapshotStats()
	if failed.Load() != 0 || st.Violations != 0 || st.Served != 500 || st.MaxWeight > budget {
		t.Fatalf("failed %d, server stats %+v (budget %d per %v)", failed.Load(), st, budget, window)
	}
	if fs := f.Stats(); fs.Requests != 500 || fs.Weight != 1000 {
		t.Fatalf("fetcher stats %+v, want 500 requests of weight 2", fs)
	}
}

// TestFetcherRetryAfter: after a 429 (or 418) no request goes out before
// its Retry-After.
func TestFetcherRetryAfter(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusTeapot} {
		var mu sync.Mutex
		var times []time.Time
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			times = append(times, time.Now())
			n := len(times)
			mu.Unlock()
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(status)
				return
			}
			w.Write([]byte(`{"lastUpdateId":7,"bids":[["1.5","2"]],"asks":[["1.6","3"]]}`))
		}))
		f, err := orderbook.NewFetcher(&spot.OrderBook, srv.URL, 0, 0, srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		_, err = orderbook.FetchSnapshot(ctx, f, "BTCUSDT", 5)
		var rl *orderbook.RateLimitError
		if !errors.As(err, &rl) || rl.Status != status || rl.RetryAfter != time.Second {
			t.Fatalf("first fetch: %v, want a RateLimitError of %d with 1s", err, status)
		}
		id, err := orderbook.FetchSnapshot(ctx, f, "BTCUSDT", 5)
		srv.Close()
		if err != nil || id != 7 {
			t.Fatalf("second fetch: %d, %v", id, err)
		}
		if d := times[1].Sub(times[0]); d < time.Second {
			t.Fatalf("HTTP %d: the second request went out %v after the first, before Retry-After", status, d)
		}
	}
}

// TestFetcherBadReplies: malformed replies are errors, not panics.
func TestFetcherBadReplies(t *testing.T) {
	for _, body := range []string{``, `[]`, `{"bids":[],"asks":[]}`, `{"lastUpdateId":"x","bids":[],"asks":[]}`,
		`{"lastUpdateId":1,"bids":[["a","1"]],"asks":[]}`, `{"lastUpdateId":1,"bids":[["1"]],"asks":[]}`,
		`{"lastUpdateId":1,"bids":[["-1","1"]],"asks":[]}`, `{"lastUpdateId":1,"bids":[]}`} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }))
		f, _ := orderbook.NewFetcher(&spot.OrderBook, srv.URL, 0, 0, srv.Client())
		if _, err := orderbook.FetchSnapshot(context.Background(), f, "BTCUSDT", 5); err == nil {
			t.Errorf("reply %q: no error", body)
		}
		srv.Close()
	}
}
