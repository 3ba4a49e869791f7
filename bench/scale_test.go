package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/runtime"
)

// symbols returns n distinct seven-letter symbols: BTCUSDT, then AABUSDT,
// AACUSDT, … (skipping BTCUSDT), at most 17,576.
func symbols(n int) []string {
	out := make([]string, n)
	out[0] = "BTCUSDT"
	for i, j := 1, 1; i < n; j++ {
		s := string([]byte{'A' + byte(j/676%26), 'A' + byte(j/26%26), 'A' + byte(j%26)}) + "USDT"
		if s != out[0] {
			out[i] = s
			i++
		}
	}
	return out
}

// scaleFrames serializes k aggTrade frames round-robin over the streams of
// syms: frame j is stream j%len(syms)'s aggregate trade j/len(syms)+1, so
// every stream's ids are consecutive (k should be a multiple of len(syms)).
func scaleFrames(syms []string, k int) *frames {
	return serialize(k, func(j int) ([]byte, int64) {
		sym := syms[j%len(syms)]
		a := int64(j/len(syms) + 1)
		return fmt.Appendf(nil, `{"stream":"%s@aggTrade","data":%s}`, strings.ToLower(sym), aggTradeData(sym, a)), a
	})
}

// openScale subscribes one Conn to the aggTrade streams of syms, each with
// its own counting handler, in mode m. Subscribe
// calls run concurrently, so that they share subscribe messages (up to the
// dialect's batch of 200 streams). The frames are round-robin: stream s gets
// frames s, s+S, s+2S, … of the n streamed.
func openScale(tb testing.TB, f *feed, syms []string, n int, m mode) (*session, error) {
	// Subscribing 1,000 streams within spot's 5 messages per second would
	// take the setup of every run a second or more; the limiter only paces
	// the setup's subscribe messages.
	c, err := dialRuntime(&spot.Market, f, append([]runtime.Option{runtime.WithControlRate(0, 0)}, m.dial...)...)
	if err != nil {
		return nil, err
	}
	S := len(syms)
	tallies := make([]*tally, S)
	wantSum := make([]int64, S)
	for j := 0; j < n; j++ {
		wantSum[j%S] += f.fr.id(j)
	}
	subs := make([]*runtime.Subscription, S)
	errs := make([]error, S)
	var wg sync.WaitGroup
	for s := range syms {
		t := newTally(int64(n/S + b2i(s < n%S)))
		if t.want == 0 {
			close(t.done)
		}
		tallies[s] = t
		wg.Add(1)
		go func() {
			defer wg.Done()
			subs[s], errs[s] = spot.SubscribeAggTrade(context.Background(), c, spot.AggTradeParams{Symbol: syms[s]},
				func(ev *spot.AggTradeEvent) { t.add(ev.AggTradeID) }, m.opts...)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			c.Close()
			return nil, err
		}
	}
	done := make([]<-chan struct{}, S)
	for s, t := range tallies {
		done[s] = t.done
	}
	return &session{
		wait: func(fed <-chan error) error {
			return waitDelivered(fed, done, subs, func() int64 {
				var p int64
				for _, t := range tallies {
					p += t.seen.Load()
				}
				return p
			})
		},
		check: func() error {
			for s, t := range tallies {
				if t.n != t.want || t.sum != wantSum[s] {
					return fmt.Errorf("stream %s: handler got %d events (id sum %d), the feed sent %d (id sum %d); dropped %d",
						subs[s].Stream(), t.n, t.sum, t.want, wantSum[s], subs[s].Dropped())
				}
			}
			return nil
		},
		close: func() { c.Close() },
	}, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// runScale streams n frames of fr (round-robin over syms) to one Conn
// subscribed to every one of syms in mode m.
func runScale(tb testing.TB, syms []string, fr *frames, n int, m mode, timer func(on bool)) error {
	f := newFeed(tb, fr, binance, len(syms))
	s, err := openScale(tb, f, syms, n, m)
	if err != nil {
		return err
	}
	fc := f.conn(tb)
	fed := make(chan error, 1)
	if timer != nil {
		timer(true)
	}
	go func() {
		if err := fc.stream(n); err != nil {
			fed <- err
		}
		close(fed)
	}()
	err = s.wait(fed)
	if timer != nil {
		timer(false)
	}
	s.close()
	if err != nil {
		return err
	}
	return s.check()
}

// BenchmarkScale streams aggTrade frames at full speed, round-robin over 1 or
// 1,000 streams subscribed on one connection, each with its own handler,
// for each runtime mode. One op is one frame. x-1stream is ns/op over the
// one-stream run's in the same mode, measured in the same run. The setup
// subscribes without the client's control-message rate limit
// (WithControlRate(0, 0)) in both cases, so that 1,000 streams subscribe in
// well under a second.
func BenchmarkScale(b *testing.B) {
	const k = 4000 // a multiple of both stream counts
	syms := symbols(1000)
	frs := map[int]*frames{} // built on first use
	for _, m := range modes {
		var one float64 // ns/op with one stream, 0 if it failed
		for _, S := range []int{1, 1000} {
			b.Run(fmt.Sprintf("aggTrade/%s/streams=%d", m.name, S), func(b *testing.B) {
				if S == 1 {
					one = 0
				}
				if frs[S] == nil {
					frs[S] = scaleFrames(syms[:S], k)
				}
				b.ReportAllocs()
				err := runScale(b, syms[:S], frs[S], b.N, m, func(on bool) {
					if on {
						b.ResetTimer()
					} else {
						b.StopTimer()
					}
				})
				if err != nil {
					b.Fatal(err)
				}
				ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				if S == 1 {
					one = ns
				} else if one > 0 {
					b.ReportMetric(ns/one, "x-1stream")
				}
			})
		}
	}
}

// TestScaleHarness subscribes 1,000 streams and streams a few frames to each
// (fewer than a subscription queue holds), so that go test covers the setup
// of BenchmarkScale.
func TestScaleHarness(t *testing.T) {
	syms := symbols(1000)
	fr := scaleFrames(syms, 4000)
	if err := runScale(t, syms, fr, 4000+1500, modes[0], nil); err != nil {
		t.Fatal(err)
	}
}
