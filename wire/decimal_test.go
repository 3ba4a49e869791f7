package wire

import (
	"encoding/json"
	"math"
	"math/big"
	"strings"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	valid := []string{
		"0", "-0", "1", "-1.5", "123456789012.12345678", "0.000000012345678901",
		"1e-7", "1E7", "1e+7", "-1.25e-10", "0.0", "10", "0e0", "99999999999999999999999999999",
	}
	for _, s := range valid {
		d, err := ParseDecimal(s)
		if err != nil {
			t.Errorf("ParseDecimal(%q): %v", s, err)
			continue
		}
		if d.String() != s || !d.IsSet() {
			t.Errorf("ParseDecimal(%q) = %q, set %v", s, d.String(), d.IsSet())
		}
	}
	invalid := []string{
		"", "abc", "1.", ".5", "--1", "NaN", "+1", "-", "1e", "1e+", "01", "-01", "1.5.3",
		" 1", "1 ", "Inf", "1_000", "0x10", "1,5", "1e1.5", "٣",
	}
	for _, s := range invalid {
		if d, err := ParseDecimal(s); err == nil {
			t.Errorf("ParseDecimal(%q) = %q, want error", s, d.String())
		}
	}
}

func TestMustDecimalPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustDecimal(\"x\") did not panic")
		}
	}()
	MustDecimal("x")
}

func TestDecimalZeroAndSign(t *testing.T) {
	tests := []struct {
		s    string
		zero bool
		sign int
	}{
		{"", true, 0},
		{"0", true, 0},
		{"-0", true, 0},
		{"0.000", true, 0},
		{"-0.000e5", true, 0},
		{"0.0001", false, 1},
		{"-0.0001", false, -1},
		{"1e-7", false, 1},
		{"-3", false, -1},
	}
	for _, tt := range tests {
		var d Decimal
		if tt.s != "" {
			d = MustDecimal(tt.s)
		}
		if d.IsZero() != tt.zero || d.Sign() != tt.sign {
			t.Errorf("%q: IsZero %v Sign %d, want %v %d", tt.s, d.IsZero(), d.Sign(), tt.zero, tt.sign)
		}
	}
	if (Decimal{}).IsSet() || !MustDecimal("0").IsSet() {
		t.Error("IsSet wrong")
	}
}

