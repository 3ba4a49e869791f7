package runtime_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
)

// BenchmarkThroughput measures frames per second from the simulator through
// the scanner, a Decoder and a subscription queue to the handler.
func BenchmarkThroughput(b *testing.B) {
	m := testMarket()
	s := sim.New(m, sim.WithPublishInterval(0))
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, err := runtime.Dial(context.Background(), m, runtime.WithURL(s.URL()))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	const name = "btcusdt@prices"
	var got atomic.Int64
	done := make(chan struct{}, 1)
	target := int64(b.N)
	if _, err := subscribeReady(c, context.Background(), stream(name), func(any) {
		if got.Add(1) == target {
			done <- struct{}{}
		}
	}, runtime.WithOverflow(runtime.Block)); err != nil {
		b.Fatal(err)
	}
	frames := seqPayloads(name, 1, b.N)
	b.ResetTimer()
	start := time.Now()
	go s.Blast(name, frames)
	<-done
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "frames/s")
}
