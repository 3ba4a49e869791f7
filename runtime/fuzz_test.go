package runtime

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// FuzzScan: the frame scanner never panics, accepts every JSON object that
// encoding/json accepts, and keeps members that are sub-slices of the frame.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		`{"stream":"btcusdt@trades","data":{"e":"trade","a":1}}`,
		`{"result":null,"id":7}`,
		`{"error":{"code":2,"msg":"Invalid request"},"id":3}`,
		`{"topic":"trades","data":[{"s":"BNB_BTC"}]}`,
		`{"event":"error","message":"bad"}`,
		` { "stream" : "a" , "data" : [1,{"x":"\"}"}] } `,
		`[1,2]`, `{"a":}`, `{"a":1`, `{"stream":"x","data":{"s":"y"}}x`,
		`{"stream":"s1@kind","data":{"e":"kind","a":1}}`,
		`{"stream":"a\"b","data":{"x":1}}`, `{"stream":"x","data":{"a":{}},"z":{}}`,
		`{"stream":"x","data":[1,2]}`, `{"stream":"x","data":`, `{"stream":"x","dat":{}}`,
		`{"channel":"c","symbol":"s","data":{"a":1},"ts":1672515782136}`, `{"stream":"x","data":{"a":"},\"ts\":1"},"ts":2}`,
		`{"stream":"x","data":[1],"id":7 , "ok":true}`, `{"stream":"x","data":{"a":1},"x":{"b":2},"ts":3}`,
	} {
		f.Add([]byte(s))
	}
	gs := []*grammar{mustCompile(f, &idDialect), mustCompile(f, &pathDialect)}
	f.Fuzz(func(t *testing.T, b []byte) {
		var obj map[string]json.RawMessage
		valid := json.Unmarshal(b, &obj) == nil && obj != nil
		for _, g := range gs {
			fr := frame{g: g}
			err := fr.scan(b)
			if valid && err != nil {
				t.Fatalf("scan rejected a valid object %q: %v", b, err)
			}
			if err != nil {
				continue
			}
			for _, v := range fr.vals {
				if len(v) > 0 && (cap(v) > cap(b) || len(v) > len(b)) {
					t.Fatalf("member %q is not within the frame", v)
				}
			}
			// A lazily taken data span that is a value of its own is the
			// data member: the members kept are those of a full walk.
			if full := (frame{g: g}); valid && fr.lazy && json.Valid(fr.vals[g.data]) && full.scanFull(b) == nil {
				for i := range fr.vals {
					if !bytes.Equal(fr.vals[i], full.vals[i]) {
						t.Fatalf("member %s: scan kept %q, a full walk %q", g.names[i], fr.vals[i], full.vals[i])
					}
				}
			}
			fr.routeKey(nil)
			fr.serverError()
		}
	})
}

// FuzzHandleFrame feeds arbitrary frames to a link with a subscribed stream
// and requests in flight: classification, routing, reply matching and
// delivery never panic, and a frame is counted once.
func FuzzHandleFrame(f *testing.F) {
	for _, s := range []string{
		`{"stream":"n","data":"5"}`,
		`{"stream":"other","data":{}}`,
		`{"result":null,"id":1}`,
		`{"result":["n"],"id":2}`,
		`{"error":{"code":2,"msg":"Invalid request"},"id":1}`,
		`{"code":-1,"msg":"bad"}`,
		`{"e":"bye"}`,
		`{"id":"x"}`,
		`{}`,
		`{"stream":"n"}`,
		`{"stream":7,"data":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := newHandoffRig(t, len(b)%2 == 0)
		g, err := compile(&idDialect)
		if err != nil {
			t.Fatal(err)
		}
		c := r.s.conn
		c.grammar, c.market.Dialect = g, idDialect
		c.opts.dropReport = time.Hour
		l := &link{s: r.s, shutdown: make(chan struct{}), dead: make(chan struct{}), wake: make(chan struct{}, 1)}
		answered := 0
		for id := uint64(1); id <= 2; id++ {
			req := &request{op: opSubscribe, streams: []*Stream{&r.sub.stream}, done: func([]byte, error) { answered++ }}
			l.inflight = append(l.inflight, &flight{id: id, b: batch{req}})
		}
		l.handleFrame(b)
		if c.stats.frames.Load() != 1 {
			t.Fatalf("frame counted %d times", c.stats.frames.Load())
		}
		if answered > 1 {
			t.Fatalf("one frame answered %d requests", answered)
		}
	})
}
