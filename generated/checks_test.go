package generated_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/marketwire/marketwire/gen"
	"github.com/marketwire/marketwire/generated/dex"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/wire"
)

// TestNotTheStreamsEvent is what the decoders reject: a payload without a
// key the schema requires, and a payload of another event kind.
func TestNotTheStreamsEvent(t *testing.T) {
	for _, tc := range []struct {
		stream, data, want string
	}{
		{"btcusdt@aggTrade", `{}`, `spot: decode aggTrade field "e": missing`},
		{"btcusdt@aggTrade", `{"e":"aggTrade","E":1,"s":"BTCUSDT","a":1,"p":"1","q":"1","f":1,"l":1,"T":1,"m":true}`, `spot: decode aggTrade field "M": missing`},
		{"btcusdt@aggTrade", tradeJSON, `spot: decode aggTrade field "e": event "trade", want "aggTrade"`},
		{"btcusdt@trade", aggTradeJSON, `spot: decode trade field "e": event "aggTrade", want "trade"`},
		{"btcusdt@kline_1m", strings.Replace(klineJSON, `"t":1672515780000,`, "", 1), `spot: decode kline field "k.t": missing`},
		{"!miniTicker@arr", `[{}]`, `spot: decode 24hrMiniTicker field "e": missing`},
		{"btcusdt@ticker_1h", `{"e":"24hrTicker"}`, `spot: decode WindowTickerEvent field "e": event "24hrTicker", want one of "1hTicker", "4hTicker", "1dTicker"`},
		{"btcusdt@bookTicker", `{"u":1,"s":"BTCUSDT","b":"1","B":"1","a":"1"}`, `spot: decode BookTickerEvent field "A": missing`},
		{"btcusdt@depth5", `{"lastUpdateId":1,"bids":[["1"]],"asks":[]}`, `spot: decode PartialDepthEvent field "bids.1": array has too few elements`},
	} {
		_, err := spot.Decode(tc.stream, []byte(tc.data))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s %.60s:\n got %v\nwant %s", tc.stream, tc.data, err, tc.want)
		}
	}
	// The window ticker takes each of its windows.
	for _, e := range []string{"1hTicker", "4hTicker", "1dTicker"} {
		data := `{"e":"` + e + `","E":1,"s":"B","p":"1","P":"1","o":"1","h":"1","l":"1","c":"1","w":"1","v":"1","q":"1","O":1,"C":1,"F":1,"L":1,"n":1}`
		if _, err := spot.Decode("btcusdt@ticker_1h", []byte(data)); err != nil {
			t.Errorf("%s: %v", e, err)
		}
	}
	// So does the DEX mini ticker, named two ways.
	for _, e := range []string{"24hrMiniTicker", "24hrTicker"} {
		data := `{"e":"` + e + `","E":1,"s":"B","c":"1","o":"1","h":"1","l":"1","v":"1","q":"1"}`
		if _, err := dex.Decode("BNB_BTC@miniTicker", []byte(data)); err != nil {
			t.Errorf("dex %s: %v", e, err)
		}
	}
	// An optional key may be absent; the errors are typed.
	if _, err := usdm.Decode("btcusdt@aggTrade", []byte(`{"e":"aggTrade","E":1,"s":"B","a":1,"p":"1","q":"1","nq":"1","f":1,"l":1,"T":1,"m":true}`)); err != nil {
		t.Errorf("usdm aggTrade without st: %v", err)
	}
	_, err := spot.Decode("btcusdt@aggTrade", []byte(`{}`))
	var fe *wire.FieldError
	if !errors.Is(err, wire.ErrMissing) || !errors.As(err, &fe) || fe.Market != "spot" || fe.Event != "aggTrade" || fe.Key != "e" {
		t.Errorf("%#v is not a FieldError for spot aggTrade e, missing", err)
	}
	_, err = spot.Decode("btcusdt@aggTrade", []byte(tradeJSON))
	var ee *wire.EventError
	if !errors.As(err, &ee) || ee.Got != "trade" {
		t.Errorf("%#v is not an EventError", err)
	}
}

