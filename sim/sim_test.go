package sim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func market(routes ...string) *runtime.Market {
	return &runtime.Market{
		Name:   "test",
		Routes: routes,
		Limits: runtime.Limits{StreamsPerConnection: 3, ControlMessagesPerSecond: 5, PingInterval: time.Hour, PongDeadline: time.Hour},
	}
}

func replay() sim.Replay {
	return sim.Replay{
		"btcusdt@aggTrade": {[]byte(`{"n":1}`), []byte(`{"n":2}`)},
		"btcusdt@depth":    {[]byte(`{"d":1}`)},
		"ethusdt@aggTrade": {[]byte(`{"e":1}`)},
		"bnbusdt@aggTrade": {[]byte(`{"b":1}`)},
	}
}

func start(t *testing.T, m *runtime.Market, opts ...sim.Option) *sim.Server {
	t.Helper()
	s := sim.New(m, append([]sim.Option{sim.WithSource(replay()), sim.WithPublishInterval(5 * time.Millisecond)}, opts...)...)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func connect(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func read(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readReply reads until a frame that is not stream data.
func readReply(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	for {
		f := read(t, ws)
		if !strings.HasPrefix(f, `{"stream"`) && !strings.HasPrefix(f, `{"n"`) {
			return f
		}
	}
}

// TestStreamLimitRepeats: a stream named twice in one SUBSCRIBE counts
// once against the streams per connection (3 here).
func TestStreamLimitRepeats(t *testing.T) {
	s := start(t, market(), sim.WithMessageLimit(100, time.Second))
	ws := connect(t, s.URL()+"/stream")
	for _, c := range []struct{ req, want string }{
		{`{"method":"SUBSCRIBE","params":["btcusdt@aggTrade"],"id":1}`, `{"result":null,"id":1}`},
		{`{"method":"SUBSCRIBE","params":["ethusdt@aggTrade","ethusdt@aggTrade","btcusdt@aggTrade","bnbusdt@aggTrade"],"id":2}`, `{"result":null,"id":2}`},
		{`{"method":"SUBSCRIBE","params":["btcusdt@depth"],"id":3}`, `{"error":{"code":2,"msg":"Invalid request: too many streams"},"id":3}`},
	} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(c.req)); err != nil {
			t.Fatal(err)
		}
		if got := readReply(t, ws); got != c.want {
			t.Fatalf("%s: got %s, want %s", c.req, got, c.want)
		}
	}
	if v := s.Violations(); v.Streams != 1 {
		t.Fatalf("violations %+v, want the one refused subscribe", v)
	}
}

func TestControlReplies(t *testing.T) {
	s := start(t, market(), sim.WithMessageLimit(100, time.Second))
	ws := connect(t, s.URL()+"/stream")
	cases := []struct{ req, want string }{
		{`{"method":"SUBSCRIBE","params":["btcusdt@aggTrade"],"id":1}`, `{"result":null,"id":1}`},
		{`{"method":"LIST_SUBSCRIPTIONS","id":2}`, `{"result":["btcusdt@aggTrade"],"id":2}`},
		{`{"method":"SUBSCRIBE","params":["nope@x"],"id":3}`, `{"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":3}`},
		{`{"method":"SUBSCRIBE","params":["btcusdt@depth","ethusdt@aggTrade","bnbusdt@aggTrade"],"id":4}`, `{"error":{"code":2,"msg":"Invalid request: too many streams"},"id":4}`},
		{`{"method":"SUBSCRIBEX","params":[],"id":5}`, "{\"code\":2,\"msg\":\"Invalid request: unknown variant `SUBSCRIBEX`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY` at line 1 column 22\"}"},
		{`{"method":"SUBSCRIBE","params":[],"id":"x"}`, `{"code":2,"msg":"Invalid request: request ID must be an unsigned integer"}`},
		{`{"params":[],"id":6}`, "{\"code\":2,\"msg\":\"Invalid request: missing field `method` at line 1 column 20\"}"},
		{`{"method":`, `{"code":3,"msg":"Invalid JSON: expected value at line 1 column 10"}`},
		{`{"method":"GET_PROPERTY","params":["combined"],"id":7}`, `{"result":true,"id":7}`},
		{`{"method":"SET_PROPERTY","params":["colour",true],"id":8}`, `{"code":0,"msg":"Unknown property","id":8}`},
		{`{"method":"SET_PROPERTY","params":["combined",1],"id":9}`, `{"code":1,"msg":"Invalid value type: expected Boolean"}`},
		{`{"method":"SET_PROPERTY","params":["combined",false,1],"id":10}`, `{"code":2,"msg":"Invalid request: too many parameters"}`},
		{`{"method":"UNSUBSCRIBE","params":["btcusdt@aggTrade"],"id":11}`, `{"result":null,"id":11}`},
		{`{"method":"LIST_SUBSCRIPTIONS","id":12}`, `{"result":[],"id":12}`},
	}
	for _, c := range cases {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(c.req)); err != nil {
			t.Fatal(err)
		}
		if got := readReply(t, ws); got != c.want {
			t.Errorf("%s\n got %s\nwant %s", c.req, got, c.want)
		}
	}
}