func TestDecimalCmp(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1", 0},
		{"1", "1.000000", 0},
		{"-0", "0", 0},
		{"-0.00", "0e10", 0},
		{"", "0", 0},
		{"", "0.1", -1},
		{"", "-0.1", 1},
		{"0.000000012345678901", "0.00000001234567891", -1},
		{"123456789012.12345678", "123456789012.12345679", -1},
		{"123456789012.12345678", "123456789012.123456780", 0},
		{"123456789012.12345678", "123456789012.1234567", 1},
		{"9007199254740993", "9007199254740992", 1}, // equal as float64
		{"0.30000000000000001", "0.3", 1},           // equal as float64
		{"-1.5", "-1.4", -1},
		{"-1.5", "1.4", -1},
		{"1.5", "-1.4", 1},
		{"-0.5", "0", -1},
		{"0", "-0.5", 1},
		{"10", "9.99999", 1},
		{"100", "99", 1},
		{"0.1", "0.09", 1},
		{"-10", "-9", -1},
		{"1e-7", "0.0000001", 0},
		{"1e-7", "0.00000011", -1},
		{"1.5e2", "150", 0},
		{"1.5E+2", "150.0000001", -1},
		{"15e1", "1.5e2", 0},
		{"-2e3", "-1999", -1},
		{"123e-5", "0.00123", 0},
		{"1e999999999999999999999", "1e999999999999999999998", 1},
		{"1e999999999999999999999", "9", 1},
		{"1e-999999999999999999999", "0.0000001", -1},
		{"-1e999999999999999999999", "-1e999999999999999999999", 0},
		{"0.5e-999999999999999999999", "5e-1000000000000000000000", 0},
	}
	for _, tt := range tests {
		a, b := dec(tt.a), dec(tt.b)
		if got := a.Cmp(b); got != tt.want {
			t.Errorf("Cmp(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := b.Cmp(a); got != -tt.want {
			t.Errorf("Cmp(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

// dec is MustDecimal that maps "" to the unset Decimal.
func dec(s string) Decimal {
	if s == "" {
		return Decimal{}
	}
	return MustDecimal(s)
}

func TestDecimalFloat64(t *testing.T) {
	tests := []struct {
		s    string
		want float64
	}{
		{"", 0},
		{"0", 0},
		{"-1.5", -1.5},
		{"123456789012.12345678", 123456789012.12345678},
		{"0.000000012345678901", 0.000000012345678901},
		{"1e-7", 1e-7},
		{"1e400", math.Inf(1)},
		{"-1e400", math.Inf(-1)},
	}
	for _, tt := range tests {
		if got := dec(tt.s).Float64(); got != tt.want {
			t.Errorf("Float64(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
	d := MustDecimal("123456789012.12345678")
	if n := testing.AllocsPerRun(100, func() { _ = d.Float64() }); n != 0 {
		t.Errorf("Float64 allocates %v times", n)
	}
}

func TestDecimalJSON(t *testing.T) {
	type wrap struct {
		P Decimal  `json:"p"`
		Q Decimal  `json:"q"`
		R *Decimal `json:"r"`
	}
	var w wrap
	in := `{"p":"0.00100000","q":1e-7,"r":null}`
	if err := json.Unmarshal([]byte(in), &w); err != nil {
		t.Fatal(err)
	}
	if w.P.String() != "0.00100000" || w.Q.String() != "1e-7" || w.R != nil {
		t.Fatalf("got %+v", w)
	}
	out, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"p":"0.00100000","q":"1e-7","r":null}`; string(out) != want {
		t.Errorf("Marshal = %s, want %s", out, want)
	}
	var unset Decimal
	if b, _ := unset.MarshalJSON(); string(b) != "null" {
		t.Errorf("unset MarshalJSON = %s", b)
	}
	d := MustDecimal("1")
	if err := d.UnmarshalJSON([]byte(" null ")); err != nil || d.IsSet() {
		t.Errorf("null: %v %v", d, err)
	}
	for _, bad := range []string{`"abc"`, `"1."`, `true`, `{}`, `"1" 2`, ``, `01`, `"1`, `"+1"`} {
		d := MustDecimal("7")
		if err := d.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("UnmarshalJSON(%s) succeeded: %v", bad, d)
		} else if d.String() != "7" {
			t.Errorf("UnmarshalJSON(%s) changed the value on error", bad)
		}
	}
	if err := d.UnmarshalJSON([]byte(`"\u0031.5"`)); err != nil || d.String() != "1.5" {
		t.Errorf("escaped decimal: %q %v", d, err)
	}
}

func TestDecimalText(t *testing.T) {
	var d Decimal
	if err := d.UnmarshalText([]byte("-12.5")); err != nil || d.String() != "-12.5" {
		t.Fatalf("UnmarshalText: %v %v", d, err)
	}
	if b, _ := d.MarshalText(); string(b) != "-12.5" {
		t.Errorf("MarshalText = %s", b)
	}
	if err := d.UnmarshalText(nil); err != nil || d.IsSet() {
		t.Errorf("empty UnmarshalText: %v %v", d, err)
	}
	if err := d.UnmarshalText([]byte("1.")); err == nil {
		t.Error("UnmarshalText(1.) succeeded")
	}
}

// FuzzDecimal checks ParseDecimal against the JSON number grammar and Cmp
// against math/big.
func FuzzDecimal(f *testing.F) {
	for _, s := range []string{"0", "-0", "1.0", "1", "0.000000012345678901", "1e-7", "-1.5E+3", "01", "1."} {
		f.Add(s, "0.5")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		da, err := ParseDecimal(a)
		isNum := a != "" && a[0] != ' ' && strings.TrimSpace(a) == a && json.Valid([]byte(a)) && (a[0] == '-' || isDigit(a[0]))
		if (err == nil) != isNum {
			t.Fatalf("ParseDecimal(%q) error %v, JSON number %v", a, err, isNum)
		}
		db, errb := ParseDecimal(b)
		if err != nil || errb != nil || bigExponent(a) || bigExponent(b) {
			return // math/big would take too long
		}
		ra, ok1 := new(big.Rat).SetString(a)
		rb, ok2 := new(big.Rat).SetString(b)
		if !ok1 || !ok2 {
			return
		}
		if got, want := da.Cmp(db), ra.Cmp(rb); got != want {
			t.Fatalf("Cmp(%q, %q) = %d, want %d", a, b, got, want)
		}
		if da.Sign() != ra.Sign() || da.IsZero() != (ra.Sign() == 0) {
			t.Fatalf("Sign(%q) = %d, want %d", a, da.Sign(), ra.Sign())
		}
	})
}

// bigExponent reports whether the decimal text s has an exponent of more
// than four digits.
func bigExponent(s string) bool {
	i := strings.IndexAny(s, "eE")
	if i < 0 {
		return false
	}
	e := strings.TrimLeft(s[i+1:], "+-0")
	return len(e) > 4
}

// TestDigits checks the eight-bytes-at-a-time digit scan against a byte
// loop for every byte value at every position of a 12-byte run.
func TestDigits(t *testing.T) {
	naive := func(s string, i int) int {
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i
	}
	run := []byte("123456789012")
	for pos := range run {
		for c := 0; c < 256; c++ {
			b := append([]byte(nil), run...)
			b[pos] = byte(c)
			for start := 0; start <= 4; start++ {
				if got, want := digits(string(b), start), naive(string(b), start); got != want {
					t.Fatalf("digits(%q, %d) = %d, want %d", b, start, got, want)
				}
			}
		}
	}
}
