package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// A latencyReceiver receives a paced run of n frames and records, for the
// i-th frame it gets, when it got it (nanoseconds since epoch) and its id.
// The first is the baseline. To measure another delivery mode, add one.
type latencyReceiver struct {
	name string
	open func(tb testing.TB, p *payload, f *feed, n int, epoch time.Time) (*latencySession, error)
}

type latencySession struct {
	// wait returns when the run is over: every frame received, or the feed
	// done and nothing more arriving. fed is closed when the feed is done.
	wait func(fed <-chan error) error
	// got returns the receive times and ids of the frames received, in
	// order, and how many the receiver reports dropped; valid after close.
	got   func() (at, ids []int64, dropped uint64)
	close func()
}

var latencyReceivers = func() []latencyReceiver {
	rs := []latencyReceiver{{"bare", openBareLatency}}
	for _, m := range modes {
		rs = append(rs, latencyReceiver{m.name, func(tb testing.TB, p *payload, f *feed, n int, epoch time.Time) (*latencySession, error) {
			return openRuntimeLatency(tb, p, f, n, epoch, m)
		}})
	}
	return rs
}()

// openBareLatency stamps each frame when its read returns (NextReader and the
// reads to EOF), in frame order.
func openBareLatency(_ testing.TB, p *payload, f *feed, n int, epoch time.Time) (*latencySession, error) {
	ws, err := dialBare(p, f)
	if err != nil {
		return nil, err
	}
	at := make([]int64, n)
	buf := make([]byte, 64<<10)
	return &latencySession{
		wait: func(<-chan error) error {
			for i := 0; i < n; i++ {
				_, r, err := ws.NextReader()
				if err != nil {
					return fmt.Errorf("frame %d of %d: %w", i+1, n, err)
				}
				for err == nil {
					_, err = r.Read(buf)
				}
				if err != io.EOF {
					return err
				}
				at[i] = int64(time.Since(epoch))
			}
			return nil
		},
		got: func() ([]int64, []int64, uint64) {
			ids := make([]int64, n)
			for i := range ids {
				ids[i] = f.fr.id(i)
			}
			return at, ids, 0
		},
		close: func() { ws.Close() },
	}, nil
}

// openRuntimeLatency stamps each event when the handler is called: runtime
// and the generated Subscribe helper in mode m.
func openRuntimeLatency(_ testing.TB, p *payload, f *feed, n int, epoch time.Time, m mode) (*latencySession, error) {
	c, err := dialRuntime(p.market, f, m.dial...)
	if err != nil {
		return nil, err
	}
	at := make([]int64, n)
	ids := make([]int64, n)
	var k int
	var seen atomic.Int64
	done := make(chan struct{})
	sub, err := p.subscribe(context.Background(), c, func(id int64) {
		if k < n {
			at[k], ids[k] = int64(time.Since(epoch)), id
		}
		k++
		seen.Store(int64(k))
		if k == n {
			close(done)
		}
	}, m.opts...)
	if err != nil {
		c.Close()
		return nil, err
	}
	return &latencySession{
		wait: func(fed <-chan error) error {
			for {
				select {
				case <-done:
					return nil
				case err, ok := <-fed:
					if ok && err != nil {
						return err
					}
					fed = nil
					// Wait until the events still queued are delivered or
					// dropped.
					for last := int64(-1); ; time.Sleep(100 * time.Millisecond) {
						s := seen.Load()
						if s+int64(sub.Dropped()) >= int64(n) || s == last {
							return nil
						}
						last = s
					}
				}
			}
		},
		got: func() ([]int64, []int64, uint64) {
			k := min(k, n)
			return at[:k], ids[:k], sub.Dropped()
		},
		close: func() { c.Close() },
	}, nil
}

// latencyResult is the distribution of write → receive times of one run.
type latencyResult struct {
	lat      []int64 // sorted, nanoseconds
	lost     int     // frames sent after the warm-up and never received
	perWrite float64 // frames per write of the feed
	rate     float64 // frames per second the feed achieved
}

// report reports r as the metrics of benchmark b (see BenchmarkLatency).
func (r latencyResult) report(b *testing.B) {
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(r.quantile(0.5)/1e3, "p50-µs")
	b.ReportMetric(r.quantile(0.99)/1e3, "p99-µs")
	b.ReportMetric(r.quantile(0.999)/1e3, "p99.9-µs")
	b.ReportMetric(r.quantile(1)/1e3, "max-µs")
	b.ReportMetric(float64(r.lost), "lost")
	b.ReportMetric(r.perWrite, "frames/write")
	b.ReportMetric(r.rate, "msg/s")
}

func (r latencyResult) quantile(q float64) float64 {
	if len(r.lat) == 0 {
		return 0
	}
	return float64(r.lat[int(q*float64(len(r.lat)-1))])
}