func TestCombinedAndRawData(t *testing.T) {
	s := start(t, market())
	combined := connect(t, s.URL()+"/stream?streams=btcusdt@aggTrade")
	raw := connect(t, s.URL()+"/ws/btcusdt@aggTrade/ethusdt@aggTrade")
	var env struct {
		Stream string          `json:"stream"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(read(t, combined)), &env); err != nil || env.Stream != "btcusdt@aggTrade" {
		t.Fatalf("combined frame %+v, %v", env, err)
	}
	seen := map[string]bool{}
	for len(seen) < 2 {
		seen[read(t, raw)] = true
	}
	for f := range seen {
		if strings.HasPrefix(f, `{"stream"`) {
			t.Fatalf("raw frame wrapped: %s", f)
		}
	}
	// Unknown streams are refused at the handshake.
	if _, _, err := websocket.DefaultDialer.Dial(s.URL()+"/ws/nope@x", nil); err == nil {
		t.Fatal("invalid stream accepted")
	}
}

func TestWrongRouteGetsNoData(t *testing.T) {
	route := func(st string) string {
		if strings.HasSuffix(st, "@depth") {
			return "public"
		}
		return "market"
	}
	s := start(t, market("public", "market"), sim.WithRoute(route))
	right := connect(t, s.URL()+"/market/stream?streams=btcusdt@aggTrade")
	wrong := connect(t, s.URL()+"/public/stream?streams=btcusdt@aggTrade")
	if f := read(t, right); !strings.Contains(f, "btcusdt@aggTrade") {
		t.Fatalf("got %s", f)
	}
	_ = wrong.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, b, err := wrong.ReadMessage(); err == nil {
		t.Fatalf("wrong route received %s", b)
	}
	for _, ci := range s.Conns() {
		if !slices.Equal(ci.Streams, []string{"btcusdt@aggTrade"}) {
			t.Fatalf("conn %+v", ci)
		}
	}
}

func TestMessageLimitCloses(t *testing.T) {
	s := start(t, market())
	ws := connect(t, s.URL()+"/ws")
	for i := range 6 {
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"method":"LIST_SUBSCRIPTIONS","id":`+strconv.Itoa(i)+`}`))
	}
	for {
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _, err := ws.ReadMessage()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
				t.Fatalf("closed with %v, want 1008", err)
			}
			break
		}
	}
	if ci := s.Conns()[0]; ci.Closed != "too many requests" || ci.MaxRate != 6 {
		t.Fatalf("conn %+v", ci)
	}
}

func TestPingPongDeadline(t *testing.T) {
	s := start(t, market(), sim.WithPing(10*time.Millisecond, 50*time.Millisecond), sim.WithMessageLimit(0, 0))
	good := connect(t, s.URL()+"/ws")
	// The server numbers connections when it registers them, which can lag
	// the client's handshake: wait, so that good is the first.
	for len(s.Conns()) == 0 {
		time.Sleep(time.Millisecond)
	}
	bad := connect(t, s.URL()+"/ws")
	bad.SetPingHandler(func(string) error { return nil }) // never answers
	go func() {
		for {
			if _, _, err := good.ReadMessage(); err != nil {
				return
			}
		}
	}()
	for {
		_ = bad.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := bad.ReadMessage(); err != nil {
			break
		}
	}
	ci := s.Conns()
	if ci[1].Closed != "pong timeout" || ci[1].Pongs != 0 {
		t.Fatalf("silent client: %+v", ci[1])
	}
	if !ci[0].Open || ci[0].Pongs == 0 || ci[0].BadPongs != 0 {
		t.Fatalf("answering client: %+v", ci[0])
	}
}