// TestEveryRequiredKey takes every fixture whose payload is an object (or
// an array of objects), removes each key its type requires in turn, and
// checks that the decoder names exactly that key as missing; then, where the
// type names its event kinds, replaces the kind and checks the decoder
// refuses it.
func TestEveryRequiredKey(t *testing.T) {
	removals, kinds := 0, 0
	for _, f := range loadFixtures(t) {
		typ, eventKey := fixtureType(t, f)
		if typ == nil || typ.Tuple {
			continue
		}
		data, inArray := f.Data, false
		if d := bytes.TrimSpace(data); len(d) > 0 && d[0] == '[' {
			inArray = true
		}
		for _, fd := range typ.Fields {
			mutated, ok := mutateFirst(t, data, inArray, func(obj map[string]any) bool {
				if _, ok := obj[fd.Key]; !ok {
					return false
				}
				delete(obj, fd.Key)
				return true
			})
			if !ok {
				continue
			}
			_, err := decodeAs(f, mutated)
			if fd.Optional {
				if err != nil {
					t.Errorf("%s without optional %q: %v", f.path, fd.Key, err)
				}
				continue
			}
			removals++
			var fe *wire.FieldError
			if !errors.Is(err, wire.ErrMissing) || !errors.As(err, &fe) || fe.Key != fd.Key || fe.Market != f.market {
				t.Errorf("%s without %q: %v, want it named as missing", f.path, fd.Key, err)
			}
		}
		if eventKey == "" || len(typ.Kinds) == 0 || f.Decoder != "" {
			continue // a dispatch group decodes another kind as an unknown event, which is right
		}
		mutated, ok := mutateFirst(t, data, inArray, func(obj map[string]any) bool {
			obj[eventKey] = "someOtherEvent"
			return true
		})
		if !ok {
			continue
		}
		kinds++
		_, err := decodeAs(f, mutated)
		var ee *wire.EventError
		if !errors.As(err, &ee) || ee.Got != "someOtherEvent" {
			t.Errorf("%s with another event kind: %v, want an EventError", f.path, err)
		}
	}
	if removals < 1000 || kinds < 100 {
		t.Errorf("%d removals, %d kind changes: the fixtures are not being checked", removals, kinds)
	}
	t.Logf("%d required keys removed, %d event kinds replaced", removals, kinds)
}

// fixtureType is the schema type a fixture's payload (or each element of
// it) decodes into, and the market's event key; nil for frames decoded by a
// dispatch group with a data member.
func fixtureType(t *testing.T, f fixture) (*gen.TypeModel, string) {
	for _, m := range loadModel(t).Markets {
		if m.Name != f.market {
			continue
		}
		if f.Decoder == "" {
			for _, s := range m.Streams {
				if s.Name == f.stream {
					return s.Payload, m.EventKey
				}
			}
			return nil, ""
		}
		for _, g := range m.Dispatch {
			if g.Name != f.Decoder || g.Data != "" {
				continue
			}
			kind, _, _ := wire.LookupString(f.Data, g.Key)
			for _, typ := range g.Types {
				if typ.Event == kind {
					return typ, m.EventKey
				}
			}
		}
	}
	return nil, ""
}

// mutateFirst applies change to the payload object (the first element of
// an array payload) and returns the new payload; ok is false when change
// did nothing. Numbers keep their text.
func mutateFirst(t *testing.T, data []byte, inArray bool, change func(map[string]any) bool) ([]byte, bool) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	obj, ok := v.(map[string]any)
	if inArray {
		list, _ := v.([]any)
		if len(list) == 0 {
			return nil, false
		}
		obj, ok = list[0].(map[string]any)
	}
	if !ok || !change(obj) {
		return nil, false
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out, true
}

// decodeAs decodes data the way fixture f is decoded.
func decodeAs(f fixture, data []byte) (any, error) {
	f.Data = data
	return f.decode()
}
