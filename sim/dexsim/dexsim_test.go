package dexsim_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/dexsim"
	"github.com/marketwire/marketwire/sim/synth"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	addrA = "bnb1z220ps26qlwfgz5dew9hdxe8m5malre3qy6zr9"
	addrB = "tbnb1r4gc5ftrkr9ez2khph4h5xxd0mf0hd75jf06gw"
)

// personal serves the three personal streams of addrA and addrB (which the
// schema's synth source may not know yet), each payload naming its address.
func personal() sim.Replay {
	r := sim.Replay{}
	for i, a := range []string{addrA, addrB} {
		r[a+"@accounts"] = [][]byte{[]byte(fmt.Sprintf(`{"e":"outboundAccountInfo","E":%d,"B":[{"a":"BNB","f":"1.00000000","r":"0.00000000","l":"0.00000000"}]}`, 100+i))}
		r[a+"@orders"] = [][]byte{[]byte(fmt.Sprintf(`[{"e":"executionReport","E":%d,"s":"BNB_ETH","S":1,"o":2,"f":1,"X":"Ack","i":"1D51-%d"}]`, 200+i, i))}
		r[a+"@transfers"] = [][]byte{[]byte(fmt.Sprintf(`{"e":"outboundTransferInfo","E":%d,"f":%q,"t":[]}`, 300+i, a))}
	}
	return r
}

// sources is personal() before the schema's moving examples.
func sources(t *testing.T) sim.Source {
	t.Helper()
	src, err := synth.Source("dex", 7)
	if err != nil {
		t.Fatal(err)
	}
	return sim.Sources{personal(), src}
}

func start(t *testing.T, opts ...dexsim.Option) *dexsim.Server {
	t.Helper()
	s := dexsim.New(opts...)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// client reads frames in the background, so that it answers pings as a
// real client does.
type client struct {
	ws     *websocket.Conn
	frames chan []byte
	stop   chan struct{}
	done   chan struct{} // closed when the reader ends; err is then set
	err    error
}

func dial(t *testing.T, url string, setup ...func(*websocket.Conn)) *client {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	for _, f := range setup {
		f(ws)
	}
	c := &client{ws: ws, frames: make(chan []byte, 1024), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				c.err = err
				return
			}
			select {
			case c.frames <- b:
			case <-c.stop:
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(c.stop)
		ws.Close()
		<-c.done
	})
	return c
}

func (c *client) send(t *testing.T, msg string) {
	t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

func (c *client) raw(t *testing.T) string {
	t.Helper()
	select {
	case b := <-c.frames:
		return string(b)
	case <-c.done:
		t.Fatalf("connection ended: %v", c.err)
	case <-time.After(2 * time.Second):
		t.Fatal("no frame within 2 s")
	}
	return ""
}

type frame struct {
	Stream string          `json:"stream"`
	Data   json.RawMessage `json:"data"`
}

func (c *client) next(t *testing.T) frame {
	t.Helper()
	raw := c.raw(t)
	var f frame
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil || f.Stream == "" || len(f.Data) == 0 {
		t.Fatalf("frame %s: not {stream, data}: %v", raw, err)
	}
	return f
}

// quiet fails if a frame arrives within d.
func (c *client) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case b := <-c.frames:
		t.Fatalf("unexpected frame %s", b)
	case <-c.done:
		t.Fatalf("connection ended: %v", c.err)
	case <-time.After(d):
	}
}

// ended waits for the server to end the connection and returns the read
// error.
func (c *client) ended(t *testing.T) error {
	t.Helper()
	for {
		select {
		case <-c.frames:
		case <-c.done:
			return c.err
		case <-time.After(2 * time.Second):
			t.Fatal("connection still open after 2 s")
		}
	}
}

// fields decodes a JSON object by key. (encoding/json matches struct tags
// case-insensitively, and DEX payloads hold both "e" and "E", "c" and "C".)
func fields(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return m
}

