// Package e2e holds tests and benchmarks that cross every layer: the
// simulator, the runtime and the generated bindings.
package e2e

import (
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/generated/zdex"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/zdexsim"
)

const aggTrade = `{"e":"aggTrade","E":1672515782136,"s":"BTCUSDT","a":12345,"p":"16800.01000000","q":"0.01200000","f":100,"l":105,"T":1672515782136,"m":true,"M":true}`

// depthUpdate is a USD-M diff-depth update with 20 bid and 20 ask levels.
var depthUpdate = func() string {
	var b strings.Builder
	b.WriteString(`{"e":"depthUpdate","E":1672515782136,"T":1672515782130,"s":"BTCUSDT","U":157,"u":160,"pu":149,"b":[`)
	for i := 0; i < 20; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`["16800.10000000","1.25000000"]`)
	}
	b.WriteString(`],"a":[`)
	for i := 0; i < 20; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`["16800.20000000","0.50000000"]`)
	}
	b.WriteString(`]}`)
	return b.String()
}()

// newServer starts a simulator that publishes nothing by itself: the
// benchmark pushes frames with Blast.
func newServer(b *testing.B, m *runtime.Market) *sim.Server {
	b.Helper()
	srv := sim.New(m,
		sim.WithValid(func(string) bool { return true }),
		sim.WithRoute(func(s string) string {
			if len(m.Routes) > 0 {
				return "public"
			}
			return ""
		}),
		sim.WithSource(sim.SourceFunc(func(string) (sim.Feed, error) {
			return sim.FeedFunc(func(time.Time) []byte { return nil }), nil
		})),
		sim.WithMessageLimit(1000, time.Second),
		sim.WithOutboundBuffer(4096),
	)
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	return srv
}

// blast sends n copies of payload on stream in batches, so the server never
// holds more than a batch.
func blast(srv *sim.Server, stream string, payload []byte, n int) {
	const batch = 1024
	frames := make([][]byte, batch)
	for i := range frames {
		frames[i] = payload
	}
	for n > 0 {
		k := min(n, batch)
		srv.Blast(stream, frames[:k])
		n -= k
	}
}

// benchBare reads frames with a bare gorilla/websocket loop: NextReader into
// a reused buffer, no decoding. It is the floor the runtime is measured
// against.
func benchBare(b *testing.B, m *runtime.Market, route, stream, payload string) {
	srv := newServer(b, m)
	url := srv.URL()
	if route != "" {
		url += "/" + route
	}
	ws, _, err := websocket.DefaultDialer.Dial(url+"/stream?streams="+stream, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	waitSubscribed(b, srv, stream)
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	go blast(srv, stream, []byte(payload), b.N)
	for i := 0; i < b.N; i++ {
		_, r, err := ws.NextReader()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadAtLeast(r, buf, 1); err != nil && err != io.EOF {
			b.Fatal(err)
		}
		for err == nil {
			_, err = r.Read(buf)
		}
	}
}

// benchRuntime receives the same frames through runtime.Conn and a generated
// Subscribe helper into a typed handler.
func benchRuntime(b *testing.B, m *runtime.Market, stream, payload string, subscribe func(context.Context, *runtime.Conn, func()) error) {
	srv := newServer(b, m)
	ctx := context.Background()
	c, err := runtime.Dial(ctx, m, runtime.WithURL(srv.URL()))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var got atomic.Int64
	done := make(chan struct{}, 1)
	var want int64
	if err := subscribe(ctx, c, func() {
		if got.Add(1) == atomic.LoadInt64(&want) {
			done <- struct{}{}
		}
	}); err != nil {
		b.Fatal(err)
	}
	waitSubscribed(b, srv, stream)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	atomic.StoreInt64(&want, int64(b.N))
	go blast(srv, stream, []byte(payload), b.N)
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("received %d of %d", got.Load(), b.N)
	}
}

