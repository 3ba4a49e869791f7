package wire

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// appendAggTrade is an encoder in the shape of generated code.
func appendAggTrade(dst []byte, e *aggTrade) []byte {
	dst = append(dst, `{"e":`...)
	dst = AppendString(dst, e.Event)
	dst = append(dst, `,"E":`...)
	dst = AppendInt(dst, int64(e.EventTime))
	dst = append(dst, `,"s":`...)
	dst = AppendString(dst, e.Symbol)
	dst = append(dst, `,"a":`...)
	dst = AppendInt(dst, e.ID)
	dst = append(dst, `,"p":`...)
	dst = AppendDecimal(dst, e.Price)
	dst = append(dst, `,"q":`...)
	dst = AppendDecimal(dst, e.Qty)
	dst = append(dst, `,"f":`...)
	dst = AppendInt(dst, e.First)
	dst = append(dst, `,"l":`...)
	dst = AppendInt(dst, e.Last)
	dst = append(dst, `,"T":`...)
	dst = AppendInt(dst, int64(e.TradeTime))
	dst = append(dst, `,"m":`...)
	dst = AppendBool(dst, e.Maker)
	dst = append(dst, `,"M":`...)
	dst = AppendBool(dst, e.Ignore)
	return append(dst, '}')
}

func TestEncodeRoundTrip(t *testing.T) {
	var e aggTrade
	if err := e.UnmarshalJSON([]byte(aggTradeJSON)); err != nil {
		t.Fatal(err)
	}
	out := appendAggTrade(nil, &e)
	if string(out) != aggTradeJSON {
		t.Errorf("round trip:\n got %s\nwant %s", out, aggTradeJSON)
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"BNBBTC", `"BNBBTC"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f" + `"`},
		{"<>&", `"<>&"`},
		{"héllo €😀", `"héllo €😀"`},
		{"a\xffb", `"a\ufffdb"`},
		{"\xe2\x82", `"\ufffd\ufffd"`},
		{"\u2028", "\"\u2028\""},
		{"/", `"/"`},
	}
	for _, tt := range tests {
		got := string(AppendString([]byte("x"), tt.in))
		if got != "x"+tt.want {
			t.Errorf("AppendString(%q) = %s, want %s", tt.in, got[1:], tt.want)
			continue
		}
		// Read it back.
		var d Decoder
		d.ResetString(got[1:])
		back, err := d.String()
		if err != nil {
			t.Errorf("reading back %s: %v", got[1:], err)
		}
		if utf8.ValidString(tt.in) && back != tt.in {
			t.Errorf("read back %q, want %q", back, tt.in)
		}
		if !json.Valid([]byte(got[1:])) {
			t.Errorf("AppendString(%q) is not valid JSON", tt.in)
		}
	}
}

func TestAppendScalars(t *testing.T) {
	tests := []struct{ got, want string }{
		{string(AppendDecimal(nil, MustDecimal("0.00100000"))), `"0.00100000"`},
		{string(AppendDecimal(nil, Decimal{})), `null`},
		{string(AppendDecimalNumber(nil, MustDecimal("-1e-7"))), `-1e-7`},
		{string(AppendDecimalNumber(nil, Decimal{})), `null`},
		{string(AppendInt(nil, math.MinInt64)), `-9223372036854775808`},
		{string(AppendIntString(nil, -123)), `"-123"`},
		{string(AppendUint(nil, math.MaxUint64)), `18446744073709551615`},
		{string(AppendBool(nil, true)), `true`},
		{string(AppendBool(nil, false)), `false`},
		{string(AppendRaw(nil, `{"a":[1]}`)), `{"a":[1]}`},
		{string(AppendRaw(nil, "")), `null`},
		{string(AppendFloat(nil, 1.5)), `1.5`},
		{string(AppendFloat(nil, 0.1)), `0.1`},
		{string(AppendFloat(nil, 1e21)), `1e+21`},
		{string(AppendFloat(nil, 1e20)), `100000000000000000000`},
		{string(AppendFloat(nil, 1e-7)), `1e-7`},
		{string(AppendFloat(nil, 1.5e-300)), `1.5e-300`},
		{string(AppendFloat(nil, 0.000001)), `0.000001`},
		{string(AppendFloat(nil, math.Copysign(0, -1))), `-0`},
		{string(AppendFloat(nil, math.NaN())), `null`},
		{string(AppendFloat(nil, math.Inf(1))), `null`},
		{string(AppendFloat(nil, math.Inf(-1))), `null`},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: got %s, want %s", i, tt.got, tt.want)
		}
	}
}

func TestAppendFloatMatchesStdlib(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 0.1, 1e-6, 9.99e-7, 1e21, 123456789.123, math.MaxFloat64, math.SmallestNonzeroFloat64, 5e-324, 1e-10} {
		want, _ := json.Marshal(f)
		got := AppendFloat(nil, f)
		if string(got) != string(want) {
			t.Errorf("AppendFloat(%v) = %s, encoding/json %s", f, got, want)
		}
		var d Decoder
		d.ResetString(string(got))
		if back, err := d.Float(); err != nil || back != f {
			t.Errorf("read back %s = %v, %v", got, back, err)
		}
	}
}

func TestAppendIntRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 1672515782136} {
		var d Decoder
		d.ResetString(string(AppendInt(nil, v)))
		if got, err := d.Int(); err != nil || got != v {
			t.Errorf("Int %d: %d %v", v, got, err)
		}
		d.ResetString(string(AppendIntString(nil, v)))
		if got, err := d.IntString(); err != nil || got != v {
			t.Errorf("IntString %d: %d %v", v, got, err)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "abc", "a\"b", "\x00\xff", "😀", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendString(nil, s)
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("AppendString(%q) = %s: not valid JSON/UTF-8", s, out)
		}
		var d Decoder
		d.ResetString(string(out))
		back, err := d.String()
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); utf8.ValidString(s) && back != s || !utf8.ValidString(s) && utf8.RuneCountInString(back) != utf8.RuneCountInString(s) {
			t.Fatalf("round trip %q -> %q (valid form %q)", s, back, want)
		}
	})
}
