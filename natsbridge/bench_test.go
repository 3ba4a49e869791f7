package natsbridge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
)

// benchFeed is an exchange stand-in that answers SUBSCRIBE and then writes
// pre-serialized combined aggTrade frames: frame i is stream i%S's event
// j = i/S + 1 (aggregate id a = j, consecutive per stream), with first
// trade id f = i, the global index the receivers read back. It keeps at
// most window frames ahead of what the consumer has handled (consumed), so
// the run measures what the path sustains, with nothing dropped.
type benchFeed struct {
	frames   [][]byte
	streams  int
	window   int64
	every    time.Duration // with a rate: the interval between frames
	consumed *atomic.Int64
	srv      *httptest.Server
	wg       sync.WaitGroup
}

func newBenchFeed(n, streams int, window int64, consumed *atomic.Int64) *benchFeed {
	f := &benchFeed{streams: streams, window: window, consumed: consumed}
	for i := range n {
		s := i % streams
		j := i/streams + 1
		f.frames = append(f.frames, fmt.Appendf(nil,
			`{"stream":"sym%dusdt@aggTrade","data":{"e":"aggTrade","E":1700000000000,"s":"SYM%dUSDT","a":%d,"p":"43250.12000000","q":"0.01500000","f":%d,"l":%d,"T":1700000000000,"m":true,"M":true}}`,
			s, s, j, i, i))
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

func (f *benchFeed) url() string { return "ws" + strings.TrimPrefix(f.srv.URL, "http") }

func (f *benchFeed) close() {
	f.srv.CloseClientConnections()
	f.srv.Close()
	f.wg.Wait()
}

func (f *benchFeed) serve(w http.ResponseWriter, r *http.Request) {
	f.wg.Add(1)
	defer f.wg.Done()
	up := websocket.Upgrader{}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	subscribed := 0
	for subscribed < f.streams {
		_, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		var req struct {
			Method string
			Params []string
			ID     json.RawMessage
		}
		if json.Unmarshal(msg, &req) != nil {
			continue
		}
		if req.Method == "SUBSCRIBE" {
			subscribed += len(req.Params)
		}
		if err := c.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `{"result":null,"id":%s}`, req.ID)); err != nil {
			return
		}
	}
	gone := make(chan struct{})
	go func() { // pings and the rest
		defer close(gone)
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}()
	// Frames are written as pre-built WebSocket frames, many per write,
	// so that the feed's own cost stays small next to the bridge's.
	nc := c.UnderlyingConn()
	start := time.Now()
	var buf []byte
	for i, fr := range f.frames {
		for int64(i)-f.consumed.Load() >= f.window {
			if len(buf) > 0 {
				if _, err := nc.Write(buf); err != nil {
					return
				}
				buf = buf[:0]
			}
			time.Sleep(20 * time.Microsecond)
		}
		if f.every > 0 {
			if d := time.Until(start.Add(time.Duration(i) * f.every)); d > 0 {
				time.Sleep(d)
			}
		}
		buf = sim.AppendTextFrame(buf, fr)
		if f.every > 0 || len(buf) >= 32<<10 || i == len(f.frames)-1 {
			if _, err := nc.Write(buf); err != nil {
				return
			}
			buf = buf[:0]
		}
	}
	<-gone // until the client goes
}

// BenchmarkBridge: aggTrade frames from a socket through one Bridge into an
// embedded single-node JetStream (file storage, the default stream
// configuration) and back out through a Source to the generated
// SubscribeAggTrade handler. One op is one message end to end; msgs/s is
// the sustained rate, p50-µs and p99-µs the latency from the frame's
// arrival at the bridge (its decode) to the consumer's handler. Every
// message must arrive exactly once, or the benchmark fails.
//
// The full-speed runs keep 4,096 frames in flight, so their latency is
// mostly queueing; the paced runs (2,000 msg/s over 4 streams, below
// capacity; in fast batches, the default, and WithoutBatches) show the
// latency of the path itself.
func BenchmarkBridge(b *testing.B) {
	for _, streams := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("full/streams=%d", streams), func(b *testing.B) { benchBridge(b, streams, 0) })
	}
	b.Run("paced-2000/streams=4", func(b *testing.B) { benchBridge(b, 4, 500*time.Microsecond) })
	b.Run("paced-2000/streams=4/single", func(b *testing.B) { benchBridge(b, 4, 500*time.Microsecond, WithoutBatches()) })
}