func waitSubscribed(b *testing.B, srv *sim.Server, stream string) {
	b.Helper()
	for i := 0; i < 500; i++ {
		for _, c := range srv.OpenConns() {
			for _, s := range c.Streams {
				if s == stream {
					return
				}
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	b.Fatalf("stream %s never subscribed", stream)
}

func BenchmarkEndToEnd(b *testing.B) {
	b.Run("aggTrade/bare", func(b *testing.B) {
		benchBare(b, &spot.Market, "", "btcusdt@aggTrade", aggTrade)
	})
	b.Run("aggTrade/runtime", func(b *testing.B) {
		benchRuntime(b, &spot.Market, "btcusdt@aggTrade", aggTrade, func(ctx context.Context, c *runtime.Conn, seen func()) error {
			_, err := spot.SubscribeAggTrade(ctx, c, spot.AggTradeParams{Symbol: "BTCUSDT"}, func(*spot.AggTradeEvent) { seen() },
				runtime.WithQueueSize(1<<16), runtime.WithOverflow(runtime.Block))
			return err
		})
	})
	b.Run("depth20x20/bare", func(b *testing.B) {
		benchBare(b, &usdm.Market, "public", "btcusdt@depth@100ms", depthUpdate)
	})
	b.Run("depth20x20/runtime", func(b *testing.B) {
		benchRuntime(b, &usdm.Market, "btcusdt@depth@100ms", depthUpdate, func(ctx context.Context, c *runtime.Conn, seen func()) error {
			_, err := usdm.SubscribeDiffDepth(ctx, c, usdm.DiffDepthParams{Symbol: "BTCUSDT", Speed: usdm.DepthSpeed100ms}, func(*usdm.DepthUpdateEvent) { seen() },
				runtime.WithQueueSize(1<<16), runtime.WithOverflow(runtime.Block))
			return err
		})
	})
}

// zdexTicker is a ZDEX ticker payload; the simulator wraps it as
// {"channel":"ticker","symbol":"BTCUSDT","data":...,"ts":...}.
const zdexTicker = `{"symbol":"BTCUSDT","lastPrice":"71034.5","priceChange":"1052.3","priceChangePercent":"1.503","highPrice":"71500.0","lowPrice":"69200.0","volume":"12543.231","quoteVolume":"891234567.89"}`

// benchZDEX measures ZDEX ticker frames, whose routing key is built from two
// members (channel and symbol), read bare or through the runtime. The
// simulator wraps and queues every frame, so both sides include its work.
func benchZDEX(b *testing.B, bare bool) {
	srv := zdexsim.New(zdexsim.WithPublishInterval(0), zdexsim.WithIdleTimeout(0), zdexsim.WithOutboundBuffer(b.N+1024))
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	publish := func() {
		for i := 0; i < b.N; i++ {
			srv.Publish("ticker:BTCUSDT", []byte(zdexTicker))
		}
	}
	b.SetBytes(int64(len(zdexTicker)))
	b.ReportAllocs()
	if bare {
		ws, _, err := websocket.DefaultDialer.Dial(srv.URL(), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer ws.Close()
		if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"action":"subscribe","channel":"ticker","symbol":"BTCUSDT"}`)); err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 64<<10)
		for range 2 { // the welcome and the ack
			if _, _, err := ws.ReadMessage(); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		go publish()
		for i := 0; i < b.N; i++ {
			_, r, err := ws.NextReader()
			if err != nil {
				b.Fatal(err)
			}
			for err == nil {
				_, err = r.Read(buf)
			}
		}
		return
	}
	ctx := context.Background()
	c, err := runtime.Dial(ctx, &zdex.Market, runtime.WithURL(srv.URL()))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var got atomic.Int64
	done := make(chan struct{}, 1)
	n := int64(b.N)
	sub, err := zdex.SubscribeTicker(ctx, c, zdex.TickerParams{Symbol: "BTCUSDT"}, func(*zdex.TickerEvent) {
		if got.Add(1) == n {
			done <- struct{}{}
		}
	}, runtime.WithQueueSize(1<<16), runtime.WithOverflow(runtime.Block))
	if err != nil {
		b.Fatal(err)
	}
	if err := sub.Ready(ctx); err != nil { // the simulator drops what it publishes before
		b.Fatal(err)
	}
	b.ResetTimer()
	go publish()
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("received %d of %d", got.Load(), b.N)
	}
}

func BenchmarkEndToEndZDEX(b *testing.B) {
	b.Run("ticker/bare", func(b *testing.B) { benchZDEX(b, true) })
	b.Run("ticker/runtime", func(b *testing.B) { benchZDEX(b, false) })
}
