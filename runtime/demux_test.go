package runtime

import (
	"testing"
	"time"
)

// The dialects below name frame members only; the venues' own come from
// the schema and are tested against their simulators.

// idDialect routes on a top-level name and matches replies by id.
var idDialect = Dialect{
	Key: [][]string{{"stream"}}, Data: "data", ReplyID: "id", Result: "result", Errors: []Match{{Member: "error"}, {Member: "msg"}},
	Shutdown: []Match{{Member: "e", Value: "bye"}},
}

// pathDialect routes on a topic plus a symbol found inside the payload.
var pathDialect = Dialect{
	Key: [][]string{{"topic"}, {"data.s", "data.symbol", "data.0.s"}}, Data: "data",
	Ack: []Match{{Member: "event", Value: "ok"}}, Errors: []Match{{Member: "event", Value: "error"}},
}

func mustCompile(t testing.TB, d *Dialect) *grammar {
	g, err := compile(d)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestScan(t *testing.T) {
	g := mustCompile(t, &idDialect)
	cases := []struct {
		name, in      string
		key, data, id string
		err, lazy     bool
	}{
		{name: "enveloped", in: `{"stream":"a@b","data":{"e":"x","p":"1"}}`, key: "a@b", data: `{"e":"x","p":"1"}`, lazy: true},
		{name: "data first, spaces", in: " {\n \"data\" : [1, {\"a\":\"}\"}] ,\t\"stream\":\"!x@arr\" } ", key: "!x@arr", data: `[1, {"a":"}"}]`, lazy: true},
		{name: "escaped quote in data", in: `{"stream":"x","data":{"s":"a\"b}"}}`, key: "x", data: `{"s":"a\"b}"}`, lazy: true},
		{name: "scalars after data", in: `{"stream":"x","data":{"p":"1"},"id":7, "ts" : "t"}`, key: "x", data: `{"p":"1"}`, id: "7", lazy: true},
		// Taken lazily up to the last object: its decoder rejects it and
		// takes it again in full (payload.retake).
		{name: "object after data", in: `{"stream":"x","data":{"p":"1"},"o":{"id":8},"id":7}`, key: "x", data: `{"p":"1"},"o":{"id":8}`, id: "7", lazy: true},
		{name: "escape after data", in: `{"stream":"x","data":{"p":"1"},"s":"a\"b","id":7}`, key: "x", data: `{"p":"1"}`, id: "7"},
		{name: "tail inside data", in: `{"stream":"x","data":{"s":"},\"id\":7"}}`, key: "x", data: `{"s":"},\"id\":7"}`, lazy: true},
		{name: "result", in: `{"result":null,"id":7}`, id: "7"},
		{name: "truncated", in: `{"stream":"x","data":{"e":1`, err: true},
		{name: "mismatched", in: `{"stream":"x","data":[1}}`, err: true},
		{name: "not object", in: `[1,2]`, err: true},
		{name: "trailing", in: `{"a":1} x`, err: true},
		{name: "empty", in: ``, err: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := frame{g: g}
			err := f.scan([]byte(c.in))
			if (err != nil) != c.err {
				t.Fatalf("err = %v, want error %v", err, c.err)
			}
			if c.err {
				return
			}
			key, _, _ := f.routeKey(nil)
			if string(key) != c.key || string(f.get(g.data)) != c.data || string(f.get(g.id)) != c.id || f.lazy != c.lazy {
				t.Errorf("got key %q data %q id %q lazy %v", key, f.get(g.data), f.get(g.id), f.lazy)
			}
		})
	}
}