func TestFaults(t *testing.T) {
	s := start(t, market(), sim.WithPublishInterval(0))
	ws := connect(t, s.URL()+"/stream?streams=btcusdt@aggTrade")
	raw := connect(t, s.URL()+"/ws/btcusdt@aggTrade")
	time.Sleep(20 * time.Millisecond) // both registered
	s.SendMalformed()
	if f := read(t, ws); json.Valid([]byte(f)) {
		t.Fatalf("malformed frame is valid JSON: %s", f)
	}
	read(t, raw)
	s.SendServerShutdown(0)
	if f := read(t, ws); !strings.HasPrefix(f, `{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":`) {
		t.Fatalf("combined shutdown %s", f)
	}
	if f := read(t, raw); !strings.HasPrefix(f, `{"e":"serverShutdown","E":`) {
		t.Fatalf("raw shutdown %s", f)
	}
	s.RejectNextSubscribe(2, "nope")
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"method":"SUBSCRIBE","params":["ethusdt@aggTrade"],"id":1}`))
	if f := read(t, ws); f != `{"error":{"code":2,"msg":"nope"},"id":1}` {
		t.Fatalf("got %s", f)
	}
	s.Silence()
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"method":"LIST_SUBSCRIPTIONS","id":2}`))
	s.Publish("btcusdt@aggTrade", []byte(`{}`))
	_ = ws.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, b, err := ws.ReadMessage(); err == nil {
		t.Fatalf("silent server sent %s", b)
	}
	if n := s.DropConnections(); n != 2 {
		t.Fatalf("dropped %d", n)
	}
	if len(s.OpenConns()) != 0 {
		t.Fatal("connections left open")
	}
}

func TestBlast(t *testing.T) {
	s := start(t, market(), sim.WithPublishInterval(0))
	ws := connect(t, s.URL()+"/stream?streams=btcusdt@aggTrade")
	time.Sleep(20 * time.Millisecond)
	var frames [][]byte
	for i := range 10000 {
		frames = append(frames, []byte(`{"i":`+strconv.Itoa(i)+`}`))
	}
	done := make(chan int)
	go func() { done <- s.Blast("btcusdt@aggTrade", frames) }()
	for i := range 10000 {
		want := `{"stream":"btcusdt@aggTrade","data":{"i":` + strconv.Itoa(i) + `}}`
		if got := read(t, ws); got != want {
			t.Fatalf("frame %d: %s", i, got)
		}
	}
	if n := <-done; n != 10000 {
		t.Fatalf("Blast queued %d", n)
	}
}

func TestReplayCycles(t *testing.T) {
	f, err := replay().Open("btcusdt@aggTrade")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 3 {
		got = append(got, string(f.Next(time.Now())))
	}
	if !slices.Equal(got, []string{`{"n":1}`, `{"n":2}`, `{"n":1}`}) {
		t.Fatalf("got %v", got)
	}
	if _, err := replay().Open("nope"); err == nil {
		t.Fatal("unknown stream opened")
	}
}

// seqOf returns n of a {"n":n} payload.
func seqOf(t *testing.T, f string) int64 {
	t.Helper()
	var v struct{ N int64 }
	if err := json.Unmarshal([]byte(f), &v); err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	return v.N
}

