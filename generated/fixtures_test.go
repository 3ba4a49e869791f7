package generated_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/wire"
)

// To rewrite golden_values_test.go after an intended schema change, run
//
//	make golden
//
// which runs go test ./generated -run TestFixtures -tags golden_update
// -update; the tag leaves out the old golden values, which may no longer
// compile.
var update = flag.Bool("update", false, "rewrite golden_values_test.go from the fixtures")

// goldenHint ends every failure that an intended schema change explains.
const goldenHint = "if the schema change is intended, run: make golden"

// fixture is one testdata file: a combined-stream envelope.
type fixture struct {
	path    string // relative to testdata, e.g. "spot/aggTrade/reference.json"
	market  string
	stream  string // schema stream name (the directory)
	Stream  string `json:"stream"`  // wire stream name, for stream fixtures
	Decoder string `json:"decoder"` // dispatch group, for event fixtures
	Data    json.RawMessage
}

// payload is the part of the fixture's data that the decoded value encodes:
// the data itself (a single object in brackets, for streams that take
// either form), or for a dispatch group with a data key, that member.
func (f fixture) payload(t *testing.T) []byte {
	if f.Decoder == "" {
		if d := bytes.TrimSpace(f.Data); len(d) > 0 && d[0] == '{' && f.either(t) {
			return append(append([]byte("["), d...), ']')
		}
		return f.Data
	}
	for _, m := range loadModel(t).Markets {
		for _, g := range m.Dispatch {
			if m.Name == f.market && g.Name == f.Decoder && g.Data != "" {
				inner, _, err := wire.LookupRaw(f.Data, g.Data)
				if err != nil {
					t.Fatal(err)
				}
				return inner
			}
		}
	}
	return f.Data
}

// either reports whether the fixture's stream accepts an object or an array.
func (f fixture) either(t *testing.T) bool {
	for _, m := range loadModel(t).Markets {
		for _, s := range m.Streams {
			if m.Name == f.market && s.Name == f.stream {
				return s.Payload.Either
			}
		}
	}
	return false
}

// decode decodes the fixture's data the way its envelope says.
func (f fixture) decode() (markets.Payload, error) {
	m := markets.All[f.market]
	if f.Decoder != "" {
		decode, ok := m.Dispatch[f.Decoder]
		if !ok {
			return nil, fmt.Errorf("market %s has no dispatch group %q", f.market, f.Decoder)
		}
		return decode(f.Data)
	}
	return m.Decode(f.Stream, f.Data)
}

