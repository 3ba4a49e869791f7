package generated_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/wire"
)

// TestKeysDifferingOnlyInCase is the bug encoding/json and goccy/go-json
// invite: they match keys case-insensitively, so "M" can overwrite "m".
// Here every key is matched exactly, in either order.
func TestKeysDifferingOnlyInCase(t *testing.T) {
	const base = `"e":"aggTrade","E":1,"s":"BNBBTC","a":1,"p":"1","q":"1","f":1,"l":1,"T":1`
	for _, data := range []string{
		`{` + base + `,"m":false,"M":true}`,
		`{` + base + `,"M":true,"m":false}`,
	} {
		var ev spot.AggTradeEvent
		if err := ev.UnmarshalJSON([]byte(data)); err != nil {
			t.Fatal(err)
		}
		if ev.IsBuyerMaker || !ev.Ignore {
			t.Errorf("%s: IsBuyerMaker=%v Ignore=%v, want false, true", data, ev.IsBuyerMaker, ev.Ignore)
		}
	}

	// The same payload through encoding/json into a struct that declares only
	// "m" shows what the generated decoder prevents.
	var plain struct {
		M bool `json:"m"`
	}
	if err := json.Unmarshal([]byte(`{"m":false,"M":true}`), &plain); err != nil {
		t.Fatal(err)
	}
	if !plain.M {
		t.Log("encoding/json no longer folds case; the guard above still matters for goccy/go-json")
	}
}

