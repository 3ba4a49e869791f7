package zdexsim_test

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/zdexsim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const token = "s3cr3t-jwt-token"

func start(t *testing.T, opts ...zdexsim.Option) *zdexsim.Server {
	t.Helper()
	s := zdexsim.New(append([]zdexsim.Option{zdexsim.WithPublishInterval(5 * time.Millisecond)}, opts...)...)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// frame is any frame the server sends.
type frame struct {
	Event          string          `json:"event"`
	Channel        string          `json:"channel"`
	Symbol         string          `json:"symbol"`
	Channels       []string        `json:"channels"`
	Symbols        []string        `json:"symbols"`
	PollIntervalMs int             `json:"pollIntervalMs"`
	Message        string          `json:"message"`
	AccountID      string          `json:"accountId"`
	SubAccountID   string          `json:"subAccountId"`
	Data           json.RawMessage `json:"data"`
	TS             int64           `json:"ts"`
	raw            string
}

type client struct {
	t  *testing.T
	ws *websocket.Conn
}

// dial connects and checks the welcome frame.
func dial(t *testing.T, s *zdexsim.Server) *client {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(s.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	c := &client{t, ws}
	if f := c.read(); f.Event != "connected" {
		t.Fatalf("first frame %s, want the welcome", f.raw)
	}
	return c
}

func (c *client) send(msg string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) read() frame {
	c.t.Helper()
	f, err := c.tryRead(5 * time.Second)
	if err != nil {
		c.t.Fatal(err)
	}
	return f
}

func (c *client) tryRead(d time.Duration) (frame, error) {
	_ = c.ws.SetReadDeadline(time.Now().Add(d))
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		return frame{}, err
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		return frame{}, err
	}
	f.raw = string(b)
	return f, nil
}

// readUntil reads until a frame satisfies ok, and returns the frames read.
func (c *client) readUntil(ok func(frame) bool) []frame {
	c.t.Helper()
	var out []frame
	for {
		f := c.read()
		out = append(out, f)
		if ok(f) {
			return out
		}
		if len(out) > 10000 {
			c.t.Fatal("no matching frame in 10000")
		}
	}
}

// control reads past data frames to the next control or error reply.
func (c *client) control() frame {
	c.t.Helper()
	fs := c.readUntil(func(f frame) bool { return f.Channel == "" })
	return fs[len(fs)-1]
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestWelcome(t *testing.T) {
	for _, tc := range []struct {
		opts    []zdexsim.Option
		symbols []string
	}{
		{nil, []string{"BTCUSDT", "ETHUSDT"}},
		{[]zdexsim.Option{zdexsim.WithSymbols("SOLUSDT")}, []string{"SOLUSDT"}},
	} {
		s := start(t, tc.opts...)
		if !strings.HasPrefix(s.URL(), "ws://127.0.0.1:") || !strings.HasSuffix(s.URL(), "/ws") {
			t.Errorf("URL %q", s.URL())
		}
		ws, _, err := websocket.DefaultDialer.Dial(s.URL(), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, b, err := ws.ReadMessage()
		ws.Close()
		if err != nil {
			t.Fatal(err)
		}
		sym, _ := json.Marshal(tc.symbols)
		want := `{"event":"connected","channels":["orderbook","trades","ticker","kline","markprice"],"symbols":` + string(sym) + `,"pollIntervalMs":2000}`
		if string(b) != want {
			t.Errorf("welcome\n got %s\nwant %s", b, want)
		}
	}
}

func TestOnlyWSPath(t *testing.T) {
	s := start(t)
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get("http" + strings.TrimSuffix(strings.TrimPrefix(s.URL(), "ws"), "/ws") + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /stream: %d, want 404", resp.StatusCode)
	}
}

// TestHandler serves the simulator through httptest instead of Start.
func TestHandler(t *testing.T) {
	s := zdexsim.New(zdexsim.WithPublishInterval(0))
	hs := httptest.NewServer(s)
	defer hs.Close()
	defer s.Close()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	c := &client{t, ws}
	if f := c.read(); f.Event != "connected" {
		t.Fatalf("got %s", f.raw)
	}
}

func TestSubscribeData(t *testing.T) {
	s := start(t)
	c := dial(t, s)
	channels := []string{"ticker", "orderbook", "trades", "kline", "markprice"}
	for _, ch := range channels {
		c.send(`{"action":"subscribe","channel":"` + ch + `","symbol":"ETHUSDT"}`)
		f := c.control()
		want := `{"event":"subscribed","channels":["` + ch + `"],"symbols":["ETHUSDT"]}`
		if f.raw != want {
			t.Fatalf("ack\n got %s\nwant %s", f.raw, want)
		}
	}
	if got, want := connAt(t, s, 0).Streams, []string{"kline:ETHUSDT", "markprice:ETHUSDT", "orderbook:ETHUSDT", "ticker:ETHUSDT", "trades:ETHUSDT"}; !slices.Equal(got, want) {
		t.Errorf("streams %v, want %v", got, want)
	}
	begin := time.Now().Add(-time.Second).UnixMilli()
	seen := map[string]int{}
	c.readUntil(func(f frame) bool {
		if f.Symbol != "ETHUSDT" || !slices.Contains(channels, f.Channel) {
			t.Fatalf("unexpected frame %s", f.raw)
		}
		if f.TS < begin || f.TS > time.Now().UnixMilli() {
			t.Fatalf("ts %d not now: %s", f.TS, f.raw)
		}
		seen[f.Channel]++
		checkPayload(t, f)
		for _, ch := range channels {
			if seen[ch] < 2 {
				return false
			}
		}
		return true
	})
}

// checkPayload decodes the data of a market frame and checks its members.
func checkPayload(t *testing.T, f frame) {
	t.Helper()
	positive := func(what, s string) {
		if v, err := strconv.ParseFloat(s, 64); err != nil || v <= 0 {
			t.Fatalf("%s: %s %q is not a positive decimal string", f.Channel, what, s)
		}
	}
	switch f.Channel {
	case "ticker":
		var d struct{ Symbol, LastPrice, Volume string }
		must(t, json.Unmarshal(f.Data, &d))
		if d.Symbol != f.Symbol {
			t.Fatalf("ticker symbol %q in frame of %s", d.Symbol, f.Symbol)
		}
		positive("lastPrice", d.LastPrice)
		positive("volume", d.Volume)
	case "markprice":
		var d struct {
			Symbol, MarkPrice string
			NextFundingTime   int64
		}
		must(t, json.Unmarshal(f.Data, &d))
		if d.Symbol != f.Symbol || d.NextFundingTime <= 0 {
			t.Fatalf("markprice %s", f.Data)
		}
		positive("markPrice", d.MarkPrice)
	case "orderbook":
		var d struct {
			LastUpdateID int64 `json:"lastUpdateId"`
			Bids, Asks   [][2]string
		}
		must(t, json.Unmarshal(f.Data, &d))
		if d.LastUpdateID <= 0 || len(d.Bids) == 0 || len(d.Asks) == 0 {
			t.Fatalf("orderbook %s", f.Data)
		}
		positive("bid price", d.Bids[0][0])
		positive("ask qty", d.Asks[0][1])
	case "trades":
		var d []struct {
			ID         int64
			Price, Qty string
			Time       int64
		}
		must(t, json.Unmarshal(f.Data, &d))
		if len(d) == 0 || d[0].ID <= 0 || d[0].Time <= 0 {
			t.Fatalf("trades %s", f.Data)
		}
		positive("price", d[0].Price)
	case "kline":
		var d [][]json.RawMessage
		must(t, json.Unmarshal(f.Data, &d))
		if len(d) == 0 || len(d[0]) != 12 {
			t.Fatalf("kline %s", f.Data)
		}
		var open int64
		var close string
		must(t, json.Unmarshal(d[0][0], &open))
		must(t, json.Unmarshal(d[0][4], &close))
		positive("close", close)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	s := start(t)
	c := dial(t, s)
	for _, tc := range []struct{ send, want string }{
		{`{"action":"subscribe","channel":"depth","symbol":"BTCUSDT"}`, `Unknown channel "depth"`},
		{`{"action":"subscribe","channel":"ticker","symbol":"DOGEUSDT"}`, `Unknown symbol "DOGEUSDT"`},
		{`{"action":"subscribe","channel":"ticker"}`, `Missing symbol for channel ticker`},
		{`{"action":"subscribe","channel":"account"}`, `Authentication required for channel account`},
		{`{"action":"auth","token":"wrong"}`, `Invalid or expired token`},
		{`{"action":"auth"}`, `Invalid or expired token`},
		{`{"action":"subscribe",`, `Invalid JSON message`},
		{`{"action":"list"}`, `Unknown action "list"`},
		{`{"channel":"ticker"}`, `Missing action`},
		{`{"action":"subscribe","channel":"ticker","symbol":1}`, `action, channel and symbol must be strings`},
	} {
		c.send(tc.send)
		got := c.control().raw
		want, _ := json.Marshal(map[string]string{"event": "error", "message": tc.want})
		if got != string(want) { // keys sorted: event, message
			t.Errorf("%s:\n got %s\nwant %s", tc.send, got, want)
		}
	}
	ci := connAt(t, s, 0)
	if ci.Errors != 10 || ci.Authenticated || len(ci.Streams) != 0 || len(ci.Messages) != 10 {
		t.Errorf("conn info %+v", ci)
	}
}

// TestAuthWithoutToken: a server with no token configured rejects every auth.
func TestAuthWithoutToken(t *testing.T) {
	s := start(t)
	c := dial(t, s)
	c.send(`{"action":"auth","token":""}`)
	if f := c.control(); f.Event != "error" || f.Message != "Invalid or expired token" {
		t.Fatalf("got %s", f.raw)
	}
	if connAt(t, s, 0).Authenticated {
		t.Error("authenticated without a token")
	}
}

type accountState struct {
	Balances []struct {
		Asset, WalletBalance string
	}
	OpenOrders []struct {
		OrderID int64 `json:"orderId"`
		Symbol  string
	}
	Positions []struct {
		Symbol   string
		Leverage int
	}
}

func checkState(t *testing.T, f frame) {
	t.Helper()
	if f.Channel != "account" || f.Event != "" || f.Symbol != "" || f.TS < time.Now().Add(-time.Minute).UnixMilli() {
		t.Fatalf("not a state frame: %s", f.raw)
	}
	var st accountState
	must(t, json.Unmarshal(f.Data, &st))
	if len(st.Balances) == 0 || st.Balances[0].Asset != "USDT" || len(st.OpenOrders) == 0 || st.OpenOrders[0].OrderID <= 0 ||
		len(st.Positions) == 0 || st.Positions[0].Leverage <= 0 {
		t.Fatalf("state %s", f.Data)
	}
}

func TestAccount(t *testing.T) {
	s := start(t, zdexsim.WithToken(token), zdexsim.WithEventInterval(2*time.Millisecond), zdexsim.WithAccountInterval(20*time.Millisecond))
	c := dial(t, s)
	other := dial(t, s) // authenticated but not subscribed: no account frames
	other.send(`{"action":"auth","token":"` + token + `"}`)

	c.send(`{"action":"auth","token":"` + token + `"}`)
	if f := c.read(); f.raw != `{"event":"authenticated","accountId":"clx...","subAccountId":"34696153"}` {
		t.Fatalf("auth reply %s", f.raw)
	}
	checkState(t, c.read()) // right after auth
	c.send(`{"action":"subscribe","channel":"account"}`)
	if f := c.read(); f.raw != `{"event":"subscribed","channels":["account"],"symbols":[]}` {
		t.Fatalf("ack %s", f.raw)
	}
	checkState(t, c.read()) // right after the subscription

	begin := time.Now().Add(-time.Second).UnixMilli()
	kinds := map[string]int{}
	states := 0
	c.readUntil(func(f frame) bool {
		if f.Channel != "account" || f.TS < begin {
			t.Fatalf("unexpected frame %s", f.raw)
		}
		if f.Event == "" {
			checkState(t, f)
			states++
		} else {
			kinds[f.Event]++
			checkEvent(t, f)
		}
		return len(kinds) == 7 && kinds["position_update"] >= 2 && states >= 1
	})

	if ci := connAt(t, s, 0); !ci.Authenticated || !slices.Equal(ci.Streams, []string{"account"}) {
		t.Errorf("conn 1 %+v", ci)
	}
	if ci := connAt(t, s, 1); !ci.Authenticated || len(ci.Streams) != 0 {
		t.Errorf("conn 2 %+v", ci)
	}
	// other got its authenticated reply and one state, then nothing.
	if f := other.read(); f.Event != "authenticated" {
		t.Fatalf("other: %s", f.raw)
	}
	checkState(t, other.read())
	if f, err := other.tryRead(50 * time.Millisecond); !isTimeout(err) {
		t.Fatalf("unsubscribed connection got %s (%v)", f.raw, err)
	}

	// Unsubscribing stops account frames.
	c.send(`{"action":"unsubscribe","channel":"account"}`)
	c.send(`{"action":"ping"}`)
	c.readUntil(func(f frame) bool { return f.Event == "pong" })
	if f, err := c.tryRead(50 * time.Millisecond); !isTimeout(err) {
		t.Fatalf("frame after unsubscribe: %s (%v)", f.raw, err)
	}
}

func checkEvent(t *testing.T, f frame) {
	t.Helper()
	var d map[string]json.RawMessage
	must(t, json.Unmarshal(f.Data, &d))
	var want []string
	switch f.Event {
	case "order_new", "order_canceled":
		want = []string{"order"}
	case "order_update":
		want = []string{"orderId", "symbol", "oldStatus", "newStatus"}
	case "position_update":
		want = []string{"symbol", "positionId", "quantity"}
	case "balance_update":
		want = []string{"type", "symbol", "free", "locked", "total"}
	case "futures_account_update":
		want = []string{"availableBalance", "marginRatio", "marginCallRate"}
		if d["marginRatio"][0] == '"' {
			t.Errorf("marginRatio should be a JSON number: %s", f.Data)
		}
	case "notification":
	default:
		t.Fatalf("unknown event kind %q", f.Event)
	}
	for _, k := range want {
		if _, ok := d[k]; !ok {
			t.Fatalf("%s lacks %s: %s", f.Event, k, f.Data)
		}
	}
}

func TestPublishAccount(t *testing.T) {
	s := start(t, zdexsim.WithToken(token), zdexsim.WithPublishInterval(0))
	c := dial(t, s)
	if n := s.PublishAccount([]byte(`{"channel":"account","event":"deposit_update","data":{},"ts":1}`)); n != 0 {
		t.Fatalf("PublishAccount before auth reached %d", n)
	}
	c.send(`{"action":"auth","token":"` + token + `"}`)
	c.send(`{"action":"subscribe","channel":"account"}`)
	c.readUntil(func(f frame) bool { return f.Event == "subscribed" })
	c.read() // state
	raw := `{"channel":"account","event":"deposit_update","data":{"id":7},"ts":1}`
	if n := s.PublishAccount([]byte(raw)); n != 1 {
		t.Fatalf("PublishAccount reached %d", n)
	}
	if f := c.read(); f.raw != raw {
		t.Fatalf("got %s", f.raw)
	}
	if n := s.Publish("account", []byte(`{"balances":[],"openOrders":[],"positions":[]}`)); n != 1 {
		t.Fatalf("Publish account reached %d", n)
	}
	if f := c.read(); f.Channel != "account" || string(f.Data) != `{"balances":[],"openOrders":[],"positions":[]}` || f.TS <= 1 {
		t.Fatalf("got %s", f.raw)
	}
}

func TestUnsubscribe(t *testing.T) {
	s := start(t)
	c := dial(t, s)
	c.send(`{"action":"subscribe","channel":"ticker","symbol":"BTCUSDT"}`)
	c.send(`{"action":"subscribe","channel":"trades","symbol":"BTCUSDT"}`)
	// Both confirmations, then ticker data: the trades confirmation may
	// come after the first ticker frame.
	subscribed, ticker := 0, false
	c.readUntil(func(f frame) bool {
		if f.Event == "subscribed" {
			subscribed++
		}
		ticker = ticker || f.Channel == "ticker"
		return subscribed == 2 && ticker
	})
	c.send(`{"action":"unsubscribe","channel":"ticker","symbol":"BTCUSDT"}`)
	c.send(`{"action":"ping"}`)
	for _, f := range c.readUntil(func(f frame) bool { return f.Event == "pong" }) {
		if f.Event != "" && f.Event != "pong" {
			t.Fatalf("reply to unsubscribe: %s", f.raw)
		}
	}
	trades := 0
	deadline := time.Now().Add(100 * time.Millisecond)
	for time.Now().Before(deadline) {
		f := c.read()
		if f.Channel != "trades" {
			t.Fatalf("frame after unsubscribe: %s", f.raw)
		}
		trades++
	}
	if trades == 0 {
		t.Error("trades stopped too")
	}
	if got := connAt(t, s, 0).Streams; !slices.Equal(got, []string{"trades:BTCUSDT"}) {
		t.Errorf("streams %v", got)
	}
}

func TestPingAndIdleTimeout(t *testing.T) {
	s := start(t, zdexsim.WithIdleTimeout(150*time.Millisecond), zdexsim.WithPublishInterval(0))
	c := dial(t, s)
	var lastPing time.Time
	for i := 0; i < 6; i++ { // 300 ms of pings every 50 ms keep it open
		if i > 0 {
			time.Sleep(50 * time.Millisecond)
		}
		before := time.Now().UnixMilli()
		lastPing = time.Now()
		c.send(`{"action":"ping"}`)
		f := c.read()
		if f.Event != "pong" || f.TS < before || f.TS > time.Now().UnixMilli() || !strings.HasPrefix(f.raw, `{"event":"pong","ts":`) {
			t.Fatalf("pong %s", f.raw)
		}
	}
	if ci := connAt(t, s, 0); !ci.Open || ci.Pings != 6 {
		t.Fatalf("after pings: %+v", ci)
	}
	// Other messages are no heartbeat: the server closes the connection
	// 150 ms after the last ping although subscribes keep coming.
	var err error
	for err == nil {
		time.Sleep(20 * time.Millisecond)
		_ = c.ws.WriteMessage(websocket.TextMessage, []byte(`{"action":"subscribe","channel":"ticker","symbol":"BTCUSDT"}`))
		_, err = c.tryRead(time.Second)
	}
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure || ce.Text != "idle timeout" {
		t.Fatalf("read after going idle: %v", err)
	}
	if d := time.Since(lastPing); d < 150*time.Millisecond || d > time.Second {
		t.Errorf("closed %v after the last ping", d)
	}
	waitClosed(t, s, 0, "idle timeout")
}

// connAt returns what the server says of its connection i, or ends the
// test when it lists no such connection (rather than panicking, which
// would skip every later test).
func connAt(t *testing.T, s *zdexsim.Server, i int) zdexsim.ConnInfo {
	t.Helper()
	cs := s.Conns()
	if i >= len(cs) {
		t.Fatalf("the server lists %d connections, want connection %d", len(cs), i+1)
	}
	return cs[i]
}

// TestRegisteredAtDial: a connection is listed, and reached by SendRaw and
// DropConnections, as soon as the client's dial returns, before the client
// reads anything. (The server once registered it after the upgrade, which
// can lag the client's end of the handshake.)
func TestRegisteredAtDial(t *testing.T) {
	s := start(t, zdexsim.WithPublishInterval(0))
	const n = 50
	for i := 0; i < n; i++ {
		ws, _, err := websocket.DefaultDialer.Dial(s.URL(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		if got := len(s.Conns()); got != i+1 {
			t.Fatalf("dial %d returned; the server lists %d connections", i+1, got)
		}
		if got := s.SendRaw([]byte(`{"n":1}`)); got != i+1 {
			t.Fatalf("dial %d returned; SendRaw reached %d connections", i+1, got)
		}
	}
	if got := s.DropConnections(); got != n {
		t.Fatalf("DropConnections: %d, want %d", got, n)
	}
	ws, _, err := websocket.DefaultDialer.Dial(s.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if got := s.DropConnections(); got != 1 {
		t.Fatalf("DropConnections right after a dial: %d, want 1", got)
	}
	_ = ws.SetReadDeadline(time.Now().Add(time.Second))
	for {
		_, b, err := ws.ReadMessage()
		if err == nil { // the welcome frame may have been written first
			if !strings.Contains(string(b), `"event":"connected"`) {
				t.Fatalf("frame %s after the drop", b)
			}
			continue
		}
		if isTimeout(err) {
			t.Fatal("a connection dropped during its handshake stayed open")
		}
		break
	}
}

func waitClosed(t *testing.T, s *zdexsim.Server, i int, reason string) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ci := connAt(t, s, i); !ci.Open {
			if ci.Closed != reason {
				t.Fatalf("conn %d closed: %q, want %q", i, ci.Closed, reason)
			}
			return
		}
	}
	t.Fatalf("conn %d still open", i)
}

func TestUnsolicited(t *testing.T) {
	t.Run("on", func(t *testing.T) {
		s := start(t, zdexsim.WithUnsolicited(true))
		c := dial(t, s)
		want := map[string]bool{}
		for _, sym := range []string{"BTCUSDT", "ETHUSDT"} {
			for _, ch := range []string{"orderbook", "trades", "ticker", "kline"} {
				want[ch+":"+sym] = true
			}
		}
		got := map[string]bool{}
		c.readUntil(func(f frame) bool {
			if !want[f.Channel+":"+f.Symbol] {
				t.Fatalf("unexpected frame %s", f.raw)
			}
			checkPayload(t, f)
			got[f.Channel+":"+f.Symbol] = true
			return len(got) == len(want)
		})
		// A subscribed pushed stream arrives once per tick, not twice.
		c.send(`{"action":"subscribe","channel":"markprice","symbol":"BTCUSDT"}`)
		c.send(`{"action":"subscribe","channel":"ticker","symbol":"BTCUSDT"}`)
		c.readUntil(func(f frame) bool { return f.Event == "subscribed" && f.Channels[0] == "ticker" })
		n := map[string]int{}
		c.readUntil(func(f frame) bool {
			n[f.Channel+":"+f.Symbol]++
			return n["ticker:ETHUSDT"] == 20
		})
		if d := n["ticker:BTCUSDT"] - n["ticker:ETHUSDT"]; d < -1 || d > 1 || n["markprice:BTCUSDT"] < 18 {
			t.Errorf("frame counts %v", n)
		}
	})
	t.Run("off", func(t *testing.T) {
		s := start(t)
		c := dial(t, s)
		if f, err := c.tryRead(50 * time.Millisecond); !isTimeout(err) {
			t.Fatalf("unsolicited frame %s (%v)", f.raw, err)
		}
	})
}

func TestPublishSendRawDrop(t *testing.T) {
	src := sim.Replay{"ticker:BTCUSDT": {[]byte(`{"symbol":"BTCUSDT","lastPrice":"1.5"}`)}}
	s := start(t, zdexsim.WithPublishInterval(0), zdexsim.WithSource(src))
	a, b := dial(t, s), dial(t, s)
	a.send(`{"action":"subscribe","channel":"ticker","symbol":"BTCUSDT"}`)
	a.control()
	before := time.Now().UnixMilli()
	if n := s.Publish("ticker:BTCUSDT", []byte(`{"symbol":"BTCUSDT","lastPrice":"2.5"}`)); n != 1 {
		t.Fatalf("Publish reached %d", n)
	}
	f := a.read()
	want := `{"channel":"ticker","symbol":"BTCUSDT","data":{"symbol":"BTCUSDT","lastPrice":"2.5"},"ts":` + strconv.FormatInt(f.TS, 10) + `}`
	if f.raw != want || f.TS < before {
		t.Fatalf("got %s\nwant %s", f.raw, want)
	}
	if n := s.Publish("ticker:ETHUSDT", []byte(`{}`)); n != 0 {
		t.Fatalf("Publish to nobody reached %d", n)
	}
	if n := s.SendRaw([]byte(`{"hello":1}`)); n != 2 {
		t.Fatalf("SendRaw reached %d", n)
	}
	for _, c := range []*client{a, b} {
		if _, err := c.tryRead(time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.DropConnections(); n != 2 {
		t.Fatalf("DropConnections: %d", n)
	}
	for i, c := range []*client{a, b} {
		if _, err := c.tryRead(time.Second); err == nil || isTimeout(err) {
			t.Fatalf("read after drop: %v", err)
		}
		waitClosed(t, s, i, "dropped")
	}
	if n := s.DropConnections(); n != 0 {
		t.Fatalf("second DropConnections: %d", n)
	}
}

func TestSlowConsumer(t *testing.T) {
	s := start(t, zdexsim.WithPublishInterval(0), zdexsim.WithOutboundBuffer(4))
	c := dial(t, s)
	c.send(`{"action":"subscribe","channel":"ticker","symbol":"BTCUSDT"}`)
	c.control()
	payload := []byte(`"` + strings.Repeat("x", 1<<20) + `"`)
	sent := 0
	for i := 0; i < 500; i++ { // the client does not read: 500 MB cannot fit
		if s.Publish("ticker:BTCUSDT", payload) == 0 {
			break
		}
		sent++
	}
	if sent == 500 {
		t.Fatal("a client that does not read was never dropped")
	}
	waitClosed(t, s, 0, "slow consumer")
}

func TestTokenNeverShown(t *testing.T) {
	s := start(t, zdexsim.WithToken(token))
	c := dial(t, s)
	msgs := []string{
		`{"action":"auth","token":"wrong-` + token + `"}`,
		`{"action":"auth", "token" : "` + token + `"}`,
		`{"action":"auth","token":"` + token, // truncated
		`{"action":"` + token + `"}`,
		`{"action":"subscribe","channel":"` + token + `","symbol":"BTCUSDT"}`,
	}
	var frames []string
	for _, m := range msgs {
		c.send(m)
		c.send(`{"action":"ping"}`)
		for _, f := range c.readUntil(func(f frame) bool { return f.Event == "pong" }) {
			frames = append(frames, f.raw)
		}
	}
	for _, f := range frames {
		if strings.Contains(f, token) {
			t.Errorf("frame shows the token: %s", f)
		}
	}
	ci := connAt(t, s, 0)
	want := []string{
		`{"action":"auth","token":"<redacted>"}`,
		`{"action":"ping"}`,
		`{"action":"auth", "token" : "<redacted>"}`,
		`{"action":"ping"}`,
		`{"action":"auth","token":"<redacted>`,
		`{"action":"ping"}`,
		`{"action":"<redacted>"}`,
		`{"action":"ping"}`,
		`{"action":"subscribe","channel":"<redacted>","symbol":"BTCUSDT"}`,
		`{"action":"ping"}`,
	}
	if diff := cmp.Diff(want, ci.Messages); diff != "" {
		t.Errorf("messages (-want +got)\n%s", diff)
	}
	if !ci.Authenticated || ci.Pings != 5 || ci.Errors != 4 {
		t.Errorf("conn info %+v", ci)
	}
}

// TestClose: Close ends connections and every goroutine (goleak checks the
// rest), and may be called twice.
func TestClose(t *testing.T) {
	s := zdexsim.New(zdexsim.WithPublishInterval(time.Millisecond))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	c := dial(t, s)
	c.send(`{"action":"subscribe","channel":"ticker","symbol":"BTCUSDT"}`)
	c.control()
	s.Close()
	s.Close()
	for {
		if _, err := c.tryRead(time.Second); err != nil {
			if isTimeout(err) {
				t.Fatal("connection still open after Close")
			}
			break
		}
	}
	if ci := connAt(t, s, 0); ci.Open || ci.Closed != "server closed" {
		t.Errorf("conn info %+v", ci)
	}
}
