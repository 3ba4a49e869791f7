package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

const sampleJSON = ` {"e":"depthUpdate", "E":1672515782136,"m":true,"M":false,
 "b":[["0.0024","10"],["0.0025","0"]],"o":{"x":1,"y":[1,2,{"z":null}],"w":{}},"n":null,"f":-1.5e3,
 "esc":"a\"b\\c\/\n\u00e9\ud83d\ude00","A":[],"k":"\u004b"} `

func TestDecoderWalk(t *testing.T) {
	var d Decoder
	d.Reset([]byte(sampleJSON))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	key := func(want string) {
		t.Helper()
		k, ok, err := d.NextKey()
		must(err)
		if !ok || k != want {
			t.Fatalf("NextKey = %q, %v; want %q", k, ok, want)
		}
	}
	noKey := func() {
		t.Helper()
		k, ok, err := d.NextKey()
		must(err)
		if ok {
			t.Fatalf("NextKey = %q, want end of object", k)
		}
	}
	elem := func(want bool) {
		t.Helper()
		ok, err := d.NextElem()
		must(err)
		if ok != want {
			t.Fatalf("NextElem = %v, want %v", ok, want)
		}
	}
	must(d.ObjectStart())
	key("e")
	if s, err := d.String(); err != nil || s != "depthUpdate" {
		t.Fatalf("e = %q, %v", s, err)
	}
	key("E")
	if v, err := d.Int(); err != nil || v != 1672515782136 {
		t.Fatalf("E = %d, %v", v, err)
	}
	key("m") // "m" and "M" are distinct keys
	if v, err := d.Bool(); err != nil || !v {
		t.Fatalf("m = %v, %v", v, err)
	}
	key("M")
	if v, err := d.Bool(); err != nil || v {
		t.Fatalf("M = %v, %v", v, err)
	}
	key("b")
	must(d.ArrayStart())
	var levels [][2]string
	for {
		ok, err := d.NextElem()
		must(err)
		if !ok {
			break
		}
		must(d.ArrayStart())
		var l [2]string
		for i := 0; i < 2; i++ {
			elem(true)
			v, err := d.Decimal()
			must(err)
			l[i] = v.String()
		}
		elem(false)
		levels = append(levels, l)
	}
	if diff := cmp.Diff([][2]string{{"0.0024", "10"}, {"0.0025", "0"}}, levels); diff != "" {
		t.Fatalf("levels (-want +got):\n%s", diff)
	}
	key("o")
	must(d.ObjectStart())
	key("x")
	if v, err := d.Uint(); err != nil || v != 1 {
		t.Fatalf("x = %d, %v", v, err)
	}
	key("y")
	must(d.ArrayStart())
	elem(true)
	if v, err := d.Float(); err != nil || v != 1 {
		t.Fatalf("y[0] = %v, %v", v, err)
	}
	elem(true)
	must(d.Skip())
	elem(true)
	must(d.ObjectStart())
	key("z")
	if !d.IsNull() {
		t.Fatal("z is not null")
	}
	noKey()
	elem(false)
	key("w")
	must(d.ObjectStart())
	noKey()
	noKey() // end of "o"
	key("n")
	if d.IsNull() != true {
		t.Fatal("n is not null")
	}
	key("f")
	if v, err := d.DecimalNumber(); err != nil || v.String() != "-1.5e3" {
		t.Fatalf("f = %v, %v", v, err)
	}
	key("esc")
	if s, err := d.String(); err != nil || s != "a\"b\\c/\né😀" {
		t.Fatalf("esc = %q, %v", s, err)
	}
	key("A")
	must(d.ArrayStart())
	elem(false)
	key("k")
	if s, err := d.String(); err != nil || s != "K" {
		t.Fatalf("k = %q, %v", s, err)
	}
	noKey()
	must(d.End())
}

