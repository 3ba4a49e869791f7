package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/marketwire/marketwire/generated/dex"
	"github.com/marketwire/marketwire/generated/zdex"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim/dexsim"
	"github.com/marketwire/marketwire/sim/zdexsim"
	"github.com/marketwire/marketwire/wire"
)

// These tests run the generated DEX and ZDEX bindings through the unchanged
// runtime against the venues' simulators. The simulators are written from
// the protocol references, independently of the schema's dialect blocks, so
// a wrong dialect setting shows up here.

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	dexSymbol  = "BNB_BTCB-1DE"
	dexSymbol2 = "100K-9BC_BNB"
	dexAddress = "tbnb1r4gc5ftrkr9ez2khph4h5xxd0mf0hd75jf06gw"
)

// recorder keeps a Conn's lifecycle events.
type recorder struct {
	mu     sync.Mutex
	events []runtime.Event
}

func (r *recorder) add(e runtime.Event) { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() }

func (r *recorder) all() []runtime.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *recorder) count(k runtime.EventKind) int {
	n := 0
	for _, e := range r.all() {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func dialMarket(t *testing.T, m *runtime.Market, url string, opts ...runtime.Option) (*runtime.Conn, *recorder) {
	t.Helper()
	rec := &recorder{}
	opts = append([]runtime.Option{runtime.WithURL(url), runtime.OnEvent(rec.add)}, opts...)
	c, err := runtime.Dial(testCtx(t), m, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, rec
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// collect gathers values sent by handlers.
type collect[T any] struct {
	mu   sync.Mutex
	vals []T
}

func (c *collect[T]) add(v T) { c.mu.Lock(); c.vals = append(c.vals, v); c.mu.Unlock() }

func (c *collect[T]) get() []T {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.vals)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// nth returns conns[i], or ends the test when the server lists no such
// connection: an index out of range would panic and skip every later test.
func nth[C any](t *testing.T, conns []C, i int) C {
	t.Helper()
	if i < 0 || i >= len(conns) {
		t.Fatalf("the server lists %d connections, want connection %d", len(conns), i+1)
	}
	return conns[i]
}

func startDEX(t *testing.T, opts ...dexsim.Option) *dexsim.Server {
	srv := dexsim.New(append([]dexsim.Option{dexsim.WithPublishInterval(10 * time.Millisecond)}, opts...)...)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func TestDEXStreams(t *testing.T) {
	srv := startDEX(t)
	c, rec := dialMarket(t, &dex.Market, srv.URL())
	ctx := testCtx(t)

	var trades, trades2 collect[dex.TradeEvent]
	var depth collect[*dex.DepthSnapshotEvent]
	var heights collect[int64]
	var accounts collect[*dex.AccountEvents]
	var orders collect[dex.ExecutionReportEvent]
	must := func(_ *runtime.Subscription, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(dex.SubscribeTrades(ctx, c, dex.TradesParams{Symbol: dexSymbol}, func(v *dex.TradeEvents) {
		for _, tr := range *v {
			trades.add(tr)
		}
	}))
	must(dex.SubscribeTrades(ctx, c, dex.TradesParams{Symbol: dexSymbol2}, func(v *dex.TradeEvents) {
		for _, tr := range *v {
			trades2.add(tr)
		}
	}))
	must(dex.SubscribeMarketDepth(ctx, c, dex.MarketDepthParams{Symbol: dexSymbol, Levels: dex.DepthLevels100}, depth.add))
	must(dex.SubscribeBlockHeight(ctx, c, dex.BlockHeightParams{}, func(v *dex.BlockHeightEvent) { heights.add(v.Height) }))
	must(dex.SubscribeAccounts(ctx, c, dex.AccountsParams{Address: dexAddress}, accounts.add))
	must(dex.SubscribeOrders(ctx, c, dex.OrdersParams{Address: dexAddress}, func(v *dex.ExecutionReportEvents) {
		for _, o := range *v {
			orders.add(o)
		}
	}))
	waitFor(t, "events of every stream", func() bool {
		return len(trades.get()) >= 3 && len(trades2.get()) >= 3 && len(depth.get()) >= 3 && len(heights.get()) >= 3 &&
			len(accounts.get()) >= 2 && len(orders.get()) >= 2
	})

	// Two subscriptions of one topic are told apart by the payload's symbol.
	for _, tr := range trades.get() {
		if tr.Symbol != dexSymbol || tr.TradeID == "" || tr.Price.Float64() <= 0 {
			t.Fatalf("trade of %s: %+v", dexSymbol, tr)
		}
	}
	for _, tr := range trades2.get() {
		if tr.Symbol != dexSymbol2 {
			t.Fatalf("trade of %s: %+v", dexSymbol2, tr)
		}
	}
	if d := depth.get()[0]; d.Symbol != dexSymbol || len(d.Bids) == 0 {
		t.Fatalf("depth: %+v", d)
	}
	if h := heights.get(); h[len(h)-1] <= h[0] {
		t.Fatalf("block heights do not advance: %v", h)
	}
	if a := *accounts.get()[0]; len(a) != 1 || a[0].EventType != "outboundAccountInfo" || len(a[0].Balances) == 0 {
		t.Fatalf("accounts: %+v", a)
	}
	if o := orders.get()[0]; o.EventType != "executionReport" || o.TransactionTime.Time().Year() < 2020 {
		t.Fatalf("order: %+v", o)
	}
	// The subscribe messages are the DEX's, one per stream.
	msgs := nth(t, srv.Conns(), 0).Messages
	for _, want := range []string{
		`{"method":"subscribe","topic":"trades","symbols":["BNB_BTCB-1DE"]}`,
		`{"method":"subscribe","topic":"marketDepth100","symbols":["BNB_BTCB-1DE"]}`,
		`{"method":"subscribe","topic":"blockheight","symbols":["$all"]}`,
		`{"method":"subscribe","topic":"accounts","address":"` + dexAddress + `"}`,
		`{"method":"subscribe","topic":"orders","address":"` + dexAddress + `"}`,
	} {
		if !slices.Contains(msgs, want) {
			t.Errorf("no message %s in %q", want, msgs)
		}
	}
	if n := nth(t, srv.Conns(), 0).Invalid; n != 0 {
		t.Errorf("the server found %d invalid messages", n)
	}
	if n := rec.count(runtime.EventError); n != 0 || c.Stats().Unsolicited != 0 {
		t.Errorf("%d errors, %d unsolicited: %v", n, c.Stats().Unsolicited, rec.all())
	}
	// A frame of a symbol nobody subscribed to is reported under its full key.
	srv.SendRaw([]byte(`{"stream":"trades","data":[{"e":"trade","s":"ZZZ_BNB"}]}`))
	waitFor(t, "the unknown-stream error", func() bool { return rec.count(runtime.EventError) == 1 })
	var fe *runtime.FrameError
	for _, e := range rec.all() {
		if e.Kind == runtime.EventError && !(errors.As(e.Err, &fe) && fe.Stream == "trades:ZZZ_BNB" && errors.Is(e.Err, runtime.ErrUnknownStream)) {
			t.Errorf("error %v", e.Err)
		}
	}
	if c.Stats().Unsolicited != 1 {
		t.Errorf("stats %+v", c.Stats())
	}
}

func TestDEXUnsubscribeAndReconnect(t *testing.T) {
	srv := startDEX(t)
	c, rec := dialMarket(t, &dex.Market, srv.URL(), runtime.WithBackoff(runtime.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Factor: 2}))
	ctx := testCtx(t)
	var ticks collect[string]
	sub, err := dex.SubscribeTicker(ctx, c, dex.TickerParams{Symbol: dexSymbol}, func(v *dex.TickerEvent) { ticks.add(v.Symbol) })
	if err != nil {
		t.Fatal(err)
	}
	var heights collect[int64]
	if _, err := dex.SubscribeBlockHeight(ctx, c, dex.BlockHeightParams{}, func(v *dex.BlockHeightEvent) { heights.add(v.Height) }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "tickers", func() bool { return len(ticks.get()) >= 2 })

	// The DEX acknowledges nothing: after a drop the runtime resubscribes
	// every stream on the new socket and data resumes.
	srv.DropConnections()
	waitFor(t, "a resubscribed socket", func() bool { return rec.count(runtime.EventResubscribed) == 1 })
	n := len(heights.get())
	waitFor(t, "block heights after the reconnect", func() bool { return len(heights.get()) >= n+3 })

	if err := sub.Unsubscribe(ctx); err != nil {
		t.Fatal(err)
	}
	var open dexsim.ConnInfo
	for _, ci := range srv.Conns() {
		if ci.Open {
			open = ci
		}
	}
	waitFor(t, "the unsubscribe message", func() bool {
		for _, ci := range srv.Conns() {
			if ci.ID == open.ID {
				return slices.Contains(ci.Messages, `{"method":"unsubscribe","topic":"ticker","symbols":["BNB_BTCB-1DE"]}`)
			}
		}
		return false
	})
	if got := ticks.get(); slices.ContainsFunc(got, func(s string) bool { return s != dexSymbol }) {
		t.Fatalf("tickers of other symbols: %v", got)
	}
}

func TestDEXKeepAlive(t *testing.T) {
	m := dex.Market // a copy: the test shortens the keep-alive period
	m.Dialect.KeepAliveEvery = 30 * time.Millisecond
	srv := startDEX(t, dexsim.WithKeepAliveWindow(150*time.Millisecond))
	c, rec := dialMarket(t, &m, srv.URL(), runtime.WithControlRate(100, time.Second))
	if _, err := dex.SubscribeBlockHeight(testCtx(t), c, dex.BlockHeightParams{}, func(*dex.BlockHeightEvent) {}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // more than three windows
	conns := srv.Conns()
	if len(conns) != 1 || !conns[0].Open || conns[0].KeepAlives < 8 {
		t.Fatalf("connections %+v, events %v", conns, rec.all())
	}
	if !slices.Contains(conns[0].Messages, `{"method":"keepAlive"}`) {
		t.Fatalf("messages %q", conns[0].Messages)
	}
}

const zdexToken = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRlc3QtdG9rZW4.s1gn4tur3"

func startZDEX(t *testing.T, opts ...zdexsim.Option) *zdexsim.Server {
	srv := zdexsim.New(append([]zdexsim.Option{zdexsim.WithPublishInterval(10 * time.Millisecond), zdexsim.WithToken(zdexToken)}, opts...)...)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func TestZDEXChannels(t *testing.T) {
	srv := startZDEX(t, zdexsim.WithUnsolicited(true))
	c, rec := dialMarket(t, &zdex.Market, srv.URL())
	ctx := testCtx(t)
	var tickers collect[*zdex.TickerEvent]
	var books collect[*zdex.OrderBookEvent]
	var klines collect[*zdex.KlineRows]
	var marks collect[*zdex.MarkPriceEvent]
	var trades collect[*zdex.TradeEvents]
	for _, err := range []error{
		second(zdex.SubscribeTicker(ctx, c, zdex.TickerParams{Symbol: "BTCUSDT"}, tickers.add)),
		second(zdex.SubscribeOrderBook(ctx, c, zdex.OrderBookParams{Symbol: "ETHUSDT"}, books.add)),
		second(zdex.SubscribeKline(ctx, c, zdex.KlineParams{Symbol: "BTCUSDT"}, klines.add)),
		second(zdex.SubscribeMarkPrice(ctx, c, zdex.MarkPriceParams{Symbol: "BTCUSDT"}, marks.add)),
		second(zdex.SubscribeTrades(ctx, c, zdex.TradesParams{Symbol: "BTCUSDT"}, trades.add)),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every channel", func() bool {
		return len(tickers.get()) >= 3 && len(books.get()) >= 3 && len(klines.get()) >= 2 && len(marks.get()) >= 2 && len(trades.get()) >= 2
	})
	for _, v := range tickers.get() {
		if v.Symbol != "BTCUSDT" || v.LastPrice.Float64() <= 0 {
			t.Fatalf("ticker: %+v", v)
		}
	}
	if b := books.get()[0]; len(b.Bids) == 0 || b.Bids[0].Price.Float64() <= 0 {
		t.Fatalf("order book: %+v", b)
	}
	if k := *klines.get()[0]; len(k) == 0 || k[0].CloseTime <= k[0].OpenTime {
		t.Fatalf("klines: %+v", k)
	}
	if m := marks.get()[0]; m.Symbol != "BTCUSDT" || m.MarkPrice.Float64() <= 0 {
		t.Fatalf("mark price: %+v", m)
	}
	// The venue pushes channels nobody asked for: they are counted, not
	// reported and not delivered.
	waitFor(t, "unsolicited frames", func() bool { return c.Stats().Unsolicited >= 10 })
	if n := rec.count(runtime.EventError); n != 0 {
		t.Fatalf("%d errors: %v", n, rec.all())
	}
	if msgs := nth(t, srv.Conns(), 0).Messages; !slices.Contains(msgs, `{"action":"subscribe","channel":"orderbook","symbol":"ETHUSDT"}`) {
		t.Fatalf("messages: %q", msgs)
	}

	// A symbol the venue does not list is refused with its error frame.
	sub, err := zdex.SubscribeTicker(ctx, c, zdex.TickerParams{Symbol: "DOGEUSDT"}, func(*zdex.TickerEvent) {})
	if err == nil {
		err = sub.Ready(ctx)
	}
	var se *runtime.ServerError
	if !errors.As(err, &se) || !strings.Contains(se.Msg, "DOGEUSDT") {
		t.Fatalf("unknown symbol: %v", err)
	}
	// An invalid parameter never reaches the socket.
	if _, err := zdex.SubscribeTicker(ctx, c, zdex.TickerParams{Symbol: "btc usdt"}, func(*zdex.TickerEvent) {}); err == nil || !strings.Contains(err.Error(), "symbol") {
		t.Fatalf("bad symbol: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestZDEXAccount(t *testing.T) {
	srv := startZDEX(t)
	var logged strings.Builder
	var lmu sync.Mutex
	c, rec := dialMarket(t, &zdex.Market, srv.URL(), runtime.WithAuthToken(zdexToken),
		runtime.WithBackoff(runtime.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Factor: 2}),
		runtime.OnEvent(func(e runtime.Event) { lmu.Lock(); fmt.Fprintf(&logged, "%v %+v\n", e, e); lmu.Unlock() }))
	ctx := testCtx(t)
	var got collect[zdex.Payload]
	if _, err := zdex.SubscribeAccount(ctx, c, zdex.AccountParams{}, got.add); err != nil {
		t.Fatal(err)
	}
	kinds := func() map[string]bool {
		seen := map[string]bool{}
		for _, v := range got.get() {
			switch v := v.(type) {
			case *zdex.AccountStateEvent:
				seen["state"] = true
			case *zdex.OrderNewEvent:
				seen["order_new"] = v.Order.OrderID > 0
			case *zdex.PositionUpdateEvent:
				seen["position_update"] = v.Symbol != ""
			case *zdex.FuturesAccountUpdateEvent:
				seen["futures_account_update"] = v.MarginRatio.Float64() > 0
			case *wire.UnknownEvent:
				seen[v.Kind] = len(v.Raw) > 0
			}
		}
		return seen
	}
	waitFor(t, "every kind of account event", func() bool {
		k := kinds()
		return k["state"] && k["order_new"] && k["position_update"] && k["futures_account_update"] && k["notification"]
	})
	// The login went first, and the token appears nowhere but on the wire.
	if msgs := nth(t, srv.Conns(), 0).Messages; len(msgs) == 0 || msgs[0] != `{"action":"auth","token":"<redacted>"}` {
		t.Fatalf("messages %q", msgs)
	}

	// After a drop the runtime logs in again and resubscribes.
	srv.DropConnections()
	waitFor(t, "a resubscribed socket", func() bool { return rec.count(runtime.EventResubscribed) == 1 })
	n := len(got.get())
	waitFor(t, "account events after the reconnect", func() bool { return len(got.get()) >= n+3 })
	conns := srv.Conns()
	if last := nth(t, conns, len(conns)-1); !last.Authenticated || !slices.Contains(last.Streams, "account") {
		t.Fatalf("new connection: %+v", last)
	}
	lmu.Lock()
	defer lmu.Unlock()
	if strings.Contains(logged.String(), zdexToken) {
		t.Fatal("the token appears in an event")
	}
}

func TestZDEXAuthErrors(t *testing.T) {
	srv := startZDEX(t)
	ctx := testCtx(t)

	// Without a token the account channel is refused before anything is sent.
	c, _ := dialMarket(t, &zdex.Market, srv.URL())
	if _, err := zdex.SubscribeAccount(ctx, c, zdex.AccountParams{}, func(zdex.Payload) {}); !errors.Is(err, runtime.ErrAuthRequired) {
		t.Fatalf("no token: %v", err)
	}
	// The simulator registers a connection before its handshake completes,
	// so the dial that returned is listed.
	if conns := srv.Conns(); len(conns) != 1 || len(conns[0].Messages) != 0 {
		t.Fatalf("connections %+v, want one that was sent nothing", conns)
	}

	// A wrong token: the login fails (reported as an event), the account
	// channel is refused by the server, the public channels still work, and
	// the token is printed nowhere.
	const wrong = "wrong-token-0123456789"
	var all strings.Builder
	var mu sync.Mutex
	c2, rec := dialMarket(t, &zdex.Market, srv.URL(), runtime.WithAuthToken(wrong),
		runtime.OnEvent(func(e runtime.Event) { mu.Lock(); fmt.Fprintf(&all, "%v %+v\n", e, e); mu.Unlock() }))
	sub, err := zdex.SubscribeAccount(ctx, c2, zdex.AccountParams{}, func(zdex.Payload) {})
	if err == nil {
		err = sub.Ready(ctx)
	}
	var se *runtime.ServerError
	if !errors.As(err, &se) || !strings.Contains(se.Msg, "Authentication required") {
		t.Fatalf("wrong token: %v", err)
	}
	waitFor(t, "the login error event", func() bool { return rec.count(runtime.EventError) >= 1 })
	var tick collect[string]
	if _, err := zdex.SubscribeTicker(ctx, c2, zdex.TickerParams{Symbol: "ETHUSDT"}, func(v *zdex.TickerEvent) { tick.add(v.Symbol) }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "tickers", func() bool { return len(tick.get()) >= 2 })
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(all.String(), "Invalid or expired token") || strings.Contains(all.String()+err.Error(), wrong) {
		t.Fatalf("events: %s", all.String())
	}
}

func TestZDEXKeepAlive(t *testing.T) {
	m := zdex.Market // a copy: the test shortens the ping period
	m.Dialect.KeepAliveEvery = 30 * time.Millisecond
	srv := startZDEX(t, zdexsim.WithIdleTimeout(150*time.Millisecond))
	c, rec := dialMarket(t, &m, srv.URL(), runtime.WithControlRate(100, time.Second))
	if _, err := zdex.SubscribeTicker(testCtx(t), c, zdex.TickerParams{Symbol: "BTCUSDT"}, func(*zdex.TickerEvent) {}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	conns := srv.Conns()
	if len(conns) != 1 || !conns[0].Open || conns[0].Pings < 8 {
		t.Fatalf("connections %+v, events %v", conns, rec.all())
	}
	// Pongs and the welcome frame are control frames, not errors.
	if n := rec.count(runtime.EventError); n != 0 {
		t.Fatalf("%d errors: %v", n, rec.all())
	}
}