// waitFor polls ok until it holds or 5 s pass.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPublishesWhileAway(t *testing.T) {
	n := 0 // only the publish goroutine calls Next
	src := sim.SourceFunc(func(string) (sim.Feed, error) {
		return sim.FeedFunc(func(time.Time) []byte {
			n++
			return []byte(`{"n":` + strconv.Itoa(n) + `}`)
		}), nil
	})
	s := start(t, market(), sim.WithSource(src))
	const st = "btcusdt@aggTrade"
	ws := connect(t, s.URL()+"/ws/"+st)
	first := seqOf(t, read(t, ws))
	ws.Close()
	waitFor(t, "the server to see the close", func() bool { return len(s.OpenConns()) == 0 })
	away := s.Published(st)
	waitFor(t, "publishing with nobody subscribed", func() bool { return s.Published(st) >= away+5 })
	ws = connect(t, s.URL()+"/ws/"+st)
	next := seqOf(t, read(t, ws))
	if next <= away+5 || next <= first+5 {
		t.Fatalf("first payload %d, after the outage %d: the feed did not advance while away (published %d at the close)", first, next, away)
	}
	if got := s.Published(st); got < next {
		t.Fatalf("Published %d, but payload %d arrived", got, next)
	}
}

func TestNumbered(t *testing.T) {
	src := &sim.Numbered{}
	s := start(t, market(), sim.WithSource(src))
	const agg, trade, depth = "btcusdt@aggTrade", "ethusdt@trade", "btcusdt@depth@100ms"
	ws := connect(t, s.URL()+"/stream?streams="+agg+"/"+trade+"/"+depth)
	type event struct {
		Event   string          `json:"e"`
		Time    int64           `json:"E"`
		Symbol  string          `json:"s"`
		A       json.RawMessage `json:"a"` // aggregate id, or the asks of a depth update
		Trade   int64           `json:"t"`
		First   int64           `json:"f"`
		Last    int64           `json:"l"`
		FirstU  int64           `json:"U"`
		LastU   int64           `json:"u"`
		Price   string          `json:"p"`
		Qty     string          `json:"q"`
		TradeAt int64           `json:"T"`
		Maker   *bool           `json:"m"`
		Best    bool            `json:"M"` // without it, "M" would fill Maker
		Bids    [][2]string     `json:"b"`
		Agg     int64
	}
	last := map[string]int64{}
	for len(last) < 3 || last[agg] < 20 || last[trade] < 20 || last[depth] < 40 {
		var env struct {
			Stream string
			Data   event
		}
		if err := json.Unmarshal([]byte(read(t, ws)), &env); err != nil {
			t.Fatal(err)
		}
		ev, prev := env.Data, last[env.Stream]
		switch env.Stream {
		case agg:
			ev.Agg, _ = strconv.ParseInt(string(ev.A), 10, 64)
			if ev.Event != "aggTrade" || ev.Symbol != "BTCUSDT" || ev.Agg != prev+1 || ev.First != ev.Agg || ev.Last != ev.Agg ||
				ev.Price == "" || ev.Qty != "1.000" || ev.TradeAt == 0 || ev.Maker == nil || *ev.Maker || !ev.Best {
				t.Fatalf("after a=%d: %+v", prev, ev)
			}
			last[agg] = ev.Agg
		case trade:
			if ev.Event != "trade" || ev.Symbol != "ETHUSDT" || ev.Trade != prev+1 {
				t.Fatalf("after t=%d: %+v", prev, ev)
			}
			last[trade] = ev.Trade
		case depth:
			if ev.Event != "depthUpdate" || ev.FirstU != prev+1 || ev.LastU <= ev.FirstU || len(ev.Bids) != 1 {
				t.Fatalf("after u=%d: %+v", prev, ev)
			}
			last[depth] = ev.LastU
		default:
			t.Fatalf("stream %q", env.Stream)
		}
	}
	for st, n := range last {
		if got := src.Last(st); got < n {
			t.Fatalf("%s: Last %d, but %d arrived", st, got, n)
		}
	}
	if p, l := s.Published(agg), src.Last(agg); p < last[agg] || l < p {
		t.Fatalf("Published %d, Last %d, received %d", p, l, last[agg])
	}
	for _, bad := range []string{"btcusdt@bookTicker", "BTCUSDT@aggTrade", "@aggTrade", "btcusdt"} {
		if _, err := src.Open(bad); err == nil {
			t.Errorf("Numbered opened %q", bad)
		}
	}
}

