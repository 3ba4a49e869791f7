package runtime

import (
	"testing"
	"time"
)

func TestScan(t *testing.T) {
	cases := []struct {
		name, in         string
		stream, data, id string
		reply            bool
		err              bool
	}{
		{name: "combined", in: `{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","p":"1"}}`, stream: "btcusdt@aggTrade", data: `{"e":"aggTrade","p":"1"}`},
		{name: "data first, spaces", in: " {\n \"data\" : [1, {\"a\":\"}\"}] ,\t\"stream\":\"!miniTicker@arr\" } ", stream: "!miniTicker@arr", data: `[1, {"a":"}"}]`},
		{name: "escaped quote in data", in: `{"stream":"x","data":{"s":"a\"b}"}}`, stream: "x", data: `{"s":"a\"b}"}`},
		{name: "result", in: `{"result":null,"id":7}`, id: "7", reply: true},
		{name: "error object", in: `{"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":3}`, id: "3", reply: true},
		{name: "flat error", in: `{"code":2,"msg":"bad"}`, reply: true},
		{name: "truncated", in: `{"stream":"x","data":{"e":1`, err: true},
		{name: "mismatched", in: `{"stream":"x","data":[1}}`, err: true},
		{name: "not object", in: `[1,2]`, err: true},
		{name: "trailing", in: `{"a":1} x`, err: true},
		{name: "empty", in: ``, err: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var env envelope
			err := scan([]byte(c.in), &env)
			if (err != nil) != c.err {
				t.Fatalf("err = %v, want error %v", err, c.err)
			}
			if c.err {
				return
			}
			if string(env.stream) != c.stream || string(env.data) != c.data || string(env.id) != c.id || env.isReply() != c.reply {
				t.Errorf("got stream %q data %q id %q reply %v", env.stream, env.data, env.id, env.isReply())
			}
		})
	}
}

func TestReplyError(t *testing.T) {
	for in, want := range map[string]ServerError{
		`{"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":3}`: {2, "Invalid request: invalid stream"},
		`{"code":0,"msg":"Unknown property","id":4}`:                          {0, "Unknown property"},
		"{\"code\":2,\"msg\":\"unknown variant `X`\"}":                        {2, "unknown variant `X`"},
	} {
		var env envelope
		if err := scan([]byte(in), &env); err != nil {
			t.Fatal(err)
		}
		got, ok := replyError(&env).(*ServerError)
		if !ok || *got != want {
			t.Errorf("%s: got %v, want %v", in, got, want)
		}
	}
}

func TestScanAndLookupDoNotAllocate(t *testing.T) {
	frame := []byte(`{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["1.00","2.000"]],"a":[]}}`)
	table := map[string]int{"btcusdt@depth@100ms": 1}
	var env envelope
	n := testing.AllocsPerRun(100, func() {
		if scan(frame, &env) != nil || table[string(env.stream)] != 1 {
			t.Fatal("bad scan")
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per frame, want 0", n)
	}
}

func BenchmarkScan(b *testing.B) {
	frame := []byte(`{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"],["0.0023","10"],["0.0022","10"],["0.0021","10"]],"a":[["0.0026","100"],["0.0027","100"],["0.0028","100"]]}}`)
	b.SetBytes(int64(len(frame)))
	var env envelope
	for range b.N {
		_ = scan(frame, &env)
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

func TestBackoff(t *testing.T) {
	b := DefaultBackoff
	for n, want := range []time.Duration{time.Second, 1600 * time.Millisecond, 2560 * time.Millisecond} {
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
