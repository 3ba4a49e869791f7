package wire

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseTemplate(t *testing.T) {
	tmpl, err := ParseTemplate("<symbol>@depth<levels>[@<speed>]")
	if err != nil {
		t.Fatal(err)
	}
	want := &Template{
		Text: "<symbol>@depth<levels>[@<speed>]",
		Parts: []Part{
			{Param: "symbol"},
			{Literal: "@depth"},
			{Param: "levels"},
			{Optional: []Part{{Literal: "@"}, {Param: "speed"}}},
		},
	}
	if diff := cmp.Diff(want, tmpl); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"symbol", "levels", "speed"}, tmpl.Params()); diff != "" {
		t.Errorf("Params (-want +got):\n%s", diff)
	}
	nested := MustTemplate("a[<x>-[<y>+]]b")
	if diff := cmp.Diff([]string{"x", "y"}, nested.Params()); diff != "" {
		t.Errorf("nested Params (-want +got):\n%s", diff)
	}
	if len(MustTemplate("tradingSession").Params()) != 0 {
		t.Error("literal template has params")
	}
}

func TestParseTemplateErrors(t *testing.T) {
	tests := map[string]string{
		"<symbol>@depth[@<speed>":    "unclosed '['",
		"<symbol>@depth@<speed>]":    "unmatched ']'",
		"<symbol@aggTrade":           "unclosed '<'",
		"symbol>@aggTrade":           "unmatched '>'",
		"<>@aggTrade":                "empty parameter name",
		"<1symbol>":                  "invalid parameter name",
		"<sym-bol>":                  "invalid parameter name",
		"<_x>":                       "invalid parameter name",
		"<a<b>>":                     "invalid parameter name",
		"<a[b>]":                     "invalid parameter name",
		"<a><b>":                     "parameters <a> and <b> can be adjacent",
		"<a>[<b>]":                   "parameters <a> and <b> can be adjacent",
		"[<a>]<b>":                   "parameters <a> and <b> can be adjacent",
		"<a>[x]<b>":                  "parameters <a> and <b> can be adjacent",
		"[<a>][<b>]":                 "parameters <a> and <b> can be adjacent",
		"<a>[[x]<b>]":                "parameters <a> and <b> can be adjacent",
		"<a>@<a>":                    "parameter <a> used twice",
		"<a>@[<a>]":                  "parameter <a> used twice",
		"x[]y":                       "empty optional group",
		"x[[]]":                      "empty optional group",
		"[":                          "unclosed '['",
		"]":                          "unmatched ']'",
		"<symbol>@kline_<interval>>": "unmatched '>'",
	}
	for in, want := range tests {
		_, err := ParseTemplate(in)
		if err == nil {
			t.Errorf("ParseTemplate(%q) succeeded, want %q", in, want)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ParseTemplate(%q): %v, want %q", in, err, want)
		}
	}
	for _, ok := range []string{"<a>x<b>", "<a>[x<b>]", "[<a>x]<b>", "<a>[x]y<b>", "x", "[x]", "<a_1B>"} {
		if _, err := ParseTemplate(ok); err != nil {
			t.Errorf("ParseTemplate(%q): %v", ok, err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("MustTemplate did not panic")
		}
	}()
	MustTemplate("<")
}

func oneOf(values ...string) func(string) bool {
	return func(v string) bool { return slices.Contains(values, v) }
}

// binanceAccept checks the enum parameters the way generated code does.
func binanceAccept(param, value string) bool {
	check := map[string]func(string) bool{
		"interval":     oneOf("1s", "1m", "3m", "5m", "15m", "1h", "1d", "1w", "1M"),
		"contractType": oneOf("perpetual", "current_quarter", "next_quarter"),
		"levels":       oneOf("5", "10", "20"),
		"speed":        oneOf("100ms", "1000ms"),
		"window":       oneOf("1h", "4h", "1d"),
	}[param]
	return check == nil || check(value)
}

func TestTemplateMatch(t *testing.T) {
	tests := []struct {
		tmpl, name string
		want       []string // nil: no match
	}{
		{"<symbol>@aggTrade", "btcusdt@aggTrade", []string{"btcusdt"}},
		{"<symbol>@aggTrade", "btcusd_perp@aggTrade", []string{"btcusd_perp"}},
		{"<symbol>@aggTrade", "btc-251226-110000-c@aggTrade", []string{"btc-251226-110000-c"}},
		{"<symbol>@aggTrade", "@aggTrade", nil},
		{"<symbol>@aggTrade", "btcusdt@aggTrade2", nil},
		{"<symbol>@aggTrade", "btcusdt@trade", nil},
		{"<symbol>@kline_<interval>@+08:00", "btcusdt@kline_1m@+08:00", []string{"btcusdt", "1m"}},
		{"<symbol>@kline_<interval>@+08:00", "btcusdt@kline_7m@+08:00", nil},
		{"<symbol>@kline_<interval>@+08:00", "btcusdt@kline_1m", nil},
		{"<symbol>@depth<levels>[@<speed>]", "btcusdt@depth5", []string{"btcusdt", "5", ""}},
		{"<symbol>@depth<levels>[@<speed>]", "btcusdt@depth20@100ms", []string{"btcusdt", "20", "100ms"}},
		{"<symbol>@depth<levels>[@<speed>]", "btcusdt@depth@100ms", nil},
		{"<symbol>@depth<levels>[@<speed>]", "btcusdt@depth20@10ms", nil},
		{"<symbol>@depth<levels>[@<speed>]", "btcusd_perp@depth10@1000ms", []string{"btcusd_perp", "10", "1000ms"}},
		{"<pair>_<contractType>@continuousKline_<interval>", "btcusd_current_quarter@continuousKline_1m", []string{"btcusd", "current_quarter", "1m"}},
		{"<pair>_<contractType>@continuousKline_<interval>", "btcusdt_perpetual@continuousKline_1M", []string{"btcusdt", "perpetual", "1M"}},
		{"<pair>_<contractType>@continuousKline_<interval>", "btcusdt_spot@continuousKline_1m", nil},
		{"!ticker_<window>@arr", "!ticker_1h@arr", []string{"1h"}},
		{"!ticker_<window>@arr", "!ticker_2h@arr", nil},
		{"!ticker_<window>@arr", "!ticker_@arr", nil},
		{"tradingSession", "tradingSession", []string{}},
		{"tradingSession", "tradingSessions", nil},
		{"tradingSession", "", nil},
		{"a[<x>-[<y>+]]b", "ab", []string{"", ""}},
		{"a[<x>-[<y>+]]b", "a1-b", []string{"1", ""}},
		{"a[<x>-[<y>+]]b", "a1-2+b", []string{"1", "2"}},
		{"a[<x>-[<y>+]]b", "a1-2b", nil},
		{"[x]<a>", "xy", []string{"y"}},
		{"[x]<a>", "x", []string{"x"}}, // group present leaves an empty capture; absent works
		{"<a>[@<b>]", "p@q@r", []string{"p", "q@r"}},
	}
	for _, tt := range tests {
		tmpl := MustTemplate(tt.tmpl)
		got, ok := tmpl.Match(tt.name, binanceAccept)
		if ok != (tt.want != nil) {
			t.Errorf("%q.Match(%q) = %q, %v", tt.tmpl, tt.name, got, ok)
			continue
		}
		if ok && !cmp.Equal(got, tt.want) {
			t.Errorf("%q.Match(%q) = %q, want %q", tt.tmpl, tt.name, got, tt.want)
		}
		if ok && len(got) != len(tmpl.Params()) {
			t.Errorf("%q.Match(%q): %d captures for %d params", tt.tmpl, tt.name, len(got), len(tmpl.Params()))
		}
	}
}

func TestTemplateMatchNilAccept(t *testing.T) {
	tmpl := MustTemplate("<pair>_<contractType>@continuousKline_<interval>")
	got, ok := tmpl.Match("btcusd_current_quarter@continuousKline_1m", nil)
	if !ok || !cmp.Equal(got, []string{"btcusd", "current_quarter", "1m"}) {
		t.Errorf("Match = %q, %v", got, ok)
	}
}

func TestTemplateMatchAsksAccept(t *testing.T) {
	tmpl := MustTemplate("<symbol>@depth<levels>[@<speed>]")
	var asked []string
	_, ok := tmpl.Match("btcusdt@depth@100ms", func(param, value string) bool {
		asked = append(asked, param+"="+value)
		if value == "" {
			t.Errorf("accept asked about an empty %s", param)
		}
		return param != "levels" || value == "5"
	})
	if ok {
		t.Error("matched")
	}
	if !slices.Contains(asked, "levels=@100ms") {
		t.Errorf("accept was asked %q", asked)
	}
}

func FuzzTemplate(f *testing.F) {
	f.Add("<symbol>@depth<levels>[@<speed>]", "btcusdt@depth20@100ms")
	f.Add("a[<x>-[<y>+]]b", "a1-2+b")
	f.Add("[[<a>]x]<b>", "x")
	f.Fuzz(func(t *testing.T, tmpl, name string) {
		p, err := ParseTemplate(tmpl)
		if err != nil {
			return
		}
		caps, ok := p.Match(name, nil)
		if !ok {
			return
		}
		if len(caps) != len(p.Params()) {
			t.Fatalf("%d captures for %d params", len(caps), len(p.Params()))
		}
		// The captures must rebuild the name.
		if names := expand(p.Parts, caps, p.Params()); !slices.Contains(names, name) {
			t.Fatalf("%q.Match(%q) = %q, which expands to %q", tmpl, name, caps, names)
		}
	})
}

// expand returns the names that a template gives for a set of captures. A
// group may be present or absent unless one of its parameters is set, so
// there can be several.
func expand(parts []Part, caps, params []string) []string {
	names := []string{""}
	for _, p := range parts {
		var next []string
		switch {
		case p.Literal != "":
			for _, n := range names {
				next = append(next, n+p.Literal)
			}
		case p.Param != "":
			v := caps[slices.Index(params, p.Param)]
			if v == "" {
				return nil // a required parameter is never empty
			}
			for _, n := range names {
				next = append(next, n+v)
			}
		default:
			inner := appendParams(nil, p.Optional)
			set := 0
			for _, name := range inner {
				if caps[slices.Index(params, name)] != "" {
					set++
				}
			}
			// Present: expand gives nothing when a required parameter in
			// it is empty. Absent: only when none of its parameters is set.
			for _, n := range names {
				for _, g := range expand(p.Optional, caps, params) {
					next = append(next, n+g)
				}
			}
			if set == 0 {
				next = append(next, names...)
			}
		}
		names = next
	}
	return names
}