func TestConnIDsFollowDials(t *testing.T) {
	s := start(t, market())
	for i := range 8 {
		connect(t, s.URL()+"/ws?n="+strconv.Itoa(i+1))
		// No waiting: Conns lists a connection as soon as its dial returned.
		ci := s.Conns()
		if len(ci) != i+1 || ci[i].ID != i+1 || ci[i].Path != "/ws?n="+strconv.Itoa(i+1) {
			t.Fatalf("after dial %d: %+v", i+1, ci)
		}
	}
}

func TestLatency(t *testing.T) {
	const lag = 100 * time.Millisecond
	s := start(t, market(), sim.WithSource(&sim.Numbered{}),
		sim.WithLatency(func(id int) time.Duration {
			if id == 2 {
				return lag
			}
			return 0
		}))
	const st = "btcusdt@aggTrade"
	fast := connect(t, s.URL()+"/ws/"+st)
	slow := connect(t, s.URL()+"/ws/"+st)
	if ci := s.Conns(); ci[0].Latency != 0 || ci[1].Latency != lag {
		t.Fatalf("conns %+v", ci)
	}
	// Read both at once and time each frame as it arrives; E is the tick
	// time in ms, at or before the frame was queued.
	type frame struct {
		id   int64
		late time.Duration // arrival - E
	}
	readAll := func(ws *websocket.Conn) (out []frame, err error) {
		var ev struct {
			Kind string `json:"e"` // without it, "e" would fill E
			A    int64  `json:"a"`
			E    int64  `json:"E"`
		}
		for range 30 {
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, b, err := ws.ReadMessage()
			if err != nil {
				return out, err
			}
			arrived := time.Now()
			if err := json.Unmarshal(b, &ev); err != nil {
				return out, err
			}
			out = append(out, frame{ev.A, arrived.Sub(time.UnixMilli(ev.E))})
		}
		return out, nil
	}
	var fastFrames []frame
	var fastErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		fastFrames, fastErr = readAll(fast)
	}()
	slowFrames, err := readAll(slow)
	<-done
	if err != nil || fastErr != nil {
		t.Fatal(err, fastErr)
	}
	prompt := 0
	for i, f := range fastFrames {
		if f.late < lag {
			prompt++
		}
		if i > 0 && f.id != fastFrames[i-1].id+1 {
			t.Fatalf("fast: %d after %d", f.id, fastFrames[i-1].id)
		}
	}
	if prompt == 0 {
		t.Fatalf("the connection without latency never got a frame within %v: %v", lag, fastFrames)
	}
	for i, f := range slowFrames {
		if f.late < lag-time.Millisecond {
			t.Fatalf("slow: frame %d arrived %v after its publish time, want >= %v", f.id, f.late, lag)
		}
		if i > 0 && f.id != slowFrames[i-1].id+1 {
			t.Fatalf("slow: %d after %d", f.id, slowFrames[i-1].id)
		}
	}
}

func TestConnectionBudget(t *testing.T) {
	const window = 500 * time.Millisecond
	s := start(t, market(), sim.WithConnectionBudget(3, window))
	t0 := time.Now()
	for range 3 {
		connect(t, s.URL()+"/ws")
	}
	_, resp, err := websocket.DefaultDialer.Dial(s.URL()+"/ws", nil)
	if time.Since(t0) > window {
		t.Skip("the machine took longer than the window for four dials")
	}
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th attempt in the window: %v, %+v", err, resp)
	}
	if v := s.Violations(); v.ConnectionAttempts != 1 || v.MaxAttemptsPerWindow != 4 || v.Window != window {
		t.Fatalf("violations %+v", v)
	}
	if n := len(s.Conns()); n != 3 {
		t.Fatalf("%d connections accepted", n)
	}
	time.Sleep(window) // every attempt so far leaves the window
	connect(t, s.URL()+"/ws")
	if v := s.Violations(); v.ConnectionAttempts != 1 {
		t.Fatalf("violations %+v", v)
	}
}