func benchBridge(b *testing.B, streams int, every time.Duration, opts ...Option) {
	ns := startNATS(b)
	n := max(b.N, streams)
	var consumed atomic.Int64
	feed := newBenchFeed(n, streams, 4096, &consumed)
	feed.every = every
	defer feed.close()
	arrived := make([]atomic.Int64, n)
	traceArrival = func(data []byte, at time.Time) {
		if i := bytes.Index(data, []byte(`"f":`)); i >= 0 {
			end := bytes.IndexByte(data[i+4:], ',')
			if k, err := strconv.Atoi(string(data[i+4 : i+4+end])); err == nil && k < n {
				arrived[k].Store(at.UnixNano())
			}
		}
	}
	defer func() { traceArrival = nil }()

	br, err := NewBridge(testCtx(b), connect(b, ns.ClientURL()), opts...)
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	src, err := NewSource(connect(b, ns.ClientURL()), &spot.Market)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	lat := make([]int64, n)
	var seen atomic.Int64
	done := make(chan struct{})
	var params []spot.AggTradeParams
	for s := range streams {
		params = append(params, spot.AggTradeParams{Symbol: fmt.Sprintf("SYM%dUSDT", s)})
	}
	var dup atomic.Int64
	for _, p := range params {
		if _, err := spot.SubscribeAggTrade(testCtx(b), src, p, func(ev *spot.AggTradeEvent) {
			now := time.Now().UnixNano()
			k := int(ev.FirstTradeID)
			if lat[k] != 0 {
				dup.Add(1)
			}
			lat[k] = now - arrived[k].Load()
			consumed.Add(1)
			if seen.Add(1) == int64(n) {
				close(done)
			}
		}); err != nil {
			b.Fatal(err)
		}
	}
	c, err := runtime.Dial(testCtx(b), &spot.Market, runtime.WithURL(feed.url()))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var sts []runtime.Stream
	for _, p := range params {
		sts = append(sts, p.Stream())
	}
	b.ResetTimer()
	start := time.Now()
	if _, err := br.Add(testCtx(b), c, sts); err != nil {
		b.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		b.Fatalf("%d of %d messages arrived; bridge %+v, source %+v", seen.Load(), n, br.Stats(), src.Stats())
	}
	el := time.Since(start)
	b.StopTimer()
	if dup.Load() != 0 {
		b.Fatalf("duplicates %d; bridge %+v", dup.Load(), br.Stats())
	}
	slices.Sort(lat)
	b.ReportMetric(float64(n)/el.Seconds(), "msgs/s")
	b.ReportMetric(float64(lat[n/2])/1e3, "p50-µs")
	b.ReportMetric(float64(lat[n*99/100])/1e3, "p99-µs")
}

// BenchmarkBridgeIngest: the bridge alone, without a consumer. aggTrade
// frames from a socket through one Bridge into an embedded single-node
// JetStream (file storage, the default stream configuration); one op is
// one message stored, and the run ends when the stream holds all of them.
// "batches" is the default; "single" is WithoutBatches, one publish and
// acknowledgement at a time per stream.
func BenchmarkBridgeIngest(b *testing.B) {
	for _, mode := range []string{"batches", "single"} {
		for _, streams := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/streams=%d", mode, streams), func(b *testing.B) { benchIngest(b, streams, mode == "single") })
		}
	}
}

func benchIngest(b *testing.B, streams int, single bool) {
	ns := startNATS(b)
	n := max(b.N, streams)
	var handled atomic.Int64
	feed := newBenchFeed(n, streams, 4096, &handled)
	defer feed.close()
	traceArrival = func([]byte, time.Time) { handled.Add(1) }
	defer func() { traceArrival = nil }()
	var opts []Option
	if single {
		opts = append(opts, WithoutBatches())
	}
	br, err := NewBridge(testCtx(b), connect(b, ns.ClientURL()), opts...)
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	c, err := runtime.Dial(testCtx(b), &spot.Market, runtime.WithURL(feed.url()))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var sts []runtime.Stream
	for s := range streams {
		sts = append(sts, spot.AggTradeParams{Symbol: fmt.Sprintf("SYM%dUSDT", s)}.Stream())
	}
	st, err := br.js.Stream(testCtx(b), DefaultStream)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	if _, err := br.Add(testCtx(b), c, sts); err != nil {
		b.Fatal(err)
	}
	for {
		info, err := st.Info(testCtx(b))
		if err != nil {
			b.Fatal(err)
		}
		if info.State.Msgs >= uint64(n) {
			break
		}
		if time.Since(start) > 2*time.Minute {
			b.Fatalf("stored %d of %d; bridge %+v", info.State.Msgs, n, br.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(n)/el.Seconds(), "msgs/s")
}

// BenchmarkPublishFloor is the floor BenchmarkBridge is measured against:
// the same aggTrade payloads published to the same embedded single-node
// JetStream (file storage, StreamConfig's defaults) by a bare loop of
// asynchronous publishes with a Nats-Msg-Id each, no socket, no decode, no
// per-stream ordering. One op is one message stored; the run fails unless
// the stream holds every one.
func BenchmarkPublishFloor(b *testing.B) {
	ns := startNATS(b)
	nc := connect(b, ns.ClientURL())
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	st, err := js.CreateStream(testCtx(b), StreamConfig(DefaultStream))
	if err != nil {
		b.Fatal(err)
	}
	subject := Subject("spot", "sym0usdt@aggTrade")
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		data := fmt.Appendf(nil, `{"e":"aggTrade","E":1700000000000,"s":"SYM0USDT","a":%d,"p":"43250.12000000","q":"0.01500000","f":%d,"l":%d,"T":1700000000000,"m":true,"M":true}`, i+1, i, i)
		m := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{jetstream.MsgIDHeader: []string{strconv.Itoa(i)}}}
		if _, err := js.PublishMsgAsync(m); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		b.Fatal("publishes not acknowledged")
	}
	el := time.Since(start)
	b.StopTimer()
	info, err := st.Info(testCtx(b))
	if err != nil {
		b.Fatal(err)
	}
	if info.State.Msgs != uint64(b.N) {
		b.Fatalf("stored %d of %d", info.State.Msgs, b.N)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
}