func TestRouteKeyPaths(t *testing.T) {
	g := mustCompile(t, &pathDialect)
	for in, want := range map[string]struct {
		key string
		cut int
	}{
		`{"topic":"trades","data":[{"s":"BNB_BTC","p":"1"},{"s":"X"}]}`: {"trades:BNB_BTC", 6},
		`{"topic":"depth","data":{"symbol":"A-1","bids":[]}}`:           {"depth:A-1", 5},
		`{"topic":"diff","data":{"e":"d","s":"B"}}`:                     {"diff:B", 4},
		`{"topic":"height","data":{"h":5}}`:                             {"height", -1},
		`{"topic":"all","data":[]}`:                                     {"all", -1},
		`{"data":{"s":"B"},"topic":"diff"}`:                             {"diff:B", 4},
	} {
		f := frame{g: g}
		if err := f.scan([]byte(in)); err != nil {
			t.Fatal(err)
		}
		key, cut, ok := f.routeKey(nil)
		if !ok || string(key) != want.key || cut != want.cut {
			t.Errorf("%s: key %q cut %d ok %v, want %q %d", in, key, cut, ok, want.key, want.cut)
		}
	}
	f := frame{g: g}
	_ = f.scan([]byte(`{"event":"ok","channels":["x"]}`))
	if _, _, ok := f.routeKey(nil); ok || !f.matches(g.ack) || f.matches(g.errs) {
		t.Error("ack frame: routed, or not recognised")
	}
}

func TestServerError(t *testing.T) {
	g := mustCompile(t, &idDialect)
	for in, want := range map[string]ServerError{
		`{"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":3}`: {2, "Invalid request: invalid stream"},
		`{"code":0,"msg":"Unknown property","id":4}`:                          {0, "Unknown property"},
		"{\"code\":2,\"msg\":\"unknown variant `X`\"}":                        {2, "unknown variant `X`"},
		`{"event":"error","message":"unknown channel"}`:                       {-1, "unknown channel"},
		`{"ok":false,"error":"Invalid or expired token"}`:                     {-1, "Invalid or expired token"},
	} {
		f := frame{g: g}
		if err := f.scan([]byte(in)); err != nil {
			t.Fatal(err)
		}
		if got := f.serverError(); *got != want {
			t.Errorf("%s: got %v, want %v", in, got, want)
		}
	}
}

func TestFill(t *testing.T) {
	vars := map[string]string{"topic": "trades", "symbol": `a"b`, "id": "7"}
	get := func(name string) string {
		if name == "symbol" {
			return jsonEscape(vars[name])
		}
		return vars[name]
	}
	for tmpl, want := range map[string]string{
		`{"method":"subscribe","topic":"{topic}","symbols":["{symbol}"]}`: `{"method":"subscribe","topic":"trades","symbols":["a\"b"]}`,
		`{"m":"X","params":[],"id":{id}}`:                                 `{"m":"X","params":[],"id":7}`,
		`{"topic":"{topic}","address":"{address}"}`:                       "",
	} {
		got, ok := fill(tmpl, get)
		if want == "" && ok || want != "" && got != want {
			t.Errorf("fill(%s) = %q, %v; want %q", tmpl, got, ok, want)
		}
	}
}

func TestScanAndRouteDoNotAllocate(t *testing.T) {
	for _, in := range [][]byte{
		[]byte(`{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["1.00","2.000"]],"a":[]}}`),
		[]byte(`{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["1.00","2.000"]],"a":[]},"ts":1}`),
	} {
		scanAllocs(t, in)
	}
}