func TestViolations(t *testing.T) {
	s := start(t, market())
	if v := s.Violations(); v != (sim.Violations{Window: 5 * time.Minute}) {
		t.Fatalf("before: %+v", v)
	}
	// Too many streams, at the handshake and in a SUBSCRIBE.
	if _, _, err := websocket.DefaultDialer.Dial(s.URL()+"/stream?streams=btcusdt@aggTrade/btcusdt@depth/ethusdt@aggTrade/bnbusdt@aggTrade", nil); err == nil {
		t.Fatal("4 streams accepted with a limit of 3")
	}
	ws := connect(t, s.URL()+"/ws")
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"method":"SUBSCRIBE","params":["btcusdt@aggTrade","btcusdt@depth","ethusdt@aggTrade","bnbusdt@aggTrade"],"id":1}`))
	if f := readReply(t, ws); !strings.Contains(f, "too many streams") {
		t.Fatalf("got %s", f)
	}
	// Too many messages: 6 within a second with a limit of 5 (one sent already).
	for i := range 5 {
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"method":"LIST_SUBSCRIPTIONS","id":`+strconv.Itoa(i+2)+`}`))
	}
	for {
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := ws.ReadMessage(); err != nil {
			break
		}
	}
	waitFor(t, "the 1008 close to be counted", func() bool { return s.Violations().Messages == 1 })
	if v := s.Violations(); v.Streams != 2 || v.ConnectionAttempts != 0 || v.MaxAttemptsPerWindow != 2 {
		t.Fatalf("violations %+v", v)
	}
}

// closeCode reads until the connection ends and returns its close code
// (1006 for an abrupt close).
func closeCode(t *testing.T, ws *websocket.Conn) int {
	t.Helper()
	for {
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		if ce, ok := err.(*websocket.CloseError); ok {
			return ce.Code
		}
		if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
			t.Fatal("connection still open")
		}
		return websocket.CloseAbnormalClosure
	}
}

func TestClosePolicyAfterSubscribe(t *testing.T) {
	s := start(t, market())
	s.ClosePolicyAfterSubscribe(true)
	ws := connect(t, s.URL()+"/ws")
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"method":"SUBSCRIBE","params":["btcusdt@aggTrade"],"id":1}`))
	if f := readReply(t, ws); f != `{"result":null,"id":1}` {
		t.Fatalf("reply %s", f)
	}
	if code := closeCode(t, ws); code != websocket.ClosePolicyViolation {
		t.Fatalf("SUBSCRIBE: closed with %d", code)
	}
	if code := closeCode(t, connect(t, s.URL()+"/stream?streams=btcusdt@aggTrade")); code != websocket.ClosePolicyViolation {
		t.Fatalf("URL streams: closed with %d", code)
	}
	for _, ci := range s.Conns() {
		if ci.Closed != "policy close after subscribe" {
			t.Fatalf("conn %+v", ci)
		}
	}
	s.ClosePolicyAfterSubscribe(false)
	ws = connect(t, s.URL()+"/stream?streams=btcusdt@aggTrade")
	if f := read(t, ws); !strings.HasPrefix(f, `{"stream":"btcusdt@aggTrade"`) {
		t.Fatalf("after the loop: %s", f)
	}
	if v := s.Violations(); v.Messages != 0 {
		t.Fatalf("a policy close counted as a message-limit violation: %+v", v)
	}
}

func TestRejectStream(t *testing.T) {
	s := start(t, market(), sim.WithSource(&sim.Numbered{}), sim.WithStreamLimit(1024), sim.WithPublishInterval(0))
	const bad = "sym77usdt@aggTrade"
	s.RejectStream(bad, -1121, "Invalid symbol.")
	var batch []string
	for i := range 200 {
		batch = append(batch, `"sym`+strconv.Itoa(i)+`usdt@aggTrade"`)
	}
	ws := connect(t, s.URL()+"/stream")
	send := func(id int, names []string) string {
		t.Helper()
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"method":"SUBSCRIBE","params":[`+strings.Join(names, ",")+`],"id":`+strconv.Itoa(id)+`}`))
		return readReply(t, ws)
	}
	if f := send(1, batch); f != `{"error":{"code":-1121,"msg":"Invalid symbol."},"id":1}` {
		t.Fatalf("batch with %s: %s", bad, f)
	}
	if ci := s.Conns()[0]; len(ci.Streams) != 0 {
		t.Fatalf("a rejected batch subscribed %v", ci.Streams)
	}
	without := slices.Delete(slices.Clone(batch), 77, 78)
	if f := send(2, without); f != `{"result":null,"id":2}` {
		t.Fatalf("batch without %s: %s", bad, f)
	}
	if _, resp, err := websocket.DefaultDialer.Dial(s.URL()+"/ws/"+bad, nil); err == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("URL with %s: %v", bad, err)
	}
	s.RejectStream(bad, 0, "")
	if f := send(3, []string{`"` + bad + `"`}); f != `{"result":null,"id":3}` {
		t.Fatalf("after lifting: %s", f)
	}
	if ci := s.Conns()[0]; len(ci.Streams) != 200 {
		t.Fatalf("%d streams subscribed", len(ci.Streams))
	}
}

