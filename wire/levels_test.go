package wire

import (
	"math/rand"
	"testing"
)

// refQuotedDecimalEnd is the end of a quoted decimal by the JSON number
// grammar alone.
func refQuotedDecimalEnd(s string, i int) int {
	if end := scanNumber(s, i); end >= 0 && end < len(s) && s[end] == '"' {
		return end
	}
	return -1
}

// refPairAt is decimalPairAt by the JSON number grammar alone.
func refPairAt(s string, i int) (a, b string, end int, ok bool) {
	if i < 0 || i+2 >= len(s) || s[i] != '[' || s[i+1] != '"' {
		return "", "", 0, false
	}
	e1 := refQuotedDecimalEnd(s, i+2)
	if e1 < 0 || e1+3 >= len(s) || s[e1+1] != ',' || s[e1+2] != '"' {
		return "", "", 0, false
	}
	e2 := refQuotedDecimalEnd(s, e1+3)
	if e2 < 0 || e2+1 >= len(s) || s[e2+1] != ']' {
		return "", "", 0, false
	}
	return s[i+2 : e1], s[e1+3 : e2], e2 + 2, true
}

// TestDecimalPairAt checks the 32-byte pair scan against the grammar on
// chosen and random levels: where it answers it must agree, and
// decimalPairAt must always agree.
func TestDecimalPairAt(t *testing.T) {
	check := func(s string, i int) {
		t.Helper()
		ra, rb, rend, rok := refPairAt(s, i)
		if a, b, end, ok := shortPairAt(s, i); ok && (!rok || a.s != ra || b.s != rb || end != rend) {
			t.Fatalf("shortPairAt(%q, %d) = %q %q %d %v, want %q %q %d %v", s, i, a, b, end, ok, ra, rb, rend, rok)
		}
		if a, b, end, ok := decimalPairAt(s, i); ok != rok || a.s != ra || b.s != rb || (ok && end != rend) {
			t.Fatalf("decimalPairAt(%q, %d) = %q %q %d %v, want %q %q %d %v", s, i, a, b, end, ok, ra, rb, rend, rok)
		}
	}
	pad := `,["1","2"],["3","4"],["5","6"]]}`
	levels := []string{
		`["16800.00000000","0.12500000"]`, `["16800.1","1"]`, `["0","0"]`, `["0.0","0.00000001"]`,
		`["123456789012.1","1"]`, `["1234567890123.12345678","0.001"]`, `["01","1"]`, `["1","00"]`,
		`["1.","1"]`, `[".1","1"]`, `["1.2.3","1"]`, `["-1","1"]`, `["1e5","1"]`, `["1","2","3"]`,
		`["1", "2"]`, `[ "1","2"]`, `["1","2" ]`, `["","1"]`, `["1",""]`, `["1"]`, `["1","2"}`,
		`["1";"2"]`, `["1,"2"]`, "[\"1\x80\",\"2\"]", `["\u0031","2"]`, `[1,2]`, `{"1":"2"}`,
		`["12345678901234","12345678901"]`, `["12345678901234","123456789012"]`,
	}
	for _, l := range levels {
		check(l, 0)
		check(l+pad, 0)
		check(","+l+pad, 1)
	}
	if _, _, _, ok := shortPairAt(`["16800.00000000","0.12500000"]`+pad, 0); !ok {
		t.Fatal("the common form is not taken by the fast path")
	}
	const alphabet = `0123456789000111..."""",,[]]- eE` + "\x80\xb0\xba\xa2"
	r := rand.New(rand.NewSource(2))
	b := make([]byte, 48)
	for n := 0; n < 300000; n++ {
		b[0], b[1] = '[', '"'
		for k := 2; k < len(b); k++ {
			b[k] = alphabet[r.Intn(len(alphabet))]
		}
		s := string(b[:2+r.Intn(len(b)-1)])
		for i := 0; i < 3 && i < len(s); i++ {
			check(s, i)
		}
	}
	// Random well-formed levels, some of them valid.
	num := func() string {
		var nb []byte
		for k := r.Intn(16); k >= 0; k-- {
			nb = append(nb, alphabet[r.Intn(12)])
		}
		return string(nb)
	}
	for n := 0; n < 300000; n++ {
		s := `["` + num() + `","` + num() + `"]` + pad
		check(s, 0)
	}
}

// FuzzDecimalPairAt compares decimalPairAt with the grammar.
func FuzzDecimalPairAt(f *testing.F) {
	f.Add(`["16800.00000000","0.12500000"],["1","2"]]}`, 0)
	f.Add(`,["0.1","10"]]`, 1)
	f.Fuzz(func(t *testing.T, s string, i int) {
		if i < 0 || i > len(s) {
			return
		}
		ra, rb, rend, rok := refPairAt(s, i)
		if a, b, end, ok := decimalPairAt(s, i); ok != rok || a.s != ra || b.s != rb || (ok && end != rend) {
			t.Fatalf("decimalPairAt(%q, %d) = %q %q %d %v, want %q %q %d %v", s, i, a, b, end, ok, ra, rb, rend, rok)
		}
	})
}