func loadFixtures(t *testing.T) []fixture {
	t.Helper()
	paths, err := filepath.Glob("testdata/*/*/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	var out []fixture
	for _, p := range paths {
		rel, _ := filepath.Rel("testdata", p)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if _, ok := markets.All[parts[0]]; !ok {
			t.Fatalf("%s: no market %q", p, parts[0])
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f := fixture{path: filepath.ToSlash(rel), market: parts[0], stream: parts[1]}
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, f)
	}
	return out
}

// TestFixtures decodes every fixture, compares the typed value with its
// golden value, re-encodes it and compares the JSON with the fixture's.
//
// Fixtures are wire payloads as the exchange documents them, so they may
// hold keys the schema does not describe (a field removed from the schema,
// or one never modelled): the decoders skip those, and the comparison
// leaves out exactly the keys the decoder reported skipping (the drift
// report). Which keys a fixture skips is part of its golden value, so a
// key that the schema stops describing shows in the golden file's diff.
func TestFixtures(t *testing.T) {
	fixtures := loadFixtures(t)
	got := map[string]any{}
	gotSkipped := map[string][]string{}
	t.Cleanup(wire.ResetDrift)
	for _, f := range fixtures {
		t.Run(f.path, func(t *testing.T) {
			v, skipped := roundTrip(t, f)
			got[f.path] = v
			if len(skipped) > 0 {
				gotSkipped[f.path] = skipped
			}
			if !*update {
				want, ok := golden[f.path]
				if !ok {
					t.Fatalf("no golden value; run: make golden")
				}
				if diff := cmp.Diff(want, v, cmp.Comparer(decimalEqual)); diff != "" {
					t.Errorf("decoded value (-want +got):\n%s%s", diff, goldenHint)
				}
				if diff := cmp.Diff(goldenSkipped[f.path], skipped, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("keys of the fixture the decoder skips (-want +got):\n%s%s", diff, goldenHint)
				}
			}
		})
	}
	if *update {
		writeGolden(t, got, gotSkipped)
	}
}

// roundTrip decodes the fixture, re-encodes the value and compares the JSON
// with the fixture's less the keys the decoder skipped, which it returns.
func roundTrip(t *testing.T, f fixture) (markets.Payload, []string) {
	t.Helper()
	wire.ResetDrift()
	v, err := f.decode()
	if err != nil {
		t.Fatalf("decode: %v (a fixture is a payload as the exchange documents it: every key the schema requires must be in it)", err)
	}
	skipped := skippedKeys(f.market)
	want := jsonValue(t, f.payload(t))
	for _, path := range skipped {
		want = prune(want, strings.Split(path, "."))
	}
	if diff := cmp.Diff(want, jsonValue(t, v.AppendJSON(nil))); diff != "" {
		t.Errorf("re-encoded JSON differs from the fixture without its skipped keys %q (-fixture +encoded):\n%s", skipped, diff)
	}
	return v, skipped
}

// TestFixtureKeysTheSchemaDropped is what removing a field from the schema
// does to a fixture that still holds it, as the exchange documents it: the
// decoder skips the key and the round trip compares everything else.
func TestFixtureKeysTheSchemaDropped(t *testing.T) {
	t.Cleanup(wire.ResetDrift)
	for _, tc := range []struct {
		path, old, new string
		skipped        []string
	}{
		// A top-level key and one in each balance of an array.
		{"usdm/user/account_update.json", `"e": "ACCOUNT_UPDATE",`, `"e": "ACCOUNT_UPDATE", "gone": {"x": [1]},`, []string{"gone"}},
		{"usdm/user/account_update.json", `"wb":`, `"gone": "1", "wb":`, []string{"a.B.gone"}},
		// A key of a kline's k, and a tuple column.
		{"spot/kline/reference.json", `"x":`, `"gone": true, "x":`, []string{"k.gone"}},
		{"usdm/diffDepth/reference.json", `"b": [`, `"b": [["1", "2", "3"],`, []string{"b.2"}},
	} {
		var f fixture
		for _, g := range loadFixtures(t) {
			if g.path == tc.path {
				f = g
			}
		}
		if f.path == "" || !strings.Contains(string(f.Data), tc.old) {
			t.Fatalf("%s: no fixture holding %s", tc.path, tc.old)
		}
		f.Data = json.RawMessage(strings.Replace(string(f.Data), tc.old, tc.new, 1))
		if _, skipped := roundTrip(t, f); !slices.Equal(skipped, tc.skipped) {
			t.Errorf("%s with %s: skipped %q, want %q", tc.path, tc.new, skipped, tc.skipped)
		}
	}
}

// skippedKeys returns the paths of the keys (and tuple columns) that the
// decoders of market skipped since the last wire.ResetDrift, sorted.
func skippedKeys(market string) []string {
	var out []string
	for _, e := range wire.DriftReport() {
		if e.Market == market && e.Kind == wire.DriftUnknownKey {
			out = append(out, e.Path)
		}
	}
	sort.Strings(out)
	return out
}

// prune removes from v, a parsed JSON value, what a drift-report path
// names: a key of an object ("k.X"), through any arrays on the way (they
// add nothing to a path), or a tuple's columns from an index on ("b.2").
func prune(v any, path []string) any {
	if len(path) == 0 {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		if len(path) == 1 {
			delete(x, path[0])
		} else if inner, ok := x[path[0]]; ok {
			x[path[0]] = prune(inner, path[1:])
		}
	case []any:
		if n, err := strconv.Atoi(path[0]); err == nil && len(path) == 1 && isTuple(x) {
			if n < len(x) {
				return x[:n]
			}
			return x
		}
		for i := range x {
			x[i] = prune(x[i], path)
		}
	}
	return v
}

// isTuple reports whether a JSON array holds no objects or arrays: a row
// of columns rather than a list of items.
func isTuple(a []any) bool {
	for _, e := range a {
		switch e.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

// decimalEqual compares decimals by their exact text: "1.0" and "1" are
// different values on the wire, and the test is about exactness.
func decimalEqual(a, b wire.Decimal) bool { return a.String() == b.String() }

// jsonValue parses JSON keeping numbers as their text.
func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return v
}

// TestEveryStreamHasFixtures checks that each stream of each market has at
// least two fixtures and that the fixture's stream name parses back to it.
func TestEveryStreamHasFixtures(t *testing.T) {
	count := map[string]int{}
	for _, f := range loadFixtures(t) {
		if f.Decoder != "" {
			continue
		}
		count[f.market+"/"+f.stream]++
		p, err := markets.All[f.market].ParseStream(f.Stream)
		if err != nil {
			t.Errorf("%s: %v", f.path, err)
			continue
		}
		if got := p.StreamName(); got != f.Stream {
			t.Errorf("%s: ParseStream(%q).StreamName() = %q", f.path, f.Stream, got)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: parsed parameters do not validate: %v", f.path, err)
		}
		if want := f.stream; !strings.EqualFold(reflect.TypeOf(p).Name(), want+"Params") {
			t.Errorf("%s: stream name %q parses as %T, want the %s stream", f.path, f.Stream, p, want)
		}
	}
	for _, s := range schemaStreams(t) {
		if n := count[s]; n < 2 {
			t.Errorf("stream %s has %d fixtures, want at least 2", s, n)
		}
	}
}

// writeGolden writes golden_values_test.go: every decoded fixture as a Go
// composite literal.
func writeGolden(t *testing.T, values map[string]any, skipped map[string][]string) {
	var b strings.Builder
	b.WriteString("// Code generated by TestFixtures -update. DO NOT EDIT.\n\n//go:build !golden_update\n\npackage generated_test\n\n")
	b.WriteString("import (\n")
	for _, name := range sortedMarkets() {
		fmt.Fprintf(&b, "\t%q\n", "github.com/marketwire/marketwire/generated/"+name)
	}
	b.WriteString("\t\"github.com/marketwire/marketwire/wire\"\n)\n\n")
	b.WriteString("func ptr[T any](v T) *T { return &v }\n\n")
	b.WriteString("// golden holds the expected typed value of every fixture.\nvar golden = map[string]any{\n")
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%q: %s,\n", k, goLiteral(reflect.ValueOf(values[k])))
	}
	b.WriteString("}\n\n")
	b.WriteString("// goldenSkipped holds, for each fixture that has any, the keys the decoders\n// skip: what the fixture carries that the schema does not describe.\nvar goldenSkipped = map[string][]string{\n")
	keys = keys[:0]
	for k := range skipped {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%q: {", k)
		for i, p := range skipped[k] {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", p)
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n")
	src, err := format.Source([]byte(b.String()))
	if err != nil {
		t.Fatalf("format golden: %v", err)
	}
	if err := os.WriteFile("golden_values_test.go", src, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("rewrote golden_values_test.go with %d values", len(values))
}

// sortedMarkets returns the names of every generated market.
func sortedMarkets() []string {
	names := make([]string, 0, len(markets.All))
	for name := range markets.All {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

var decimalType = reflect.TypeOf(wire.Decimal{})

// goLiteral prints v as Go source. Zero struct fields are left out.
func goLiteral(v reflect.Value) string {
	t := v.Type()
	switch {
	case t == decimalType:
		if !v.Interface().(wire.Decimal).IsSet() {
			return "wire.Decimal{}"
		}
		return fmt.Sprintf("wire.MustDecimal(%q)", v.Interface().(wire.Decimal).String())
	case t.Kind() == reflect.Pointer:
		if v.IsNil() {
			return "nil"
		}
		if t.Elem().Kind() == reflect.Struct && t.Elem() != decimalType {
			return "&" + goLiteral(v.Elem())
		}
		return fmt.Sprintf("ptr[%s](%s)", typeName(t.Elem()), goLiteral(v.Elem()))
	case t.Kind() == reflect.Struct:
		var fields []string
		for i := 0; i < t.NumField(); i++ {
			if !v.Field(i).IsZero() {
				fields = append(fields, t.Field(i).Name+": "+goLiteral(v.Field(i)))
			}
		}
		if len(fields) == 0 {
			return typeName(t) + "{}"
		}
		return typeName(t) + "{\n" + strings.Join(fields, ",\n") + ",\n}"
	case t.Kind() == reflect.Slice:
		if v.IsNil() {
			return "nil"
		}
		var elems []string
		for i := 0; i < v.Len(); i++ {
			elems = append(elems, goLiteral(v.Index(i)))
		}
		if len(elems) == 0 {
			return typeName(t) + "{}"
		}
		return typeName(t) + "{\n" + strings.Join(elems, ",\n") + ",\n}"
	}
	var lit string
	switch t.Kind() {
	case reflect.String:
		lit = strconv.Quote(v.String())
	case reflect.Bool:
		lit = strconv.FormatBool(v.Bool())
	case reflect.Int64:
		lit = strconv.FormatInt(v.Int(), 10)
	case reflect.Uint64:
		lit = strconv.FormatUint(v.Uint(), 10)
	case reflect.Float64:
		lit = strconv.FormatFloat(v.Float(), 'g', -1, 64)
	default:
		panic("goLiteral: unexpected kind " + t.Kind().String())
	}
	if t.PkgPath() != "" { // a named type: enum or timestamp
		return typeName(t) + "(" + lit + ")"
	}
	return lit
}

// typeName is t as written in golden_values_test.go.
func typeName(t reflect.Type) string {
	switch {
	case t.Kind() == reflect.Pointer:
		return "*" + typeName(t.Elem())
	case t.Name() == "" && t.Kind() == reflect.Slice:
		return "[]" + typeName(t.Elem())
	case t.PkgPath() == "":
		return t.Name()
	}
	return t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:] + "." + t.Name()
}

// TestPrune removes what drift-report paths name: a top-level key, a key
// of the objects of an array, a key two objects down, and a tuple column.
func TestPrune(t *testing.T) {
	v := jsonValue(t, []byte(`{"X":1,"a":{"B":[{"a":"USDT","S":"x"},{"a":"BTC"}],"k":{"X":2,"i":"1m"}},"b":[["1","2","3"],["4","5"]],"keep":[1,2,3]}`))
	for _, p := range []string{"X", "a.B.S", "a.k.X", "b.2", "missing.path"} {
		v = prune(v, strings.Split(p, "."))
	}
	want := jsonValue(t, []byte(`{"a":{"B":[{"a":"USDT"},{"a":"BTC"}],"k":{"i":"1m"}},"b":[["1","2"],["4","5"]],"keep":[1,2,3]}`))
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