func TestSendOversized(t *testing.T) {
	s := start(t, market(), sim.WithPublishInterval(0))
	ws := connect(t, s.URL()+"/ws")
	const n = 1<<20 + 1
	if got := s.SendOversized(n); got != 1 {
		t.Fatalf("sent to %d", got)
	}
	if f := read(t, ws); len(f) != n || !json.Valid([]byte(f)) {
		t.Fatalf("frame of %d bytes, valid JSON %v", len(f), json.Valid([]byte(f)))
	}
	s.SendOversized(3)
	if f := read(t, ws); f != "xxx" {
		t.Fatalf("got %q", f)
	}
}

func TestPingStorm(t *testing.T) {
	s := start(t, market(), sim.WithPublishInterval(0), sim.WithMessageLimit(0, 0))
	ws := connect(t, s.URL()+"/ws")
	pings := 0 // the handler runs in ReadMessage, on this goroutine
	ws.SetPingHandler(func(p string) error {
		pings++
		return ws.WriteControl(websocket.PongMessage, []byte(p), time.Now().Add(time.Second))
	})
	s.PingStorm(50)
	s.SendRaw([]byte(`{"after":"storm"}`)) // pings go ahead of queued frames
	if f := read(t, ws); f != `{"after":"storm"}` || pings != 50 {
		t.Fatalf("%d pings before %s", pings, f)
	}
	waitFor(t, "the 50 pongs", func() bool { return s.Conns()[0].BadPongs == 50 })

	// With the message limit on, the client's pongs close the connection.
	s = start(t, market(), sim.WithPublishInterval(0))
	ws = connect(t, s.URL()+"/ws")
	s.PingStorm(50)
	// The close frame may be lost to a reset: the client is still sending
	// pongs when the server closes the socket.
	if code := closeCode(t, ws); code != websocket.ClosePolicyViolation && code != websocket.CloseAbnormalClosure {
		t.Fatalf("closed with %d", code)
	}
	waitFor(t, "the 1008 close to be counted", func() bool { return s.Violations().Messages == 1 })
	if ci := s.Conns()[0]; ci.Closed != "too many requests" {
		t.Fatalf("conn %+v", ci)
	}
}