// runLatency paces n frames of fr at rate frames/s to receiver r and
// measures, for every frame after the first warm ones, the time from the
// feed's write to the receiver's stamp. Frames are matched by id (events
// arrive in order; a dropped event is skipped).
func runLatency(tb testing.TB, p *payload, fr *frames, r latencyReceiver, rate float64, n, warm int) (latencyResult, error) {
	f := newFeed(tb, fr, p.dialect, 1)
	epoch := time.Now()
	s, err := r.open(tb, p, f, n, epoch)
	if err != nil {
		return latencyResult{}, err
	}
	fc := f.conn(tb)
	stamps := make([]int64, n)
	fed := make(chan error, 1)
	var writes int
	go func() {
		w, err := fc.pace(n, rate, epoch, stamps)
		writes = w
		if err != nil {
			fed <- err
		}
		close(fed)
	}()
	err = s.wait(fed)
	s.close()
	for range fed { // the feed's writes and stamps are complete
	}
	if err != nil {
		return latencyResult{}, err
	}
	at, ids, _ := s.got()
	return latencies(fr, at, ids, stamps, writes, warm)
}

// latencies matches the receive times at of events ids with the write
// times stamps of the n = len(stamps) frames of fr the feed wrote in writes
// writes, and returns the distribution after the first warm frames. Frames
// are matched by id (events arrive in order; a dropped event is skipped).
func latencies(fr *frames, at, ids, stamps []int64, writes, warm int) (latencyResult, error) {
	n := len(stamps)
	res := latencyResult{perWrite: float64(n) / float64(max(writes, 1))}
	if d := stamps[n-1] - stamps[0]; d > 0 {
		res.rate = float64(n-1) / (float64(d) / 1e9)
	}
	w := 0
	for i, id := range ids {
		for w < n && fr.id(w) != id {
			w++
		}
		if w == n {
			return res, fmt.Errorf("event %d (id %d) matches no frame written", i, id)
		}
		if w >= warm {
			res.lat = append(res.lat, at[i]-stamps[w])
		}
		w++
	}
	res.lost = n - warm - len(res.lat)
	slices.Sort(res.lat)
	return res, nil
}

// BenchmarkLatency paces aggTrade and 20×20 depthUpdate frames at 10,000 and
// 100,000 msg/s (2 s and 1 s, after 0.1 s of warm-up that is not counted)
// and reports percentiles of the time from the feed's write of a frame to
// the handler's call (to the return of the read for the bare reader), in
// microseconds. The run length is fixed: b.N is ignored, ns/op is not
// reported, and B/op and allocs/op (with -benchmem) are totals over the run.
// lost counts frames never delivered (dropped by the runtime);
// frames/write and msg/s show how closely the feed kept to its schedule
// (1 frame per write, at the nominal rate): a receiver that cannot keep up
// pushes back through TCP, the feed's writes block, and the frames it
// writes late are stamped late, so their wait in the feed is not counted.
// At 10,000 msg/s the feed sleeps precisely between frames (one frame a
// write); at 100,000 msg/s it writes what is due each time the scheduler
// wakes it, a frame or two a write (see feedConn.pace).
func BenchmarkLatency(b *testing.B) { benchLatency(b, runLatency) }

// runLatencyFunc runs one receiver over n paced frames (see runLatency).
type runLatencyFunc func(tb testing.TB, p *payload, fr *frames, r latencyReceiver, rate float64, n, warm int) (latencyResult, error)

// benchLatency runs every latency receiver on aggTrade and 20×20
// depthUpdate frames at 10,000 and 100,000 msg/s with run, and reports the
// results (see BenchmarkLatency).
func benchLatency(b *testing.B, run runLatencyFunc) {
	for _, name := range []string{"aggTrade", "depthUpdate20x20"} {
		p := payloadNamed(name)
		var fr *frames // built on first use
		for _, rate := range []int{10_000, 100_000} {
			n := rate * 2
			if rate >= 100_000 {
				n = rate
			}
			warm := rate / 10
			for _, r := range latencyReceivers {
				b.Run(fmt.Sprintf("%s/%dk/%s", name, rate/1000, r.name), func(b *testing.B) {
					if fr == nil {
						fr = p.frames(K)
					}
					res, err := run(b, p, fr, r, float64(rate), n+warm, warm)
					if err != nil {
						b.Fatal(err)
					}
					res.report(b)
				})
			}
		}
	}
}

func payloadNamed(name string) *payload {
	for _, p := range payloads {
		if p.name == name {
			return p
		}
	}
	panic("no payload " + name)
}

// TestLatencyHarness runs the latency harness briefly, so that go test
// covers it.
func TestLatencyHarness(t *testing.T) {
	p := payloadNamed("aggTrade")
	fr := p.frames(64)
	for _, r := range latencyReceivers {
		t.Run(r.name, func(t *testing.T) {
			res, err := runLatency(t, p, fr, r, 5000, 300, 50)
			if err != nil {
				t.Fatal(err)
			}
			if res.lost != 0 || len(res.lat) != 250 {
				t.Fatalf("%d latencies, %d lost; want 250, 0", len(res.lat), res.lost)
			}
			t.Logf("p50 %.1f µs, p99 %.1f µs, %.2f frames/write", res.quantile(0.5)/1e3, res.quantile(0.99)/1e3, res.perWrite)
		})
	}
}