func scanAllocs(t *testing.T, in []byte) {
	table := map[string]int{"btcusdt@depth@100ms": 1}
	g := mustCompile(t, &idDialect)
	buf := make([]byte, 0, 64)
	n := testing.AllocsPerRun(100, func() {
		f := frame{g: g}
		if f.scan(in) != nil {
			t.Fatal("bad scan")
		}
		key, _, _ := f.routeKey(buf[:0])
		if table[string(key)] != 1 {
			t.Fatal("bad key")
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per frame, want 0", n)
	}
}

func BenchmarkScan(b *testing.B) {
	in := []byte(`{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"],["0.0023","10"],["0.0022","10"],["0.0021","10"]],"a":[["0.0026","100"],["0.0027","100"],["0.0028","100"]]}}`)
	b.SetBytes(int64(len(in)))
	g := mustCompile(b, &idDialect)
	buf := make([]byte, 0, 64)
	for range b.N {
		f := frame{g: g}
		_ = f.scan(in)
		buf, _, _ = f.routeKey(buf[:0])
	}
}

func TestLimiterWindow(t *testing.T) {
	const n, per = 3, 40 * time.Millisecond
	l := newLimiter(n, per)
	var sent []time.Time
	start := time.Now()
	for range 10 {
		if !l.wait(nil) {
			t.Fatal("stopped")
		}
		sent = append(sent, time.Now())
	}
	for i := n; i < len(sent); i++ {
		if d := sent[i].Sub(sent[i-n]); d < per {
			t.Fatalf("frames %d and %d only %v apart: more than %d in %v", i-n, i, d, n, per)
		}
	}
	if el := time.Since(start); el < 3*per {
		t.Fatalf("10 frames took %v, want at least %v", el, 3*per)
	}
	stop := make(chan struct{})
	close(stop)
	l = newLimiter(n, time.Hour)
	for range n {
		l.wait(stop)
	}
	if l.wait(stop) {
		t.Fatal("wait on a full window ignored stop")
	}
}

// TestLimiterWritten: a frame counts from the end of its write, so that a
// writer held up between wait and its write cannot bunch the frames that
// reach the server.
func TestLimiterWritten(t *testing.T) {
	const n, per = 2, 60 * time.Millisecond
	l := newLimiter(n, per)
	l.wait(nil)
	time.Sleep(per / 2) // a slow write
	l.written()
	first := time.Now()
	l.wait(nil)
	l.written()
	l.wait(nil)
	if d := time.Since(first); d < per {
		t.Fatalf("the third frame went out %v after the first was written, want at least %v", d, per)
	}
	(&limiter{}).written() // no limit: nothing recorded, no panic
}

func TestBackoff(t *testing.T) {
	b := DefaultBackoff
	for range 50 { // after a clean drop: at once, with up to 20 % of Initial as jitter
		if d := b.Delay(0); d < 0 || d > 200*time.Millisecond {
			t.Fatalf("Delay(0) = %v, want 0..200ms", d)
		}
	}
	for n, want := range []time.Duration{1: time.Second, 2: 1600 * time.Millisecond, 3: 2560 * time.Millisecond} {
		if n == 0 {
			continue
		}
		for range 50 {
			d := b.Delay(n)
			if d < want*8/10 || d > want*12/10 {
				t.Fatalf("Delay(%d) = %v, want %v ±20%%", n, d, want)
			}
		}
	}
	for range 50 {
		if d := b.Delay(100); d > 36*time.Second || d < 24*time.Second {
			t.Fatalf("Delay(100) = %v, want 30s ±20%%", d)
		}
	}
	if (Backoff{Initial: 0}).validate() == nil {
		t.Fatal("zero Initial accepted")
	}
}

// BenchmarkScanPath routes a frame whose key is its topic plus the symbol of
// the first element of its payload, the costliest kind of key.
func BenchmarkScanPath(b *testing.B) {
	in := []byte(`{"topic":"trades","data":[{"e":"t","E":7549438,"s":"100K-9BC_BNB","t":"7549438-0","p":"3333.00000000","q":"0.02611100","T":1554964166437515341},{"e":"t","s":"100K-9BC_BNB"}]}`)
	b.SetBytes(int64(len(in)))
	g := mustCompile(b, &pathDialect)
	buf := make([]byte, 0, 64)
	for range b.N {
		f := frame{g: g}
		_ = f.scan(in)
		buf, _, _ = f.routeKey(buf[:0])
	}
}

// BenchmarkScanTrade measures finding the routing key and data span of
// a combined-stream trade frame.
func BenchmarkScanTrade(b *testing.B) {
	frameBytes := []byte(`{"stream":"btcusdt@trades","data":{"e":"tradeAgg","E":1672515782136,"s":"BTCUSDT","a":12345,"p":"16800.01000000","q":"0.01200000","f":100,"l":105,"T":1672515782136,"m":true,"M":true}}`)
	g := mustCompile(b, &idDialect)
	var key []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f := frame{g: g}
		if err := f.scan(frameBytes); err != nil {
			b.Fatal(err)
		}
		key, _, _ = f.routeKey(key[:0])
	}
}