func TestNextKeyRaw(t *testing.T) {
	var d Decoder
	d.ResetString(`{"a\"b":1,"\u0041":2}`)
	var keys []string
	if err := d.ObjectStart(); err != nil {
		t.Fatal(err)
	}
	for {
		k, ok, err := d.NextKey()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		keys = append(keys, k)
		if err := d.Skip(); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{`a\"b`, `\u0041`}, keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}

func TestDecoderStrings(t *testing.T) {
	tests := []struct{ in, want string }{
		{`""`, ""},
		{`"plain"`, "plain"},
		{`"héllo"`, "héllo"},
		{`"\"\\\/\b\f\n\r\t"`, "\"\\/\b\f\n\r\t"},
		{`"\u0041\u00e9\u20ac"`, "Aé€"},
		{`"\ud83d\ude00"`, "😀"},
		{`"x\uD83D\uDE00y"`, "x😀y"},
		{`"\ud800"`, "\ufffd"},
		{`"\ud800x"`, "\ufffdx"},
		{`"\ud800\u0041"`, "\ufffdA"},
		{`"\udc00"`, "\ufffd"},
		{`"\ud83d\ud83d\ude00"`, "\ufffd😀"},
		{`"\ude00\ud83d"`, "\ufffd\ufffd"},
		{`"<>&"`, "<>&"},
		{`"\u0000"`, "\x00"},
	}
	for _, tt := range tests {
		var d Decoder
		d.ResetString(tt.in)
		got, err := d.String()
		if err != nil || got != tt.want {
			t.Errorf("String(%s) = %q, %v; want %q", tt.in, got, err, tt.want)
			continue
		}
		if err := d.End(); err != nil {
			t.Errorf("String(%s) left input: %v", tt.in, err)
		}
		var std string
		if err := json.Unmarshal([]byte(tt.in), &std); err != nil || std != got {
			t.Errorf("encoding/json reads %s as %q, we read %q", tt.in, std, got)
		}
	}
	bad := []string{`"abc`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\tb\"", "\"a\x00\"", `"\`, `"\u`, `'a'`, `"abc\"`}
	for _, in := range bad {
		var d Decoder
		d.ResetString(in)
		if s, err := d.String(); err == nil {
			t.Errorf("String(%s) = %q, want error", in, s)
		}
	}
}

// A string without escapes must be a substring of the input.
func TestStringSharesInput(t *testing.T) {
	in := `{"s":"BNBBTC"}`
	var d Decoder
	d.ResetString(in)
	_ = d.ObjectStart()
	_, _, _ = d.NextKey()
	s, err := d.String()
	if err != nil {
		t.Fatal(err)
	}
	if unsafe.StringData(s) != unsafe.StringData(in[6:]) {
		t.Error("String copied its result")
	}
}

func TestDecoderTypeErrors(t *testing.T) {
	inputs := map[string]string{ // JSON type -> sample
		"object":       `{"a":1}`,
		"array":        `[1]`,
		"string":       `"x"`,
		"number":       `-1`,
		"bool":         `true`,
		"null":         `null`,
		"end of input": `  `,
	}
	type reader struct {
		name string
		want string   // TypeError.Want
		ok   []string // input types it accepts
		read func(*Decoder) error
	}
	readers := []reader{
		{"ObjectStart", "object", []string{"object"}, func(d *Decoder) error { return d.ObjectStart() }},
		{"ArrayStart", "array", []string{"array"}, func(d *Decoder) error { return d.ArrayStart() }},
		{"String", "string", []string{"string"}, func(d *Decoder) error { _, err := d.String(); return err }},
		{"Decimal", "string", []string{"null"}, func(d *Decoder) error { _, err := d.Decimal(); return err }}, // "x" is a string but not a decimal
		{"DecimalNumber", "number", []string{"number", "null"}, func(d *Decoder) error { _, err := d.DecimalNumber(); return err }},
		{"Int", "integer", []string{"number"}, func(d *Decoder) error { _, err := d.Int(); return err }},
		{"IntString", "string", nil, func(d *Decoder) error { _, err := d.IntString(); return err }},
		{"Uint", "integer", nil, func(d *Decoder) error { _, err := d.Uint(); return err }}, // -1 is negative
		{"Float", "number", []string{"number"}, func(d *Decoder) error { _, err := d.Float(); return err }},
		{"Bool", "bool", []string{"bool"}, func(d *Decoder) error { _, err := d.Bool(); return err }},
	}
	for _, r := range readers {
		for got, in := range inputs {
			var d Decoder
			d.ResetString(in)
			err := r.read(&d)
			accepted := false
			for _, k := range r.ok {
				accepted = accepted || k == got
			}
			if accepted {
				if err != nil {
					t.Errorf("%s(%s): %v", r.name, in, err)
				}
				continue
			}
			if err == nil {
				t.Errorf("%s(%s) succeeded", r.name, in)
				continue
			}
			var te *TypeError
			if r.want == "string" && got == "string" || r.name == "Uint" && got == "number" {
				// A string with the wrong content, or a negative number.
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Errorf("%s(%s): got %T %v, want *SyntaxError", r.name, in, err, err)
				}
				continue
			}
			if !errors.As(err, &te) {
				t.Errorf("%s(%s): got %T %v, want *TypeError", r.name, in, err, err)
				continue
			}
			if te.Want != r.want || te.Got != got {
				t.Errorf("%s(%s): TypeError{%q, %q}, want {%q, %q}", r.name, in, te.Want, te.Got, r.want, got)
			}
			if msg := "expected " + r.want + ", got " + got; err.Error() != msg {
				t.Errorf("%s(%s): %q, want %q", r.name, in, err.Error(), msg)
			}
		}
	}
}

func TestDecoderSyntaxErrors(t *testing.T) {
	tests := []struct {
		in, want string
		read     func(*Decoder) error
	}{
		{`{"e":"aggTrade","E" 1}`, "wire: offset 20: expected ':' after object key", walk},
		{`{"a":1 "b":2}`, "wire: offset 7: expected ',' or '}' after object value", walk},
		{`{,"a":1}`, "wire: offset 1: expected string for object key", walk},
		{`{"a":1,}`, "wire: offset 7: expected string for object key", walk},
		{`{"a":1`, "wire: offset 6: expected ',' or '}' after object value", walk},
		{`[1 2]`, "wire: offset 3: expected ',' or ']' after array element", walk},
		{`[1,]`, "wire: offset 3: invalid character ']' looking for beginning of value", walk},
		{`[,1]`, "wire: offset 1: invalid character ',' looking for beginning of value", walk},
		{`{"a":x}`, "wire: offset 5: invalid character 'x' looking for beginning of value", walk},
		{`{"a":"b`, "wire: offset 7: unexpected end of input in string", walk},
		{`{"a":"\q"}`, "wire: offset 6: invalid escape sequence in string", walk},
		{"{\"a\":\"\n\"}", `wire: offset 6: invalid control character '\n' in string`, walk},
		{`{} x`, "wire: offset 3: invalid character 'x' after top-level value", walk},
		{`{"a":tru}`, "wire: offset 5: invalid character 't' looking for beginning of value", walk},
		{`{"a":-}`, "wire: offset 5: invalid number", walk},
		{`{"a":01}`, "wire: offset 6: expected ',' or '}' after object value", walk},
		{"\xff", "wire: offset 0: invalid character byte 0xff looking for beginning of value", walk},
		{`"1.5"`, `wire: offset 0: invalid decimal "1.5 "`, nil},
	}
	for _, tt := range tests {
		read := tt.read
		if read == nil {
			continue
		}
		var d Decoder
		d.ResetString(tt.in)
		err := read(&d)
		if err == nil {
			t.Errorf("%q: no error", tt.in)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("%q: %q, want %q", tt.in, err.Error(), tt.want)
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: %T, want *SyntaxError", tt.in, err)
		}
	}
	var d Decoder
	d.ResetString(`"1.5 "`)
	if _, err := d.Decimal(); err == nil || err.Error() != `wire: offset 0: invalid decimal "1.5 "` {
		t.Errorf("Decimal: %v", err)
	}
}

// walk reads any document with the typed API: objects and arrays by
// ObjectStart/NextKey and ArrayStart/NextElem, other values by Skip.
func walk(d *Decoder) error {
	if err := walkValue(d); err != nil {
		return err
	}
	return d.End()
}

func walkValue(d *Decoder) error {
	switch d.peek() {
	case '{':
		if err := d.ObjectStart(); err != nil {
			return err
		}
		for {
			_, ok, err := d.NextKey()
			if err != nil || !ok {
				return err
			}
			if err := walkValue(d); err != nil {
				return err
			}
		}
	case '[':
		if err := d.ArrayStart(); err != nil {
			return err
		}
		for {
			ok, err := d.NextElem()
			if err != nil || !ok {
				return err
			}
			if err := walkValue(d); err != nil {
				return err
			}
		}
	case '"':
		_, err := d.String()
		return err
	}
	return d.Skip()
}

func TestTruncated(t *testing.T) {
	docs := []string{sampleJSON, aggTradeJSON, depthJSON}
	for _, doc := range docs {
		for n := 0; n < len(strings.TrimRight(doc, " ")); n++ {
			in := doc[:n]
			var d Decoder
			d.ResetString(in)
			if err := d.Skip(); err == nil {
				if err := d.End(); err == nil {
					t.Errorf("Skip+End accepted %q", in)
				}
			}
			d.ResetString(in)
			if _, err := d.Raw(); err == nil {
				t.Errorf("Raw accepted %q", in)
			}
			d.ResetString(in)
			if err := walk(&d); err == nil {
				t.Errorf("walk accepted %q", in)
			}
			var a aggTrade
			if err := a.UnmarshalJSON([]byte(in)); err == nil {
				t.Errorf("aggTrade accepted %q", in)
			}
			var u depthUpdate
			if err := u.UnmarshalJSON([]byte(in)); err == nil {
				t.Errorf("depthUpdate accepted %q", in)
			}
			// Every typed reader at every offset: errors, never panics.
			for off := 0; off <= len(in); off++ {
				for _, read := range allReaders {
					d.ResetString(in)
					d.i = off
					_ = read(&d)
				}
			}
		}
		var d Decoder
		d.ResetString(doc)
		if err := walk(&d); err != nil {
			t.Errorf("walk(%q): %v", doc, err)
		}
	}
}

var allReaders = []func(*Decoder) error{
	func(d *Decoder) error { return d.ObjectStart() },
	func(d *Decoder) error { _, _, err := d.NextKey(); return err },
	func(d *Decoder) error { return d.ArrayStart() },
	func(d *Decoder) error { _, err := d.NextElem(); return err },
	func(d *Decoder) error { d.IsNull(); return nil },
	func(d *Decoder) error { _, err := d.String(); return err },
	func(d *Decoder) error { _, err := d.Decimal(); return err },
	func(d *Decoder) error { _, err := d.DecimalNumber(); return err },
	func(d *Decoder) error { _, err := d.Int(); return err },
	func(d *Decoder) error { _, err := d.IntString(); return err },
	func(d *Decoder) error { _, err := d.Uint(); return err },
	func(d *Decoder) error { _, err := d.Float(); return err },
	func(d *Decoder) error { _, err := d.Bool(); return err },
	func(d *Decoder) error { _, err := d.Raw(); return err },
	func(d *Decoder) error { return d.Skip() },
	func(d *Decoder) error { return d.End() },
	func(d *Decoder) error { _, err := DecodeArray(d, nil, ReadString); return err },
	func(d *Decoder) error { _, err := DecodeArray(d, nil, readLevel); return err },
}

func TestInt(t *testing.T) {
	good := map[string]int64{
		"0": 0, "-0": 0, "7": 7, "-7": -7, "1672515782136": 1672515782136,
		"9223372036854775807": 9223372036854775807, "-9223372036854775808": -9223372036854775808,
		" 42 ": 42,
	}
	for in, want := range good {
		var d Decoder
		d.ResetString(in)
		v, err := d.Int()
		if err == nil {
			err = d.End()
		}
		if err != nil || v != want {
			t.Errorf("Int(%q) = %d, %v; want %d", in, v, err, want)
		}
	}
	bad := map[string]string{
		"9223372036854775808":   "integer 9223372036854775808 overflows",
		"-9223372036854775809":  "integer -9223372036854775809 overflows",
		"99999999999999999999":  "integer 99999999999999999999 overflows",
		"18446744073709551616":  "integer 18446744073709551616 overflows",
		"1.5":                   "number 1.5 is not an integer",
		"1e3":                   "number 1e3 is not an integer",
		"1E+3":                  "number 1E+3 is not an integer",
		"-2.0":                  "number -2.0 is not an integer",
		"01":                    "invalid number",
		"-":                     "invalid integer",
		"-a":                    "invalid integer",
		"-01":                   "invalid number",
		"9223372036854775807.0": "number 9223372036854775807.0 is not an integer",
	}
	for in, msg := range bad {
		var d Decoder
		d.ResetString(in)
		v, err := d.Int()
		if err == nil {
			t.Errorf("Int(%q) = %d, want error", in, v)
			continue
		}
		if want := "wire: offset 0: " + msg; err.Error() != want {
			t.Errorf("Int(%q): %q, want %q", in, err.Error(), want)
		}
	}
}

func TestUint(t *testing.T) {
	good := map[string]uint64{"0": 0, "18446744073709551615": 18446744073709551615, "9223372036854775808": 1 << 63}
	for in, want := range good {
		var d Decoder
		d.ResetString(in)
		if v, err := d.Uint(); err != nil || v != want {
			t.Errorf("Uint(%q) = %d, %v; want %d", in, v, err, want)
		}
	}
	for _, in := range []string{"18446744073709551616", "-1", "-0", "1.5", "01", "1e2"} {
		var d Decoder
		d.ResetString(in)
		if v, err := d.Uint(); err == nil {
			t.Errorf("Uint(%q) = %d, want error", in, v)
		}
	}
}

func TestIntString(t *testing.T) {
	good := map[string]int64{
		`"123"`: 123, `"-5"`: -5, `"007"`: 7, `"\u0031"`: 1,
		`"9223372036854775807"`: 9223372036854775807, `"-9223372036854775808"`: -9223372036854775808,
	}
	for in, want := range good {
		var d Decoder
		d.ResetString(in)
		v, err := d.IntString()
		if err == nil {
			err = d.End()
		}
		if err != nil || v != want {
			t.Errorf("IntString(%s) = %d, %v; want %d", in, v, err, want)
		}
	}
	for _, in := range []string{`""`, `"-"`, `"+1"`, `"1.0"`, `"12a"`, `" 1"`, `"9223372036854775808"`, `"1`, `123`} {
		var d Decoder
		d.ResetString(in)
		if v, err := d.IntString(); err == nil {
			t.Errorf("IntString(%s) = %d, want error", in, v)
		}
	}
}

func TestFloat(t *testing.T) {
	good := map[string]float64{"0": 0, "-1.5": -1.5, "1e-400": 0, "123456.789e3": 123456789, "1E2": 100}
	for in, want := range good {
		var d Decoder
		d.ResetString(in)
		if v, err := d.Float(); err != nil || v != want {
			t.Errorf("Float(%q) = %v, %v; want %v", in, v, err, want)
		}
	}
	for _, in := range []string{"1e400", "-1e400", "1.", ".5", "-", "NaN", `"1"`} {
		var d Decoder
		d.ResetString(in)
		if v, err := d.Float(); err == nil {
			t.Errorf("Float(%q) = %v, want error", in, v)
		}
	}
}

func TestDecimalReaders(t *testing.T) {
	var d Decoder
	d.ResetString(`["0.00100000", null, "-1e-7", 5, "abc", "1.", "", "\u0031"]`)
	got, err := DecodeArray(&d, nil, func(v *string, d *Decoder) error {
		x, err := d.Decimal()
		if err != nil {
			*v = "error"
			return d.Skip()
		}
		*v = x.String()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0.00100000", "", "-1e-7", "error", "error", "error", "error", "1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	d.ResetString(`null`)
	if v, err := d.DecimalNumber(); err != nil || v.IsSet() {
		t.Errorf("DecimalNumber(null) = %v, %v", v, err)
	}
	d.ResetString(` -0.000000012345678901e+5 `)
	if v, err := d.DecimalNumber(); err != nil || v.String() != "-0.000000012345678901e+5" {
		t.Errorf("DecimalNumber = %v, %v", v, err)
	}
}

func TestBoolNullRaw(t *testing.T) {
	var d Decoder
	d.ResetString(`[true, false, null, nul, tru, {"a": [1, "x"]}, "s", 1.5e3 ]`)
	if err := d.ArrayStart(); err != nil {
		t.Fatal(err)
	}
	next := func() {
		t.Helper()
		if ok, err := d.NextElem(); !ok || err != nil {
			t.Fatalf("NextElem: %v %v", ok, err)
		}
	}
	next()
	if v, err := d.Bool(); !v || err != nil {
		t.Errorf("true: %v %v", v, err)
	}
	next()
	if v, err := d.Bool(); v || err != nil {
		t.Errorf("false: %v %v", v, err)
	}
	next()
	if _, err := d.Bool(); err == nil || err.Error() != "expected bool, got null" {
		t.Errorf("Bool(null): %v", err)
	}
	if !d.IsNull() || d.IsNull() {
		t.Error("IsNull")
	}
	next()
	if r, err := d.Raw(); err == nil {
		t.Errorf("Raw(nul) = %q", r)
	}
	d.i += 3
	next()
	if _, err := d.Bool(); err == nil {
		t.Error("Bool(tru) succeeded")
	}
	d.i += 3
	next()
	if r, err := d.Raw(); err != nil || r != `{"a": [1, "x"]}` {
		t.Errorf("Raw = %q, %v", r, err)
	}
	for _, want := range []Raw{`"s"`, `1.5e3`} {
		next()
		if r, err := d.Raw(); err != nil || r != want {
			t.Errorf("Raw = %q, %v; want %q", r, err, want)
		}
	}
	if ok, err := d.NextElem(); ok || err != nil {
		t.Errorf("end: %v %v", ok, err)
	}
	if err := d.End(); err != nil {
		t.Error(err)
	}
	if d.Offset() != len(d.s) {
		t.Errorf("Offset = %d, want %d", d.Offset(), len(d.s))
	}
}

func TestDecodeArray(t *testing.T) {
	var d Decoder
	d.ResetString(`null`)
	if v, err := DecodeArray(&d, []int64{1}, ReadInt); v != nil || err != nil {
		t.Errorf("null: %v %v", v, err)
	}
	d.ResetString(`[]`)
	if v, err := DecodeArray[int64](&d, nil, ReadInt); v == nil || len(v) != 0 || err != nil {
		t.Errorf("[]: %#v %v", v, err)
	}
	buf := make([]int64, 0, 8)
	d.ResetString(` [1, -2 ,3] `)
	v, err := DecodeArray(&d, buf[:0], ReadInt)
	if err != nil || !cmp.Equal(v, []int64{1, -2, 3}) || &v[0] != &buf[:1][0] {
		t.Errorf("ints: %v %v (capacity reused: %v)", v, err, len(v) > 0 && &v[0] == &buf[:1][0])
	}
	if err := d.End(); err != nil {
		t.Error(err)
	}
	d.ResetString(`[["a","b"],[]]`)
	nested, err := DecodeArray(&d, nil, func(v *[]string, d *Decoder) error {
		var err error
		*v, err = DecodeArray(d, *v, ReadString)
		return err
	})
	if err != nil || !cmp.Equal(nested, [][]string{{"a", "b"}, {}}) {
		t.Errorf("nested: %v %v", nested, err)
	}
	d.ResetString(`[true,false]`)
	if v, err := DecodeArray(&d, nil, ReadBool); err != nil || !cmp.Equal(v, []bool{true, false}) {
		t.Errorf("bools: %v %v", v, err)
	}
	d.ResetString(`[1.5,2]`)
	if v, err := DecodeArray(&d, nil, ReadFloat); err != nil || !cmp.Equal(v, []float64{1.5, 2}) {
		t.Errorf("floats: %v %v", v, err)
	}
	d.ResetString(`["1.5","2"]`)
	if v, err := DecodeArray(&d, nil, ReadDecimal); err != nil || len(v) != 2 || v[0].String() != "1.5" || v[1].String() != "2" {
		t.Errorf("decimals: %v %v", v, err)
	}
	for _, bad := range []string{`[1,]`, `[1 2]`, `[`, `[1`, `["a"]`, `{}`, `[1,2,"x"]`, ``} {
		d.ResetString(bad)
		if v, err := DecodeArray(&d, nil, ReadInt); err == nil {
			t.Errorf("DecodeArray(%s) = %v, want error", bad, v)
		}
	}
	// The decoder continues after the array.
	d.ResetString(`{"a":[1,2],"b":3}`)
	_ = d.ObjectStart()
	_, _, _ = d.NextKey()
	if _, err := DecodeArray(&d, nil, ReadInt); err != nil {
		t.Fatal(err)
	}
	if k, ok, err := d.NextKey(); k != "b" || !ok || err != nil {
		t.Errorf("after array: %q %v %v", k, ok, err)
	}
}

func TestSkipDepth(t *testing.T) {
	for _, n := range []int{maxDepth, maxDepth + 1} {
		for _, open := range []string{"[", `{"a":`} {
			close := map[string]string{"[": "]", `{"a":`: "}"}[open]
			in := strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
			var d Decoder
			d.ResetString(in)
			ok := d.Skip() == nil && d.End() == nil
			if ok != json.Valid([]byte(in)) {
				t.Errorf("depth %d of %q: Skip ok %v, json.Valid %v", n, open, ok, !ok)
			}
		}
	}
}

func TestAllocs(t *testing.T) {
	var e aggTrade
	if n := testing.AllocsPerRun(100, func() {
		var d Decoder
		d.ResetString(aggTradeJSON)
		if err := e.decode(&d); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("decoding after ResetString: %v allocations, want 0", n)
	}
	data := []byte(aggTradeJSON)
	if n := testing.AllocsPerRun(100, func() {
		if err := e.UnmarshalJSON(data); err != nil {
			t.Fatal(err)
		}
	}); n != 1 {
		t.Errorf("aggTrade UnmarshalJSON: %v allocations, want 1", n)
	}
	// With arrays and reused slices the Decoder stays on the stack too.
	var u depthUpdate
	data = []byte(depthJSON)
	if err := u.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if err := u.UnmarshalJSON(data); err != nil {
			t.Fatal(err)
		}
	}); n != 1 {
		t.Errorf("depthUpdate UnmarshalJSON: %v allocations, want 1", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		var d Decoder
		d.ResetString(sampleJSON)
		if err := d.Skip(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Skip: %v allocations, want 0", n)
	}
}

func TestAggTradeValues(t *testing.T) {
	var e aggTrade
	if err := e.UnmarshalJSON([]byte(aggTradeJSON)); err != nil {
		t.Fatal(err)
	}
	var p aggTradePlain
	if err := json.Unmarshal([]byte(aggTradeJSON), &p); err != nil {
		t.Fatal(err)
	}
	got := aggTradePlain{e.Event, int64(e.EventTime), e.Symbol, e.ID, e.Price.String(), e.Qty.String(),
		e.First, e.Last, int64(e.TradeTime), e.Maker, e.Ignore}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("(-encoding/json +wire):\n%s", diff)
	}
	err := e.UnmarshalJSON([]byte(`{"e":"aggTrade","p":0.001}`))
	if err == nil || err.Error() != `spot: decode aggTrade field "p": expected string, got number` {
		t.Errorf("wrong type: %v", err)
	}
	var fe *FieldError
	var te *TypeError
	if !errors.As(err, &fe) || fe.Key != "p" || !errors.As(err, &te) {
		t.Errorf("error chain: %#v", err)
	}
}

func FuzzDecoderSkip(f *testing.F) {
	for _, s := range []string{
		sampleJSON, aggTradeJSON, depthJSON, ``, ` `, `1`, `-`, `01`, `1.`, `"\u12"`, `"\ud800"`,
		`[1,]`, `{"a":1,}`, `{"a" 1}`, `[[[[]]]]`, `{"a":{"b":{}}}`, `nul`, `true false`,
		"\"\x00\"", "\"\xff\"", `"\/"`, `1e+`, `-0.0e-0`, "\t\n\r 1 \t",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d Decoder
		d.ResetString(s)
		ok := d.Skip() == nil && d.End() == nil
		if valid := json.Valid([]byte(s)); ok != valid {
			t.Fatalf("Skip+End ok %v, json.Valid %v for %q", ok, valid, s)
		}
		d.ResetString(s)
		r, err := d.Raw()
		if ok && (err != nil || string(r) != strings.Trim(s, " \t\r\n")) {
			t.Fatalf("Raw = %q, %v", r, err)
		}
		d.ResetString(s)
		if err := walk(&d); (err == nil) != ok {
			t.Fatalf("walk: %v, json.Valid %v", err, ok)
		}
		for _, read := range allReaders {
			d.ResetString(s)
			_ = read(&d)
			if d.i < 0 || d.i > len(s) {
				t.Fatalf("offset %d out of range", d.i)
			}
		}
	})
}

// FuzzDecoderString compares String with encoding/json on valid UTF-8.
func FuzzDecoderString(f *testing.F) {
	for _, s := range []string{`"abc"`, `"\ud83d\ude00"`, `"\ud800\u0041"`, `"\u00e9\n"`, `"\udc00\ud800"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d Decoder
		d.ResetString(s)
		got, err := d.String()
		if err == nil {
			err = d.End()
		}
		var want string
		stdErr := json.Unmarshal([]byte(s), &want)
		if !strings.HasPrefix(strings.TrimLeft(s, " \t\r\n"), `"`) {
			return // not a string: the type differs
		}
		if (err == nil) != (stdErr == nil) {
			t.Fatalf("String(%q): %v, encoding/json: %v", s, err, stdErr)
		}
		if err == nil && utf8.ValidString(s) && got != want {
			t.Fatalf("String(%q) = %q, encoding/json %q", s, got, want)
		}
	})
}