func TestUnknownKeysAreSkipped(t *testing.T) {
	data := `{"e":"trade","E":1,"new":{"nested":[1,"x",{"y":null}]},"s":"BNBBTC","t":7,"b":88,"a":50,"p":"0.1","q":"2","T":3,"m":true,"M":true,"zz":-1.5e3}`
	var ev spot.TradeEvent
	if err := ev.UnmarshalJSON([]byte(data)); err != nil {
		t.Fatal(err)
	}
	want := spot.TradeEvent{EventType: "trade", EventTime: 1, Symbol: "BNBBTC", TradeID: 7,
		Price: wire.MustDecimal("0.1"), Quantity: wire.MustDecimal("2"), TradeTime: 3, IsBuyerMaker: true, Ignore: true}
	if diff := cmp.Diff(want, ev, cmp.Comparer(decimalEqual)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestDecodeErrors checks that a wrong type in a known field names the
// market, the event and the wire key (a dotted path for nested objects).
func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		stream, data, want string
	}{
		{"btcusdt@aggTrade", `{"e":"aggTrade","p":0.001}`, `spot: decode aggTrade field "p": expected string, got number`},
		{"btcusdt@aggTrade", `{"e":"aggTrade","a":"12"}`, `spot: decode aggTrade field "a": expected`},
		{"btcusdt@aggTrade", `{"e":"aggTrade","p":"1.2.3"}`, `spot: decode aggTrade field "p":`},
		{"btcusdt@aggTrade", `{"e":"aggTrade","a":92233720368547758070}`, `spot: decode aggTrade field "a":`},
		{"btcusdt@kline_1m", `{"e":"kline","k":{"t":1,"o":7}}`, `spot: decode kline field "k.o": expected string, got number`},
		{"btcusdt@depth", `{"e":"depthUpdate","b":[["1.0"]]}`, `spot: decode depthUpdate field "b.1": array has too few elements`},
		{"btcusdt@depth", `{"e":"depthUpdate","b":[["1.0",2]]}`, `spot: decode depthUpdate field "b.1": expected string, got number`},
		{"btcusdt@aggTrade", `[1,2]`, `spot: decode aggTrade: expected object, got array`},
		{"btcusdt@aggTrade", `{"e":"aggTrade"`, `spot: decode aggTrade`},
		{"btcusdt@aggTrade", `{"e":"aggTrade"} x`, `spot: decode aggTrade`},
		{"!miniTicker@arr", `{"e":"24hrMiniTicker"}`, `spot: decode 24hrMiniTicker: expected array, got object`},
		{"btcusdt@nope", `{}`, `spot: unknown stream "btcusdt@nope"`},
	} {
		_, err := spot.Decode(tc.stream, []byte(tc.data))
		if err == nil {
			t.Errorf("%s %s: no error, want %q", tc.stream, tc.data, tc.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s %s:\n got %q\nwant %q", tc.stream, tc.data, err, tc.want)
		}
	}
	_, err := spot.Decode("btcusdt@aggTrade", []byte(`{"p":1}`))
	var fe *wire.FieldError
	if !errors.As(err, &fe) || fe.Key != "p" || fe.Event != "aggTrade" || fe.Market != "spot" {
		t.Errorf("error %#v is not a FieldError for spot aggTrade p", err)
	}
}

// TestOptionalFields shows the three shapes of a field the exchange may leave
// out: absent (nil), present, and present as JSON null.
func TestOptionalFields(t *testing.T) {
	const base = `"e":"aggTrade","E":1,"s":"BTCUSDT","a":1,"p":"1","q":"1","nq":"1","f":1,"l":1,"T":1,"m":true`
	var ev usdm.AggTradeEvent
	if err := ev.UnmarshalJSON([]byte(`{` + base + `,"st":2}`)); err != nil {
		t.Fatal(err)
	}
	if ev.SymbolType == nil || *ev.SymbolType != 2 {
		t.Fatalf("SymbolType = %v, want 2", ev.SymbolType)
	}
	if err := ev.UnmarshalJSON([]byte(`{` + base + `}`)); err != nil {
		t.Fatal(err)
	}
	if ev.SymbolType != nil {
		t.Errorf("decoding into a used value kept SymbolType = %v", *ev.SymbolType)
	}
	if got := string(ev.AppendJSON(nil)); strings.Contains(got, `"st"`) {
		t.Errorf("absent optional field encoded: %s", got)
	}

	var rp spot.ReferencePriceEvent
	if err := rp.UnmarshalJSON([]byte(`{"e":"referencePrice","s":"X","r":null,"t":1}`)); err != nil {
		t.Fatal(err)
	}
	if rp.ReferencePrice != nil {
		t.Errorf("null decoded as %v", rp.ReferencePrice)
	}
	if got := string(rp.AppendJSON(nil)); !strings.Contains(got, `"r":null`) {
		t.Errorf("nullable field lost its null: %s", got)
	}
}

func TestExactDecimals(t *testing.T) {
	var ev spot.AggTradeEvent
	data := `{"e":"aggTrade","E":1,"s":"BNBBTC","a":1,"p":"123456789012.12345678","q":"0.000000012345678901","f":1,"l":1,"T":1,"m":true,"M":true}`
	if err := ev.UnmarshalJSON([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if ev.Price.String() != "123456789012.12345678" || ev.Quantity.String() != "0.000000012345678901" {
		t.Errorf("decimals changed: %s %s", ev.Price, ev.Quantity)
	}
	if f := ev.Quantity.Float64(); f != 1.2345678901e-8 {
		t.Errorf("Float64 = %v", f)
	}
}

// TestDecodeReusesSlices shows that decoding into a used value reuses the
// capacity of its slices, as encoding/json does.
func TestDecodeReusesSlices(t *testing.T) {
	var ev spot.DepthUpdateEvent
	big := `{"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,"b":[["1","1"],["2","2"],["3","3"]],"a":[]}`
	small := `{"e":"depthUpdate","E":2,"s":"BNBBTC","U":3,"u":4,"b":[["9","9"]],"a":[]}`
	if err := ev.UnmarshalJSON([]byte(big)); err != nil {
		t.Fatal(err)
	}
	first := &ev.Bids[0]
	if err := ev.UnmarshalJSON([]byte(small)); err != nil {
		t.Fatal(err)
	}
	if len(ev.Bids) != 1 || &ev.Bids[0] != first || ev.Bids[0].Price.String() != "9" {
		t.Errorf("bids = %v, want one level reusing the array", ev.Bids)
	}
	if ev.Asks == nil {
		t.Error("an empty side decoded as nil; want an empty slice")
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"e":"aggTrade","E":1,"s":"B","a":1,"p":"1","q":"1","f":1,"l":1,"T":1,"m":true,"M":true}`,
		`{"e":"depthUpdate","E":1,"s":"B","U":1,"u":2,"b":[["1","2"]],"a":[]}`,
		klineJSON,
		`[{"e":"24hrMiniTicker","E":1,"s":"B","c":"1","o":"1","h":"1","l":"1","v":"1","q":"1"}]`,
		`{"e":"trade","E":1}`,
		`{}`,
	} {
		f.Add(s)
	}
	streams := []string{"btcusdt@aggTrade", "btcusdt@depth", "btcusdt@kline_1m", "!miniTicker@arr"}
	f.Fuzz(func(t *testing.T, data string) {
		for _, s := range streams {
			v, err := spot.Decode(s, []byte(data))
			if err != nil {
				continue
			}
			// Whatever decodes must re-encode to valid JSON that decodes again.
			out := v.AppendJSON(nil)
			if !json.Valid(out) {
				t.Fatalf("%s: invalid JSON from %q: %s", s, data, out)
			}
			if _, err := spot.Decode(s, out); err != nil {
				t.Fatalf("%s: re-encoded %s does not decode: %v", s, out, err)
			}
		}
	})
}