func TestNoPong(t *testing.T) {
	s := start(t, market())
	ws := connect(t, s.URL()+"/ws/btcusdt@aggTrade")
	pongs := make(chan string, 10)
	ws.SetPongHandler(func(p string) error { pongs <- p; return nil })
	// ping sends a ping and reads frames for wait; it returns whether the pong
	// came and how many data frames arrived.
	ping := func(payload string, wait time.Duration) (ponged bool, frames int) {
		t.Helper()
		if err := ws.WriteControl(websocket.PingMessage, []byte(payload), time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		end := time.Now().Add(wait)
		for time.Now().Before(end) {
			_ = ws.SetReadDeadline(end)
			if _, _, err := ws.ReadMessage(); err != nil {
				break
			}
			frames++
			select {
			case p := <-pongs:
				if p != payload {
					t.Fatalf("pong %q to ping %q", p, payload)
				}
				return true, frames
			default:
			}
		}
		return len(pongs) > 0, frames
	}
	if ok, _ := ping("one", 5*time.Second); !ok {
		t.Fatal("no pong before NoPong")
	}
	if n := s.NoPong(); n != 1 {
		t.Fatalf("NoPong reached %d", n)
	}
	if ok, frames := ping("two", 200*time.Millisecond); ok || frames == 0 {
		t.Fatalf("after NoPong: pong %v, %d data frames", ok, frames)
	}
}

func TestSendServerShutdownAndClose(t *testing.T) {
	s := start(t, market(), sim.WithPublishInterval(0), sim.WithLatency(func(int) time.Duration { return 30 * time.Millisecond }))
	combined := connect(t, s.URL()+"/stream")
	raw := connect(t, s.URL()+"/ws")
	s.SendRaw([]byte(`{"before":1}`))
	sent := time.Now()
	if n := s.SendServerShutdownAndClose(); n != 2 {
		t.Fatalf("sent to %d", n)
	}
	for _, c := range []struct {
		ws     *websocket.Conn
		prefix string
	}{{combined, `{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":`}, {raw, `{"e":"serverShutdown","E":`}} {
		if f := read(t, c.ws); f != `{"before":1}` {
			t.Fatalf("got %s before the notice", f)
		}
		if f := read(t, c.ws); !strings.HasPrefix(f, c.prefix) {
			t.Fatalf("notice %s", f)
		}
		if code := closeCode(t, c.ws); code != websocket.CloseAbnormalClosure {
			t.Fatalf("closed with %d, want an abrupt close", code)
		}
	}
	if d := time.Since(sent); d < 30*time.Millisecond {
		t.Fatalf("closed %v after the notice was sent, before the connection's latency", d)
	}
	waitFor(t, "the server to forget the connections", func() bool { return len(s.OpenConns()) == 0 })
	for _, ci := range s.Conns() {
		if ci.Closed != "server shutdown" {
			t.Fatalf("conn %+v", ci)
		}
	}
}

// TestOpenErrorReported: a stream the validity check accepts but the
// source cannot open stays subscribed and silent, and the server says so
// once, however many connections subscribe; a manual stream (published by
// hand) is not opened and not reported.
func TestOpenErrorReported(t *testing.T) {
	var mu sync.Mutex
	var notes []string
	s := start(t, market(),
		sim.WithValid(func(string) bool { return true }),
		sim.WithManual(func(stream string) bool { return stream == "hand@made" }),
		sim.WithLogf(func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			notes = append(notes, fmt.Sprintf(format, args...))
		}))
	for i := range 2 {
		ws := connect(t, s.URL()+"/stream")
		req := `{"method":"SUBSCRIBE","params":["nofeed@x","hand@made","btcusdt@aggTrade"],"id":` + strconv.Itoa(i+1) + `}`
		if err := ws.WriteMessage(websocket.TextMessage, []byte(req)); err != nil {
			t.Fatal(err)
		}
		if got, want := readReply(t, ws), `{"result":null,"id":`+strconv.Itoa(i+1)+`}`; got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
		if n := s.Publish("hand@made", []byte(`{"h":1}`)); n != i+1 {
			t.Fatalf("Publish reached %d connections, want %d", n, i+1)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{`sim: test stream "nofeed@x" is subscribed but gets no data: sim: no fixtures for stream "nofeed@x"`}
	if !slices.Equal(notes, want) {
		t.Errorf("notes %q, want %q", notes, want)
	}
}

// TestNoSourceIsManual: without a Source every stream is valid and
// published by hand, with nothing reported.
func TestNoSourceIsManual(t *testing.T) {
	var notes atomic.Int32
	s := sim.New(market(), sim.WithLogf(func(string, ...any) { notes.Add(1) }))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ws := connect(t, s.URL()+"/stream?streams=any@thing")
	s.Conns() // waits for the handshake, and so the subscription, to finish
	if n := s.Publish("any@thing", []byte(`{"a":1}`)); n != 1 {
		t.Fatalf("Publish reached %d connections, want 1", n)
	}
	if got := read(t, ws); got != `{"stream":"any@thing","data":{"a":1}}` {
		t.Fatalf("got %s", got)
	}
	if n := notes.Load(); n != 0 {
		t.Errorf("%d notes for a server without a source", n)
	}
}