// elems decodes a JSON array of objects by key.
func elems(t *testing.T, raw []byte) []map[string]any {
	t.Helper()
	var a []map[string]any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return a
}

// events decodes one object or an array of objects.
func events(t *testing.T, raw []byte) []map[string]any {
	t.Helper()
	if strings.HasPrefix(strings.TrimSpace(string(raw)), "[") {
		return elems(t, raw)
	}
	return []map[string]any{fields(t, raw)}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func info(s *dexsim.Server, id int) dexsim.ConnInfo {
	for _, ci := range s.Conns() {
		if ci.ID == id {
			return ci
		}
	}
	return dexsim.ConnInfo{}
}

func waitStreams(t *testing.T, s *dexsim.Server, id int, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	waitFor(t, fmt.Sprintf("conn %d streams %q", id, want), func() bool {
		return slices.Equal(info(s, id).Streams, want)
	})
}

func TestSubscribeTradesByMessage(t *testing.T) {
	s := start(t, dexsim.WithPublishInterval(5*time.Millisecond))
	if !strings.HasPrefix(s.URL(), "ws://127.0.0.1:") || !strings.HasSuffix(s.URL(), "/api") {
		t.Fatalf("URL %q, want ws://127.0.0.1:PORT/api", s.URL())
	}
	c := dial(t, s.URL()+"/ws")
	msg := `{"method":"subscribe","topic":"trades","symbols":["BNB_BTCB-1DE","100K-9BC_BNB"]}`
	c.send(t, msg)

	seen := map[string]int{}
	for len(seen) < 2 || seen["BNB_BTCB-1DE"] < 2 || seen["100K-9BC_BNB"] < 2 {
		f := c.next(t)
		if f.Stream != "trades" {
			t.Fatalf("stream %q, want trades", f.Stream)
		}
		trades := elems(t, f.Data)
		if len(trades) == 0 {
			t.Fatalf("data %s: want a non-empty array of trades", f.Data)
		}
		tr := trades[0]
		if tr["e"] != "trade" || tr["t"] == "" || tr["p"] == "" {
			t.Fatalf("trade %s: want e=trade with t and p", f.Data)
		}
		sym, _ := tr["s"].(string)
		if sym != "BNB_BTCB-1DE" && sym != "100K-9BC_BNB" {
			t.Fatalf("trade for %q, not a subscribed symbol", sym)
		}
		seen[sym]++
	}

	ci := info(s, 1)
	if want := []string{"100K-9BC_BNB@trades", "BNB_BTCB-1DE@trades"}; !slices.Equal(ci.Streams, want) {
		t.Errorf("Streams %q, want %q", ci.Streams, want)
	}
	if !ci.Open || ci.Path != "/api/ws" || ci.Invalid != 0 || !slices.Equal(ci.Messages, []string{msg}) {
		t.Errorf("ConnInfo %+v", ci)
	}
}

func TestAllMarketTopics(t *testing.T) {
	s := start(t, dexsim.WithPublishInterval(5*time.Millisecond))
	c := dial(t, s.URL()+"/ws")
	c.send(t, `{"method":"subscribe","topic":"allTickers","symbols":["$all"]}`)
	c.send(t, `{"method":"subscribe","topic":"blockheight","symbols":["$all"]}`)

	var heights []int64
	tickers := 0
	for len(heights) < 2 || tickers < 2 {
		f := c.next(t)
		switch f.Stream {
		case "allTickers":
			ts := elems(t, f.Data)
			if len(ts) == 0 || ts[0]["e"] != "24hrTicker" || ts[0]["s"] == "" || ts[0]["c"] == "" {
				t.Fatalf("allTickers data %s: want an array of 24hrTicker", f.Data)
			}
			tickers++
		case "blockheight":
			var b struct {
				H int64 `json:"h"`
			}
			if err := json.Unmarshal(f.Data, &b); err != nil || b.H <= 0 {
				t.Fatalf("blockheight data %s (%v)", f.Data, err)
			}
			heights = append(heights, b.H)
		default:
			t.Fatalf("stream %q", f.Stream)
		}
	}
	if heights[1] <= heights[0] {
		t.Errorf("block heights %v do not advance", heights)
	}
	waitStreams(t, s, 1, "$all@allTickers", "$all@blockheight")
}

func TestPersonalTopics(t *testing.T) {
	s := start(t, dexsim.WithSource(sources(t)), dexsim.WithPublishInterval(0))
	c := dial(t, s.URL()+"/ws")

	c.send(t, `{"method":"subscribe","topic":"accounts","address":"`+addrA+`"}`)
	waitStreams(t, s, 1, addrA+"@accounts")
	if a := info(s, 1).Address; a != addrA {
		t.Fatalf("Address %q, want %q", a, addrA)
	}
	p := `{"e":"outboundAccountInfo","E":7364509,"B":[{"a":"BNB","f":"1371.08750000","r":"0.00000000","l":"0.00000000"}]}`
	if n := s.Publish(addrA+"@accounts", []byte(p)); n != 1 {
		t.Fatalf("Publish reached %d, want 1", n)
	}
	if got, want := c.raw(t), `{"stream":"accounts","data":`+p+`}`; got != want {
		t.Fatalf("frame\n%s\nwant\n%s", got, want)
	}

	// A second subscribe on the same address adds a topic.
	c.send(t, `{"method":"subscribe","topic":"transfers","address":"`+addrA+`"}`)
	waitStreams(t, s, 1, addrA+"@accounts", addrA+"@transfers")

	// A new address replaces the old one; the topics move with it.
	c.send(t, `{"method":"subscribe","topic":"orders","address":"`+addrB+`"}`)
	waitStreams(t, s, 1, addrB+"@accounts", addrB+"@orders", addrB+"@transfers")
	if a := info(s, 1).Address; a != addrB {
		t.Fatalf("Address %q, want %q", a, addrB)
	}
	for _, st := range []string{addrA + "@accounts", addrA + "@transfers", addrA + "@orders"} {
		if n := s.Publish(st, []byte(`{}`)); n != 0 {
			t.Errorf("Publish(%s) reached %d after the address changed, want 0", st, n)
		}
	}
	orders := `[{"e":"executionReport","E":7366949,"s":"100K-9BC_BNB","X":"FullyFill","T":1554890366040313451}]`
	if n := s.Publish(addrB+"@orders", []byte(orders)); n != 1 {
		t.Fatalf("Publish reached %d, want 1", n)
	}
	if got, want := c.raw(t), `{"stream":"orders","data":`+orders+`}`; got != want {
		t.Fatalf("frame\n%s\nwant\n%s", got, want)
	}

	c.send(t, `{"method":"unsubscribe","topic":"orders"}`)
	waitStreams(t, s, 1, addrB+"@accounts", addrB+"@transfers")
	c.send(t, `{"method":"unsubscribe","topic":"accounts"}`)
	c.send(t, `{"method":"unsubscribe","topic":"transfers"}`)
	waitStreams(t, s, 1)
	if ci := info(s, 1); ci.Address != "" || ci.Invalid != 0 {
		t.Errorf("after unsubscribing everything: %+v", ci)
	}
}

func TestUnsubscribe(t *testing.T) {
	s := start(t, dexsim.WithPublishInterval(2*time.Millisecond))
	c := dial(t, s.URL()+"/ws")
	c.send(t, `{"method":"subscribe","topic":"trades","symbols":["BNB_ETH","BNB_BTCB-1DE"]}`)
	c.send(t, `{"method":"subscribe","topic":"ticker","symbols":["BNB_ETH"]}`)
	waitStreams(t, s, 1, "BNB_BTCB-1DE@trades", "BNB_ETH@ticker", "BNB_ETH@trades")

	c.send(t, `{"method":"unsubscribe","topic":"trades","symbols":["BNB_ETH"]}`)
	waitStreams(t, s, 1, "BNB_BTCB-1DE@trades", "BNB_ETH@ticker")
	c.send(t, `{"method":"unsubscribe","topic":"trades"}`)
	waitStreams(t, s, 1, "BNB_ETH@ticker")

	// Only ticker frames from now on (after what was already in flight).
	time.Sleep(20 * time.Millisecond)
	for len(c.frames) > 0 {
		<-c.frames
	}
	for range 5 {
		if f := c.next(t); f.Stream != "ticker" {
			t.Fatalf("%s frame after unsubscribing trades", f.Stream)
		}
	}
	if n := s.Publish("BNB_ETH@trades", []byte(`[]`)); n != 0 {
		t.Errorf("Publish(BNB_ETH@trades) reached %d, want 0", n)
	}

	c.send(t, `{"method":"unsubscribe","topic":"ticker","symbols":["BNB_ETH"]}`)
	waitStreams(t, s, 1)
	time.Sleep(20 * time.Millisecond)
	for len(c.frames) > 0 {
		<-c.frames
	}
	c.quiet(t, 100*time.Millisecond) // 50 ticks
	if ci := info(s, 1); !ci.Open || ci.Invalid != 0 {
		t.Errorf("ConnInfo %+v", ci)
	}
}

func TestURLForms(t *testing.T) {
	s := start(t, dexsim.WithSource(sources(t)), dexsim.WithPublishInterval(5*time.Millisecond))

	// One market stream.
	depth := dial(t, s.URL()+"/ws/BNB_ETH@marketDepth100")
	for range 2 {
		f := depth.next(t)
		var d struct {
			Symbol string     `json:"symbol"`
			Bids   [][]string `json:"bids"`
		}
		if err := json.Unmarshal(f.Data, &d); err != nil || f.Stream != "marketDepth100" || d.Symbol != "BNB_ETH" || len(d.Bids) == 0 {
			t.Fatalf("frame %s %s: want marketDepth100 of BNB_ETH (%v)", f.Stream, f.Data, err)
		}
	}

	// The personal stream: three topics.
	pers := dial(t, s.URL()+"/ws/"+addrA)
	got := map[string]string{}
	for len(got) < 3 {
		f := pers.next(t)
		got[f.Stream] = string(f.Data)
	}
	want := personal()
	for _, topic := range []string{"accounts", "orders", "transfers"} {
		if got[topic] != string(want[addrA+"@"+topic][0]) {
			t.Errorf("%s data %s, want %s", topic, got[topic], want[addrA+"@"+topic][0])
		}
	}

	// Several streams.
	multi := dial(t, s.URL()+"/stream?streams=BNB_ETH@kline_1m/$all@blockheight/"+addrB)
	topics := map[string]bool{}
	for len(topics) < 5 {
		f := multi.next(t)
		topics[f.Stream] = true
		if f.Stream == "kline_1m" {
			k := fields(t, f.Data)
			if kk, _ := k["k"].(map[string]any); k["e"] != "kline" || k["s"] != "BNB_ETH" || kk["i"] != "1m" {
				t.Fatalf("kline data %s", f.Data)
			}
		}
	}
	if want := map[string]bool{"kline_1m": true, "blockheight": true, "accounts": true, "orders": true, "transfers": true}; !mapsEqual(topics, want) {
		t.Errorf("topics %v, want %v", topics, want)
	}

	cs := s.Conns()
	if len(cs) != 3 {
		t.Fatalf("%d conns, want 3", len(cs))
	}
	wantStreams := [][]string{
		{"BNB_ETH@marketDepth100"},
		{addrA + "@accounts", addrA + "@orders", addrA + "@transfers"},
		{"$all@blockheight", "BNB_ETH@kline_1m", addrB + "@accounts", addrB + "@orders", addrB + "@transfers"},
	}
	wantPaths := []string{"/api/ws/BNB_ETH@marketDepth100", "/api/ws/" + addrA, "/api/stream?streams=BNB_ETH@kline_1m/$all@blockheight/" + addrB}
	for i, ci := range cs {
		if !slices.Equal(ci.Streams, wantStreams[i]) || ci.Path != wantPaths[i] {
			t.Errorf("conn %d: path %q streams %q, want %q %q", ci.ID, ci.Path, ci.Streams, wantPaths[i], wantStreams[i])
		}
	}
	if cs[1].Address != addrA || cs[2].Address != addrB {
		t.Errorf("addresses %q %q", cs[1].Address, cs[2].Address)
	}

	// A URL subscription and a message subscription add up.
	depth.send(t, `{"method":"subscribe","topic":"orders","address":"`+addrA+`"}`)
	waitStreams(t, s, 1, "BNB_ETH@marketDepth100", addrA+"@orders")
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestBadURLs(t *testing.T) {
	s := start(t, dexsim.WithSource(sources(t)), dexsim.WithPublishInterval(0))
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/api/ws/BNB_ETH@nope", http.StatusBadRequest},
		{"/api/ws/BNB_ETH@kline_2m", http.StatusBadRequest},
		{"/api/ws/" + addrA + "@accounts", http.StatusBadRequest}, // marketwire's name, not the DEX's
		{"/api/ws/$all@trades", http.StatusBadRequest},
		{"/api/ws/BNB_ETH@allTickers", http.StatusBadRequest},
		{"/api/ws/BAD!@trades", http.StatusBadRequest}, // the source cannot serve it
		{"/api/ws/notanaddress", http.StatusBadRequest},
		{"/api/stream?streams=" + addrA + "/" + addrB, http.StatusBadRequest},
		{"/api/ws/a@trades/b@trades", http.StatusBadRequest},
		{"/ws", http.StatusNotFound},
		{"/api/streams", http.StatusNotFound},
	} {
		base := strings.TrimSuffix(s.URL(), "/api")
		_, resp, err := websocket.DefaultDialer.Dial(base+tc.path, nil)
		if err == nil {
			t.Errorf("%s: connected", tc.path)
			continue
		}
		if resp == nil || resp.StatusCode != tc.code {
			t.Errorf("%s: %v, want HTTP %d", tc.path, err, tc.code)
		}
		if resp != nil {
			resp.Body.Close()
		}
	}
	if n := len(s.Conns()); n != 0 {
		t.Errorf("%d connections accepted", n)
	}
}

func TestInvalidMessagesCountedNotAnswered(t *testing.T) {
	s := start(t, dexsim.WithPublishInterval(0))
	c := dial(t, s.URL()+"/ws")
	invalid := []string{
		`not json`,
		`["subscribe"]`,
		`{"method":"subscribe"}`,
		`{"method":"SUBSCRIBE","topic":"trades","symbols":["BNB_ETH"]}`,
		`{"method":"fly"}`,
		`{"method":"subscribe","topic":"nope","symbols":["BNB_ETH"]}`,
		`{"method":"subscribe","topic":"kline_2m","symbols":["BNB_ETH"]}`,
		`{"method":"subscribe","topic":"trades"}`,
		`{"method":"subscribe","topic":"trades","symbols":[]}`,
		`{"method":"subscribe","topic":"trades","symbols":"BNB_ETH"}`,
		`{"method":"subscribe","topic":"trades","symbols":["$all"]}`,
		`{"method":"subscribe","topic":"allTickers","symbols":["BNB_ETH"]}`,
		`{"method":"subscribe","topic":"trades","symbols":["BAD!"]}`,
		`{"method":"subscribe","topic":"orders"}`,
		`{"method":"subscribe","topic":"orders","address":"0xabc"}`,
		`{"method":"subscribe","topic":"orders","address":"` + addrA + `"}`, // the synth source has no such stream
		`{"method":"unsubscribe","topic":"nope"}`,
		`{"method":"unsubscribe"}`,
		// Half valid: BNB_ETH is subscribed, the message still counts as invalid.
		`{"method":"subscribe","topic":"trades","symbols":["BNB_ETH","BAD!"]}`,
	}
	src, err := synth.Source("dex", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Open(addrA + "@orders"); err == nil {
		invalid = slices.DeleteFunc(invalid, func(m string) bool { return strings.Contains(m, addrA) })
	}
	for _, m := range invalid {
		c.send(t, m)
	}
	if err := c.ws.WriteMessage(websocket.BinaryMessage, []byte(`{"method":"keepAlive"}`)); err != nil {
		t.Fatal(err)
	}
	c.send(t, `{"method":"keepAlive"}`)
	waitFor(t, "the keepAlive", func() bool { return info(s, 1).KeepAlives == 1 })

	ci := info(s, 1)
	if ci.Invalid != len(invalid)+1 {
		t.Errorf("Invalid = %d, want %d", ci.Invalid, len(invalid)+1)
	}
	if want := append(slices.Clone(invalid), `{"method":"keepAlive"}`); !slices.Equal(ci.Messages, want) {
		t.Errorf("Messages\n%q\nwant\n%q", ci.Messages, want)
	}
	if want := []string{"BNB_ETH@trades"}; !slices.Equal(ci.Streams, want) {
		t.Errorf("Streams %q, want %q", ci.Streams, want)
	}
	c.quiet(t, 50*time.Millisecond) // no reply, no error frame
	if !info(s, 1).Open {
		t.Error("connection closed")
	}
}

func TestKeepAliveWindow(t *testing.T) {
	const window = 150 * time.Millisecond
	s := start(t, dexsim.WithKeepAliveWindow(window), dexsim.WithPublishInterval(0), dexsim.WithPing(0, 0))
	began := time.Now()
	idle := dial(t, s.URL()+"/ws")
	kept := dial(t, s.URL()+"/ws/BNB_ETH@trades")

	for range 8 { // 240 ms, well past one window
		time.Sleep(30 * time.Millisecond)
		kept.send(t, `{"method":"keepAlive"}`)
	}
	err := idle.ended(t)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure || ce.Text != "keepAlive window expired" {
		t.Errorf("idle connection ended with %v, want close 1000 keepAlive window expired", err)
	}
	ci := info(s, 1)
	if ci.Open || ci.Closed != "keepAlive window expired" || ci.KeepAlives != 0 {
		t.Errorf("idle ConnInfo %+v", ci)
	}
	waitFor(t, "8 keepAlives", func() bool { return info(s, 2).KeepAlives == 8 })
	if ci := info(s, 2); !ci.Open {
		t.Fatalf("kept connection closed: %+v", ci)
	}

	// Without keepAlives the kept connection expires too.
	last := time.Now()
	if err := kept.ended(t); !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure {
		t.Errorf("kept connection ended with %v, want close 1000", err)
	}
	if d := time.Since(last); d < window-40*time.Millisecond {
		t.Errorf("kept connection closed %v after the last keepAlive, want about %v", d, window)
	}
	if d := time.Since(began); d < 240*time.Millisecond+window-40*time.Millisecond {
		t.Errorf("kept connection lived %v", d)
	}
}

func TestPingPongDeadline(t *testing.T) {
	s := start(t, dexsim.WithPing(20*time.Millisecond, 60*time.Millisecond), dexsim.WithPublishInterval(0))
	_ = dial(t, s.URL()+"/ws") // answers pings from its reader
	began := time.Now()
	mute := dial(t, s.URL()+"/ws", func(ws *websocket.Conn) {
		ws.SetPingHandler(func(string) error { return nil }) // never pong
	})

	err := mute.ended(t)
	if !websocket.IsCloseError(err, websocket.CloseAbnormalClosure) {
		t.Errorf("mute connection ended with %v, want an abrupt close", err)
	}
	if d := time.Since(began); d < 60*time.Millisecond {
		t.Errorf("mute connection closed after %v, before the pong deadline", d)
	}
	if ci := info(s, 2); ci.Open || ci.Closed != "pong timeout" || ci.Pings < 1 || ci.Pongs != 0 {
		t.Errorf("mute ConnInfo %+v", ci)
	}

	waitFor(t, "6 pings", func() bool { return info(s, 1).Pings >= 6 })
	waitFor(t, "5 pongs", func() bool { return info(s, 1).Pongs >= 5 })
	if ci := info(s, 1); !ci.Open || ci.Closed != "" {
		t.Errorf("answering connection closed: %+v", ci)
	}
}

func TestFaults(t *testing.T) {
	s := start(t, dexsim.WithPublishInterval(0))
	a := dial(t, s.URL()+"/ws/BNB_ETH@trades")
	b := dial(t, s.URL()+"/stream?streams=BNB_ETH@trades")
	c := dial(t, s.URL()+"/ws")

	payload := `[{"e":"trade","E":7549438,"s":"BNB_ETH","t":"7549438-0","p":"3333.00000000","q":"0.02611100","T":1554964166437515341,"tt":2}]`
	if n := s.Publish("BNB_ETH@trades", []byte(payload)); n != 2 {
		t.Fatalf("Publish reached %d, want 2", n)
	}
	for _, cl := range []*client{a, b} {
		if got, want := cl.raw(t), `{"stream":"trades","data":`+payload+`}`; got != want {
			t.Errorf("frame %s, want %s", got, want)
		}
	}
	if n := s.Publish("BNB_BTCB-1DE@trades", []byte(payload)); n != 0 {
		t.Errorf("Publish to an unsubscribed stream reached %d", n)
	}

	if n := s.SendRaw([]byte(`{"not":"wrapped"`)); n != 3 {
		t.Fatalf("SendRaw reached %d, want 3", n)
	}
	for _, cl := range []*client{a, b, c} {
		if got := cl.raw(t); got != `{"not":"wrapped"` {
			t.Errorf("raw frame %s", got)
		}
	}
	c.quiet(t, 20*time.Millisecond) // c got nothing but the raw frame

	// The close method closes cleanly.
	c.send(t, `{"method":"close"}`)
	if err := c.ended(t); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("close method: %v, want close 1000", err)
	}
	waitFor(t, "conn 3 to close", func() bool { return !info(s, 3).Open })
	if ci := info(s, 3); ci.Closed != "close requested" {
		t.Errorf("conn 3 closed: %q", ci.Closed)
	}

	if n := s.DropConnections(); n != 2 {
		t.Fatalf("DropConnections = %d, want 2", n)
	}
	for _, cl := range []*client{a, b} {
		if err := cl.ended(t); !websocket.IsCloseError(err, websocket.CloseAbnormalClosure) {
			t.Errorf("dropped connection ended with %v, want an abrupt close", err)
		}
	}
	for _, id := range []int{1, 2} {
		if ci := info(s, id); ci.Open || ci.Closed != "dropped" {
			t.Errorf("conn %d after DropConnections: %+v", id, ci)
		}
	}
	if n := s.Publish("BNB_ETH@trades", []byte(payload)); n != 0 {
		t.Errorf("Publish after DropConnections reached %d", n)
	}
	if n := s.DropConnections(); n != 0 {
		t.Errorf("second DropConnections = %d", n)
	}
}

func TestSlowConsumerClosed(t *testing.T) {
	s := start(t, dexsim.WithPublishInterval(0), dexsim.WithOutboundBuffer(4))
	ws, _, err := websocket.DefaultDialer.Dial(s.URL()+"/ws/BNB_ETH@trades", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close() // never read

	big := []byte(`["` + strings.Repeat("x", 64<<10) + `"]`)
	sent := 0
	for sent < 5000 && s.Publish("BNB_ETH@trades", big) == 1 {
		sent++
	}
	if sent == 5000 {
		t.Fatal("the server queued 5000 frames of 64 KiB for a client that does not read")
	}
	waitFor(t, "the slow connection to close", func() bool { return !info(s, 1).Open })
	if ci := info(s, 1); ci.Closed != "slow consumer" {
		t.Errorf("closed for %q, want slow consumer", ci.Closed)
	}
}

func TestSharedFeed(t *testing.T) {
	var mu sync.Mutex
	opens := map[string]int{}
	src := sim.SourceFunc(func(stream string) (sim.Feed, error) {
		if stream != "BNB_ETH@trades" {
			return nil, fmt.Errorf("no %s", stream)
		}
		mu.Lock()
		opens[stream]++
		mu.Unlock()
		n := 0
		return sim.FeedFunc(func(time.Time) []byte {
			n++
			return []byte(fmt.Sprintf(`[{"n":%d}]`, n))
		}), nil
	})
	s := start(t, dexsim.WithSource(src), dexsim.WithPublishInterval(3*time.Millisecond))
	a := dial(t, s.URL()+"/ws/BNB_ETH@trades")
	b := dial(t, s.URL()+"/ws")
	b.send(t, `{"method":"subscribe","topic":"trades","symbols":["BNB_ETH"]}`)
	waitStreams(t, s, 2, "BNB_ETH@trades")

	seq := func(c *client, k int) []int {
		var out []int
		for len(out) < k {
			var v []struct{ N int }
			f := c.next(t)
			if err := json.Unmarshal(f.Data, &v); err != nil || len(v) != 1 {
				t.Fatalf("data %s", f.Data)
			}
			out = append(out, v[0].N)
		}
		return out
	}
	sa, sb := seq(a, 20), seq(b, 5)
	if sa[0] != 1 {
		t.Errorf("first connection started at payload %d, want 1", sa[0])
	}
	for _, sq := range [][]int{sa, sb} {
		for i := 1; i < len(sq); i++ {
			if sq[i] != sq[i-1]+1 {
				t.Fatalf("payloads %v are not one shared sequence", sq)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if opens["BNB_ETH@trades"] != 1 {
		t.Errorf("feed opened %d times, want once", opens["BNB_ETH@trades"])
	}
}

func TestHandler(t *testing.T) {
	s := dexsim.New(dexsim.WithPublishInterval(2 * time.Millisecond))
	hs := httptest.NewServer(s)
	defer func() {
		s.Close()
		hs.Close()
		s.Close() // idempotent
	}()
	if s.URL() != "" {
		t.Errorf("URL before Start = %q", s.URL())
	}
	c := dial(t, "ws"+strings.TrimPrefix(hs.URL, "http")+"/api/ws/BNB_ETH@miniTicker")
	f := c.next(t)
	if m := fields(t, f.Data); f.Stream != "miniTicker" || m["e"] != "24hrTicker" || m["s"] != "BNB_ETH" {
		t.Errorf("frame %s %s: want miniTicker of BNB_ETH", f.Stream, f.Data)
	}
}

// TestSynthPersonal reads the personal topics from the default source, once
// the schema names them <address>@accounts, @orders and @transfers.
func TestSynthPersonal(t *testing.T) {
	src, err := synth.Source("dex", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Open(addrA + "@orders"); err != nil {
		t.Skipf("the synth source does not serve personal streams yet: %v", err)
	}
	s := start(t, dexsim.WithPublishInterval(5*time.Millisecond))
	c := dial(t, s.URL()+"/ws/"+addrA)
	seen := map[string]bool{}
	for len(seen) < 3 {
		f := c.next(t)
		switch f.Stream {
		// The DEX sent one object where its docs show an array of events;
		// the server passes on what the source makes, either shape.
		case "accounts":
			if a := events(t, f.Data); len(a) == 0 || a[0]["e"] != "outboundAccountInfo" {
				t.Fatalf("accounts data %s", f.Data)
			}
		case "transfers":
			if a := events(t, f.Data); len(a) == 0 || a[0]["e"] != "outboundTransferInfo" {
				t.Fatalf("transfers data %s", f.Data)
			}
		case "orders":
			if a := elems(t, f.Data); len(a) == 0 || a[0]["e"] != "executionReport" {
				t.Fatalf("orders data %s", f.Data)
			}
		default:
			t.Fatalf("stream %q on the personal stream", f.Stream)
		}
		seen[f.Stream] = true
	}
}
