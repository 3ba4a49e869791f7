package generated_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/wire"
)

// TestDriftReport feeds the generated decoders payloads with keys the
// schema does not know (top level, in a nested object, in an array's
// objects, three levels down, an extra tuple column), an unknown user-data
// event kind, payloads missing required keys and one of another event
// kind, then checks the whole drift report. It is not parallel: the report
// is process-wide.
func TestDriftReport(t *testing.T) {
	wire.ResetDrift()
	t.Cleanup(wire.ResetDrift)

	decode := func(v interface{ UnmarshalJSON([]byte) error }, data string, wantErr bool) {
		t.Helper()
		err := v.UnmarshalJSON([]byte(data))
		if (err != nil) != wantErr {
			t.Fatalf("%s: error %v, want error %v", data, err, wantErr)
		}
	}
	const aggTrade = `"e":"aggTrade","E":1,"s":"BNBBTC","a":1,"p":"1","q":"1","f":1,"l":1,"T":1,"m":true,"M":true`
	// An added top-level key, three times; the sample is the first value.
	decode(new(spot.AggTradeEvent), `{`+aggTrade+`,"X":42}`, false)
	decode(new(spot.AggTradeEvent), `{"X":43,`+aggTrade+`}`, false)
	decode(new(spot.AggTradeEvent), `{`+aggTrade+`, "X" : {"deep":[1,2,3]}}`, false)
	// A long sample is cut to 64 bytes.
	decode(new(spot.AggTradeEvent), `{`+aggTrade+`,"long":"`+strings.Repeat("0123456789", 10)+`"}`, false)
	// A key added to a kline's k, after a value holding the same key name.
	decode(new(spot.KlineEvent), strings.Replace(klineJSON, `"k":{`, `"y":{"X":1},"k":{"X":"new",`, 1), false)
	// A key added to the balances of an account position (an array of objects).
	decode(new(spot.OutboundAccountPositionEvent),
		`{"e":"outboundAccountPosition","E":1,"u":1,"B":[{"a":"ETH","f":"1","l":"0"},{"a":"BTC","f":"1","l":"0","Z":true}]}`, false)
	// Three levels down, through DecodeUser: a.B[].X in a USD-M account update.
	if _, err := usdm.DecodeUser([]byte(`{"e":"ACCOUNT_UPDATE","E":1,"T":1,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"1","cw":"1","bc":"0","X":null}],"P":[]}}`)); err != nil {
		t.Fatal(err)
	}
	// A third column in a depth level: an unknown key named by its index.
	decode(new(usdm.DepthUpdateEvent), `{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":1,"u":2,"pu":0,"b":[["1","2"],["1","2","3"]],"a":[]}`, false)

	// An unknown user-data event kind, twice.
	for range 2 {
		v, err := spot.DecodeUser([]byte(`{"e":"TRADE_LITE","E":1,"s":"BTCUSDT"}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := v.(*wire.UnknownEvent); !ok {
			t.Fatalf("DecodeUser returned %T, want *wire.UnknownEvent", v)
		}
	}
	// A user-data frame without the event key.
	if _, err := spot.DecodeUser([]byte(`{"E":1}`)); err == nil {
		t.Fatal("DecodeUser accepted a frame without \"e\"")
	}

	// Required keys missing, top level and nested: decode errors, counted.
	decode(new(spot.AggTradeEvent), `{"e":"aggTrade","E":1,"s":"BNBBTC","a":1,"p":"1","q":"1","f":1,"l":1,"m":true,"M":true}`, true)
	decode(new(spot.KlineEvent), strings.Replace(klineJSON, `"i":"1m",`, ``, 1), true)
	// Another event kind on the aggTrade decoder.
	decode(new(spot.AggTradeEvent), tradeJSON, true)
	// Malformed JSON is an error but not drift.
	decode(new(spot.AggTradeEvent), `{"e":"aggTrade",`, true)

	want := []wire.DriftEntry{
		{Market: "spot", Event: "aggTrade", Path: "T", Kind: wire.DriftMissingKey, Count: 1,
			Sample: `{"e":"aggTrade","E":1,"s":"BNBBTC","a":1,"p":"1","q":"1","f":1,"…`},
		{Market: "spot", Event: "aggTrade", Path: "X", Kind: wire.DriftUnknownKey, Count: 3, Sample: "42"},
		{Market: "spot", Event: "aggTrade", Path: "e", Kind: wire.DriftWrongEvent, Count: 1, Sample: `"trade"`},
		{Market: "spot", Event: "aggTrade", Path: "long", Kind: wire.DriftUnknownKey, Count: 1,
			Sample: `"` + strings.Repeat("0123456789", 7)[:63] + "…"},
		{Market: "spot", Event: "kline", Path: "k.X", Kind: wire.DriftUnknownKey, Count: 1, Sample: `"new"`},
		{Market: "spot", Event: "kline", Path: "k.i", Kind: wire.DriftMissingKey, Count: 1,
			Sample: `{"e":"kline","E":1672515782136,"s":"BNBBTC","k":{"t":16725157800…`},
		{Market: "spot", Event: "kline", Path: "y", Kind: wire.DriftUnknownKey, Count: 1, Sample: `{"X":1}`},
		{Market: "spot", Event: "outboundAccountPosition", Path: "B.Z", Kind: wire.DriftUnknownKey, Count: 1, Sample: "true"},
		{Market: "spot", Event: "user", Path: "TRADE_LITE", Kind: wire.DriftUnknownEvent, Count: 2, Sample: `{"e":"TRADE_LITE","E":1,"s":"BTCUSDT"}`},
		{Market: "spot", Event: "user", Path: "e", Kind: wire.DriftMissingKey, Count: 1, Sample: `{"E":1}`},
		{Market: "usdm", Event: "ACCOUNT_UPDATE", Path: "a.B.X", Kind: wire.DriftUnknownKey, Count: 1, Sample: "null"},
		{Market: "usdm", Event: "depthUpdate", Path: "b.2", Kind: wire.DriftUnknownKey, Count: 1, Sample: `"3"`},
	}
	got := wire.DriftReport()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("drift report (-want +got):\n%s", diff)
	}

	lines := []string{
		`spot aggTrade: missing key "T" (1 time, e.g. {"e":"aggTrade","E":1,"s":"BNBBTC","a":1,"p":"1","q":"1","f":1,"…)`,
		`spot aggTrade: unknown key "X" (3 times, e.g. 42)`,
		`spot aggTrade: wrong event "e" (1 time, e.g. "trade")`,
	}
	for i, line := range lines {
		if i < len(got) && got[i].String() != line {
			t.Errorf("entry %d prints as\n%s\nwant\n%s", i, got[i], line)
		}
	}

	wire.ResetDrift()
	if r := wire.DriftReport(); len(r) != 0 {
		t.Errorf("after ResetDrift: %v", r)
	}
}

// TestDriftAllocations holds the decoders to their budget when a payload
// has a key the schema does not know: once the key is in the report, a
// decode allocates only the copy of the payload, as without it.
func TestDriftAllocations(t *testing.T) {
	wire.ResetDrift()
	t.Cleanup(wire.ResetDrift)
	for _, c := range []struct {
		name string
		v    interface{ UnmarshalJSON([]byte) error }
		data string
	}{
		{"aggTrade", new(spot.AggTradeEvent), aggTradeUnknownJSON},
		{"kline", new(spot.KlineEvent), klineUnknownJSON},
		{"depth", new(usdm.DepthUpdateEvent), `{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":1,"u":2,"pu":0,"b":[["1","2","3"]],"a":[]}`},
	} {
		data := []byte(c.data)
		if err := c.v.UnmarshalJSON(data); err != nil {
			t.Fatal(err)
		}
		got := testing.AllocsPerRun(100, func() {
			if err := c.v.UnmarshalJSON(data); err != nil {
				t.Fatal(err)
			}
		})
		if got > 1 {
			t.Errorf("%s: %v allocations per decode with an unknown key, want 1", c.name, got)
		}
	}
	var n uint64
	for _, e := range wire.DriftReport() {
		n += e.Count
	}
	if n != 3*102 {
		t.Errorf("%d unknown keys counted, want %d", n, 3*102)
	}
}
