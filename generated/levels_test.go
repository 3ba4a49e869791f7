package generated_test

import (
	"encoding/json"
	"errors"
	"math/rand"
	"strings"
	"testing"

	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/wire"
)

// The level arrays of depth payloads are read one compact level at a time
// (wire.Decoder.NextDecimalPair), other levels the long way. These tests
// hold both to the same values and the same errors, through UnmarshalJSON
// (a copy of the payload) and through the runtime's stream decoder
// (in place, event reused).

const depthHead = `{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":1,"u":2,"pu":0,`

// manyLevels is enough compact levels after a level under test that the
// one-step reader, which looks 32 bytes ahead, takes them.
var manyLevels = strings.Repeat(`,["16800.10000000","0.12500000"]`, 4)

// decodeDepthBoth decodes data both ways and checks that they agree.
func decodeDepthBoth(t *testing.T, data string) (*usdm.DepthUpdateEvent, error) {
	t.Helper()
	var v usdm.DepthUpdateEvent
	err := v.UnmarshalJSON([]byte(data))
	dec := usdm.DiffDepthParams{Symbol: "BTCUSDT"}.Stream().NewDecoder()
	// Into a used event, as the runtime does with borrowed events.
	used, uerr := dec.Decode([]byte(depthHead+`"b":[["1","1"],["2","2"],["3","3"]],"a":[["4","4"]]}`), nil)
	if uerr != nil {
		t.Fatal(uerr)
	}
	sv, serr := dec.Decode([]byte(data), used)
	if (err == nil) != (serr == nil) || err != nil && err.Error() != serr.Error() {
		t.Fatalf("%s:\nUnmarshalJSON error %v\nstream decoder error %v", data, err, serr)
	}
	if err == nil {
		got, sgot := string(v.AppendJSON(nil)), string(sv.(*usdm.DepthUpdateEvent).AppendJSON(nil))
		if got != sgot {
			t.Fatalf("%s:\nUnmarshalJSON %s\nstream decoder %s", data, got, sgot)
		}
	}
	return &v, err
}

// TestDepthLevelErrors checks malformed level arrays, first among compact
// levels and last: each is a field error naming the level, never a panic.
func TestDepthLevelErrors(t *testing.T) {
	for _, tc := range []struct{ level, key, want string }{
		{`["1.0"]`, "b.1", "array has too few elements"},
		{`[]`, "b.0", "array has too few elements"},
		{`["1.0",2]`, "b.1", "expected string, got number"},
		{`[1,"2"]`, "b.0", "expected string, got number"},
		{`"1"`, "b", "expected array, got string"},
		{`{"p":"1"}`, "b", "expected array, got object"},
		{`["1.2.3","1"]`, "b.0", `invalid decimal "1.2.3"`},
		{`["16800.1","01"]`, "b.1", `invalid decimal "01"`},
		{`["1.","1"]`, "b.0", `invalid decimal "1."`},
		{`[".5","1"]`, "b.0", `invalid decimal ".5"`},
		{`["","1"]`, "b.0", `invalid decimal ""`},
		{`["1","abc"]`, "b.1", `invalid decimal "abc"`},
		{`["1","2"`, "b", "expected array, got string"}, // the next level is a third column
		{`["1" "2"]`, "b", "expected ',' or ']' after array element"},
		{`["1","2",]`, "b", "invalid character ']' looking for beginning of value"},
	} {
		for _, data := range []string{
			depthHead + `"b":[` + tc.level + manyLevels + `],"a":[]}`,
			depthHead + `"b":[["2","2"],` + tc.level + `],"a":[]}`,
		} {
			_, err := decodeDepthBoth(t, data)
			var fe *wire.FieldError
			if !errors.As(err, &fe) || !strings.HasPrefix(fe.Key, tc.key) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s:\n got %v\nwant field %q: %s", data, err, tc.key, tc.want)
			}
		}
	}
}

// TestDepthTruncated decodes every prefix of a depth payload: all but the
// whole of it are errors.
func TestDepthTruncated(t *testing.T) {
	data := depthHead + `"b":[["16800.00000000","0.12500000"],["16799.9","1"]` + manyLevels + `],"a":[["1e3","-0"]` + manyLevels + `]}`
	for n := range len(data) {
		if _, err := decodeDepthBoth(t, data[:n]); err == nil {
			t.Fatalf("%s: no error", data[:n])
		}
	}
	if _, err := decodeDepthBoth(t, data); err != nil {
		t.Fatal(err)
	}
}

// TestDepthLevelsRandom decodes random level arrays, compact or spaced,
// valid or not, and compares them with encoding/json's [][2]string: the
// exact text of each decimal, or an error where a decimal is invalid.
func TestDepthLevelsRandom(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	decimals := []string{"0", "1", "16800.10000000", "0.00000001", "123456789012.12345678", "-1.5", "1e-7",
		"0.125", "999999999999999.9", "10", "01", "1.", ".1", "1..2", "+1", "0x1", "1e", ""}
	pick := func() (string, bool) {
		if r.Intn(10) > 0 {
			return decimals[r.Intn(10)], true
		}
		k := r.Intn(len(decimals))
		return decimals[k], k < 10
	}
	for n := 0; n < 20000; n++ {
		var b strings.Builder
		valid := true
		count := r.Intn(25)
		b.WriteString(depthHead + `"b":[`)
		for k := 0; k < count; k++ {
			if k > 0 {
				b.WriteString([]string{",", ",", ",", ", ", " ,"}[r.Intn(5)])
			}
			p, ok1 := pick()
			q, ok2 := pick()
			valid = valid && ok1 && ok2
			if r.Intn(20) == 0 {
				b.WriteString(`[ "` + p + `" , "` + q + `" ]`)
			} else {
				b.WriteString(`["` + p + `","` + q + `"]`)
			}
		}
		b.WriteString(`],"a":[]}`)
		data := b.String()
		v, err := decodeDepthBoth(t, data)
		if (err == nil) != valid {
			t.Fatalf("%s: error %v, want valid %v", data, err, valid)
		}
		if err != nil {
			continue
		}
		var want struct{ B [][2]string }
		if err := json.Unmarshal([]byte(data), &want); err != nil {
			t.Fatal(err)
		}
		if len(v.Bids) != len(want.B) || v.Bids == nil {
			t.Fatalf("%s: %d bids, want %d", data, len(v.Bids), len(want.B))
		}
		for k, l := range v.Bids {
			if l.Price.String() != want.B[k][0] || l.Quantity.String() != want.B[k][1] {
				t.Fatalf("%s: bid %d is %s %s, want %v", data, k, l.Price, l.Quantity, want.B[k])
			}
		}
	}
}

var _ runtime.StreamDecoder // the stream decoders are the runtime's