func TestTuple(t *testing.T) {
	var l level
	read := func(d *Decoder) error {
		l = level{}
		if err := d.ArrayStart(); err != nil {
			return err
		}
		var err error
		if err = TupleElem(d); err == nil {
			l.Price, err = d.Decimal()
		}
		if err != nil {
			return NewFieldError("spot", "PriceLevel", "0", err)
		}
		if err = TupleElem(d); err == nil {
			l.Qty, err = d.Decimal()
		}
		if err != nil {
			return NewFieldError("spot", "PriceLevel", "1", err)
		}
		return TupleEnd(d)
	}
	for in, want := range map[string]level{
		`["1.5","2"]`:                 {MustDecimal("1.5"), MustDecimal("2")},
		` [ "1.5" , "2" , [3], {} ] `: {MustDecimal("1.5"), MustDecimal("2")},
	} {
		var d Decoder
		d.ResetString(in)
		if err := read(&d); err != nil || l != want {
			t.Errorf("%s: %v %v", in, l, err)
		}
		if err := d.End(); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
	for in, msg := range map[string]string{
		`["1.5"]`:      `spot: decode PriceLevel field "1": array has too few elements`,
		`[]`:           `spot: decode PriceLevel field "0": array has too few elements`,
		`["1.5","2",]`: `wire: offset 11: invalid character ']' looking for beginning of value`,
		`["1.5","2"`:   `wire: offset 10: expected ',' or ']' after array element`,
		`["1.5" "2"]`:  `spot: decode PriceLevel field "1": wire: offset 7: expected ',' or ']' after array element`,
		`{}`:           `expected array, got object`,
	} {
		var d Decoder
		d.ResetString(in)
		if err := read(&d); err == nil || err.Error() != msg {
			t.Errorf("%s: %v, want %s", in, err, msg)
		}
	}
}

// TestCountElems checks the capacity hint DecodeArray takes for a fresh
// slice: commas inside strings and nested values do not count.
func TestCountElems(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{`[]`, 0},
		{`[ ]`, 0},
		{`[1]`, 1},
		{`[1,2,3]`, 3},
		{` [ "a,b" , "c]" ]`, 2},
		{`["x\",]",{"a":[1,2],"b":"}"},[[],[1,[2,3]]]]`, 3},
		{`[["0.1","2"],["0.3","4"]] trailing`, 2},
	} {
		var d Decoder
		d.ResetString(tc.in)
		if err := d.ArrayStart(); err != nil {
			t.Fatal(err)
		}
		if got := d.countElems(); got != tc.want {
			t.Errorf("countElems(%s) = %d, want %d", tc.in, got, tc.want)
		}
		var out []Raw
		d.ResetString(tc.in)
		out, err := DecodeArray(&d, out, func(v *Raw, d *Decoder) (err error) { *v, err = d.Raw(); return })
		if err != nil || len(out) != tc.want || cap(out) != tc.want {
			t.Errorf("DecodeArray(%s): %d elements, cap %d, %v; want %d", tc.in, len(out), cap(out), err, tc.want)
		}
	}
}
