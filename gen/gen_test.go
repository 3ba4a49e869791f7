package gen

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func TestGoName(t *testing.T) {
	for in, want := range map[string]string{
		"aggTradeId":        "AggTradeID",
		"eventTime":         "EventTime",
		"event_time":        "EventTime",
		"firstUpdateId":     "FirstUpdateID",
		"url":               "URL",
		"baseURL":           "BaseURL",
		"HTTPServer":        "HTTPServer",
		"rpiDepth":          "RPIDepth",
		"orderIds":          "OrderIDs",
		"symbol":            "Symbol",
		"depth20":           "Depth20",
		"markPriceKline":    "MarkPriceKline",
		"kebab-case-name":   "KebabCaseName",
		"prevFinalUpdateId": "PrevFinalUpdateID",
	} {
		if got := GoName(in); got != want {
			t.Errorf("GoName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConstSuffix(t *testing.T) {
	for in, want := range map[string]string{
		"1m": "1m", "1M": "1M", "+08:00": "0800", "current_quarter": "CurrentQuarter", "5": "5", "100ms": "100ms", "BUY": "BUY",
	} {
		if got := constSuffix(in); got != want {
			t.Errorf("constSuffix(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCases runs every case under testdata: a schema.yaml and either the
// expected output files under want/ or the expected error in error.txt.
// Run with -update to rewrite them after an intended change.
func TestCases(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/*/schema.yaml")
	if len(dirs) == 0 {
		t.Fatal("no cases")
	}
	for _, schema := range dirs {
		dir := filepath.Dir(schema)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			files, err := Generate(schema, "example.com/out")
			errFile := filepath.Join(dir, "error.txt")
			if strings.HasPrefix(filepath.Base(dir), "err_") {
				if err == nil {
					t.Fatal("generated without error")
				}
				golden(t, errFile, []byte(err.Error()+"\n"))
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for name, src := range files {
				golden(t, filepath.Join(dir, "want", name+".golden"), src)
			}
			extra := map[string][]byte{}
			filepath.WalkDir(filepath.Join(dir, "extra"), func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(filepath.Join(dir, "extra"), p)
					extra[filepath.ToSlash(rel)], _ = os.ReadFile(p)
				}
				return nil
			})
			buildInTempModule(t, files, extra)
		})
	}
}

// golden compares got with the file, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./gen -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// buildInTempModule writes generated files, and any extra files, into a
// temporary module that uses this repository, then runs go vet (which
// compiles) and go test on it.
func buildInTempModule(t *testing.T, files, extra map[string][]byte) {
	t.Helper()
	if testing.Short() {
		t.Skip("compiles a module")
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	// The repository's own requirements, so nothing needs resolving: the
	// build works offline with the modules `go mod download` fetched.
	mod, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	gomod := strings.Replace(string(mod), "module github.com/marketwire/marketwire", "module example.com/out", 1) +
		"\nrequire github.com/marketwire/marketwire v0.0.0\n\nreplace github.com/marketwire/marketwire => " + repo + "\n"
	all := map[string][]byte{"go.mod": []byte(gomod), "go.sum": sum}
	for name, src := range files {
		all[name] = src
	}
	for name, src := range extra {
		all[name] = src
	}
	for name, src := range all {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"vet", "./..."}, {"test", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s in the generated module: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, err := Generate("../schema/streams.yaml", "x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate("../schema/streams.yaml", "x")
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two runs differ:\n%s", diff)
	}
	for name, src := range a {
		if !bytes.HasPrefix(src, []byte("// "+Header+"\n\n")) {
			t.Errorf("%s does not start with the standard header", name)
		}
	}
}

// TestDeletingAFieldRemovesIt removes a field from the real schema and checks
// that the struct field, its decoder case and its encoder disappear.
func TestDeletingAFieldRemovesIt(t *testing.T) {
	s, err := LoadFile("../schema/streams.yaml")
	if err != nil {
		t.Fatal(err)
	}
	emit := func() string {
		m, err := NewModel(s)
		if err != nil {
			t.Fatal(err)
		}
		files, err := Emit(m, "x")
		if err != nil {
			t.Fatal(err)
		}
		return string(files["usdm/types_gen.go"]) + string(files["usdm/json_gen.go"])
	}
	before := emit()
	for _, mk := range s.Markets {
		if mk.Name != "usdm" {
			continue
		}
		for _, typ := range mk.Types {
			if typ.Name != "AggTradeEvent" {
				continue
			}
			var kept []*Field
			for _, f := range typ.Fields {
				if f.Key != "nq" {
					kept = append(kept, f)
				}
			}
			typ.Fields = kept
		}
	}
	after := emit()
	for _, s := range []string{`Wire key "nq"`, `case "nq":`, `",\"nq\":"`} {
		if !strings.Contains(before, s) {
			t.Errorf("before: %q missing; the test no longer exercises the field", s)
		}
		if strings.Contains(after, s) {
			t.Errorf("after deleting the field, %q is still generated", s)
		}
	}
}

// TestWriteReplacesOutput checks that Write removes generated packages that
// are no longer in the schema but keeps testdata, and that Verify notices.
func TestWriteReplacesOutput(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"gone/types_gen.go", "testdata/keep.json", "doc.go"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o644)
	}
	files := map[string][]byte{"demo/a_gen.go": []byte("package demo\n")}
	problems, err := Verify(dir, files)
	if err != nil {
		t.Fatal(err)
	}
	wantProblems := []string{"demo/a_gen.go: missing", "gone/types_gen.go: not generated from the schema"}
	if diff := cmp.Diff(wantProblems, problems); diff != "" {
		t.Errorf("Verify (-want +got):\n%s", diff)
	}
	if err := Write(dir, files); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{"gone": false, "testdata/keep.json": true, "doc.go": true, "demo/a_gen.go": true} {
		_, err := os.Stat(filepath.Join(dir, p))
		if got := err == nil; got != want {
			t.Errorf("%s exists = %v, want %v", p, got, want)
		}
	}
	if problems, _ := Verify(dir, files); len(problems) != 0 {
		t.Errorf("Verify after Write: %v", problems)
	}
	os.WriteFile(filepath.Join(dir, "demo/a_gen.go"), []byte("package demo // edited\n"), 0o644)
	if problems, _ := Verify(dir, files); len(problems) != 1 || problems[0] != "demo/a_gen.go: stale" {
		t.Errorf("Verify after a hand edit: %v", problems)
	}
}

// schemaAddition is a made-up stream added to one market of a copy of the
// real schema: its payload types and the stream, in YAML only, and a test
// that subscribes to it in the generated package.
type schemaAddition struct {
	market, types, stream string
	testFile, test        string
}

var schemaAdditions = []schemaAddition{
	{market: "spot", types: pulseTypes, stream: pulseStream, testFile: "spot/pulse_test.go", test: pulseTest},
	{market: "dex", types: dexVolumeTypes, stream: dexVolumeStream, testFile: "dex/volume_test.go", test: dexVolumeTest},
	{market: "zdex", types: zdexFundingTypes, stream: zdexFundingStream, testFile: "zdex/funding_test.go", test: zdexFundingTest},
}

// TestAddingAStreamIsSchemaOnly adds a stream to three markets of a copy of
// the real schema (Binance spot, the DEX and ZDEX: three dialects),
// generates the bindings into a temporary module and, there, subscribes to
// each new stream through the unchanged runtime against the venue's
// simulator and decodes it into the new typed event.
func TestAddingAStreamIsSchemaOnly(t *testing.T) {
	src, err := os.ReadFile("../schema/streams.yaml")
	if err != nil {
		t.Fatal(err)
	}
	schema := string(src)
	tests := map[string][]byte{}
	for _, a := range schemaAdditions {
		start := strings.Index(schema, "\nmarkets:\n")
		start += strings.Index(schema[start:], "\n  - name: "+a.market+"\n")
		insert := func(section, yaml string) {
			at := start + strings.Index(schema[start:], "\n    "+section+":\n") + len("\n    "+section+":")
			schema = schema[:at] + strings.TrimSuffix(yaml, "\n") + schema[at:]
		}
		insert("types", a.types)
		insert("streams", a.stream)
		tests[a.testFile] = []byte(a.test)
	}
	path := filepath.Join(t.TempDir(), "streams.yaml")
	if err := os.WriteFile(path, []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := Generate(path, "example.com/out")
	if err != nil {
		t.Fatal(err)
	}
	buildInTempModule(t, files, tests)
}

const pulseTypes = `
      - name: LiquidityPulseEvent
        doc: A made-up event, added by TestAddingAStreamIsSchemaOnly.
        event: liquidityPulse
        fields:
          - {key: e, name: eventType, type: string, doc: Event type.}
          - {key: E, name: eventTime, type: time_ms, doc: Event time.}
          - {key: s, name: symbol, type: string, doc: Symbol.}
          - {key: x, name: pulse, type: decimal, doc: Pulse strength.}
          - {key: X, name: pulseLevels, type: "[]PriceLevel", doc: Levels.}
`

const pulseStream = `
      - name: liquidityPulse
        template: "<symbol>@pulse_<interval>"
        params:
          - {name: symbol, type: symbol, doc: Symbol.}
          - {name: interval, type: Interval, doc: Interval.}
        payload: LiquidityPulseEvent
        sequence: {kind: time, id: E}
        doc: A made-up stream.
`

const pulseTest = `package spot_test

import (
	"context"
	"testing"
	"time"

	"example.com/out/spot"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
)

func TestPulse(t *testing.T) {
	payload := []byte(` + "`" + `{"e":"liquidityPulse","E":1700000000000,"s":"BTCUSDT","x":"0.125","X":[["1.5","2"]]}` + "`" + `)
	srv := sim.New(&spot.Market,
		sim.WithValid(func(s string) bool { _, err := spot.ParseStream(s); return err == nil }),
		sim.WithSource(sim.SourceFunc(func(string) (sim.Feed, error) {
			return sim.FeedFunc(func(time.Time) []byte { return payload }), nil
		})),
		sim.WithPublishInterval(5*time.Millisecond))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := runtime.Dial(ctx, &spot.Market, runtime.WithURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make(chan *spot.LiquidityPulseEvent, 1)
	p := spot.LiquidityPulseParams{Symbol: "BTCUSDT", Interval: spot.Interval1m}
	if p.StreamName() != "btcusdt@pulse_1m" {
		t.Fatalf("stream name %q", p.StreamName())
	}
	_, err = spot.SubscribeLiquidityPulse(ctx, c, p, func(ev *spot.LiquidityPulseEvent) {
		select {
		case got <- ev:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-got:
		if ev.Pulse.String() != "0.125" || ev.PulseLevels[0].Price.String() != "1.5" || ev.EventTime.Time().UnixMilli() != 1700000000000 {
			t.Fatalf("%+v", ev)
		}
	case <-ctx.Done():
		t.Fatal("no event")
	}
	if err := (spot.LiquidityPulseParams{Symbol: "BTCUSDT", Interval: "2m"}).Validate(); err == nil {
		t.Fatal("bad interval accepted")
	}
}
`

const dexVolumeTypes = `
      - name: VolumeEvent
        doc: A made-up event, added by TestAddingAStreamIsSchemaOnly.
        fields:
          - {key: s, name: symbol, type: string, doc: Symbol.}
          - {key: E, name: eventTime, type: time_s, doc: Event time.}
          - {key: v, name: volume, type: decimal, doc: Volume.}
`

const dexVolumeStream = `
      - name: volume
        template: "<symbol>@volume"
        params:
          - {name: symbol, type: string, pattern: '^[A-Za-z0-9._-]+$', doc: Symbol.}
        payload: VolumeEvent
        sequence: {kind: time, id: E}
        key: "volume:<symbol>"
        vars: {topic: volume}
        doc: A made-up topic.
`

const dexVolumeTest = `package dex_test

import (
	"context"
	"testing"
	"time"

	"example.com/out/dex"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/dexsim"
)

func TestVolume(t *testing.T) {
	srv := dexsim.New(dexsim.WithPublishInterval(5*time.Millisecond),
		dexsim.WithSource(sim.SourceFunc(func(stream string) (sim.Feed, error) {
			sym := stream[:len(stream)-len("@volume")]
			return sim.FeedFunc(func(time.Time) []byte {
				return []byte(` + "`" + `{"s":"` + "` + sym + `" + `","E":1700000000,"v":"12.5"}` + "`" + `)
			}), nil
		})))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := runtime.Dial(ctx, &dex.Market, runtime.WithURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make(chan *dex.VolumeEvent, 1)
	for _, sym := range []string{"AAA_BNB", "BBB_BNB"} {
		_, err = dex.SubscribeVolume(ctx, c, dex.VolumeParams{Symbol: sym}, func(ev *dex.VolumeEvent) {
			if ev.Symbol != sym {
				t.Errorf("%s got %+v", sym, ev)
			}
			select {
			case got <- ev:
			default:
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	select {
	case ev := <-got:
		if ev.Volume.String() != "12.5" || ev.EventTime.Time().Unix() != 1700000000 {
			t.Fatalf("%+v", ev)
		}
	case <-ctx.Done():
		t.Fatal("no event")
	}
}
`

const zdexFundingTypes = `
      - name: FundingEvent
        doc: A made-up event, added by TestAddingAStreamIsSchemaOnly.
        fields:
          - {key: symbol, name: symbol, type: string, doc: Symbol.}
          - {key: fundingRate, name: fundingRate, type: decimal, json: number, doc: "Funding rate, a JSON number."}
`

const zdexFundingStream = `
      - name: funding
        template: "funding:<symbol>"
        params:
          - {name: symbol, type: string, pattern: '^[A-Z0-9]+$', doc: Symbol.}
        payload: FundingEvent
        sequence: {kind: none}
        vars: {channel: funding}
        doc: A made-up channel.
`

const zdexFundingTest = `package zdex_test

import (
	"context"
	"testing"
	"time"

	"example.com/out/zdex"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/zdexsim"
)

func TestFunding(t *testing.T) {
	srv := zdexsim.New(zdexsim.WithPublishInterval(5*time.Millisecond),
		zdexsim.WithSource(sim.SourceFunc(func(stream string) (sim.Feed, error) {
			return sim.FeedFunc(func(time.Time) []byte {
				return []byte(` + "`" + `{"symbol":"BTCUSDT","fundingRate":0.000125}` + "`" + `)
			}), nil
		})))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := runtime.Dial(ctx, &zdex.Market, runtime.WithURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make(chan *zdex.FundingEvent, 1)
	_, err = zdex.SubscribeFunding(ctx, c, zdex.FundingParams{Symbol: "BTCUSDT"}, func(ev *zdex.FundingEvent) {
		select {
		case got <- ev:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-got:
		if ev.Symbol != "BTCUSDT" || ev.FundingRate.String() != "0.000125" {
			t.Fatalf("%+v", ev)
		}
	case <-ctx.Done():
		t.Fatal("no event")
	}
}
`

// TestRuntimeNamesNoVenue checks that the hand-written runtime knows no venue:
// no file under runtime/ (tests included), and no non-test file of the
// schema-driven orderbook package, names a venue or market of the
// schema, or any identifier-like word of its streams and dialects (camelCase
// or upper-case names such as stream names, methods and control events).
// Ordinary words that a dialect happens to use too ("subscribe", "data",
// "options") are not checked.
func TestRuntimeNamesNoVenue(t *testing.T) {
	s, err := LoadFile("../schema/streams.yaml")
	if err != nil {
		t.Fatal(err)
	}
	words := map[string]bool{}
	identifier := regexp.MustCompile(`[A-Za-z][A-Za-z0-9_]*`)
	addIdentifiers := func(text string) {
		for _, w := range identifier.FindAllString(text, -1) {
			if strings.ContainsAny(w[1:], "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") {
				words[w] = true
			}
		}
	}
	for _, v := range s.Venues {
		words[v.Name] = true
		d := v.Dialect
		for _, list := range [][]string{d.Subscribe, d.Unsubscribe, d.Ack, d.Errors, d.Shutdown, d.Ignore, {d.Request}} {
			for _, text := range list {
				addIdentifiers(strings.NewReplacer("{", " ", "}", " ").Replace(text))
			}
		}
		if d.KeepAlive != nil {
			addIdentifiers(d.KeepAlive.Message)
		}
	}
	for _, m := range s.Markets {
		if m.Name != "options" {
			words[m.Name] = true
		}
		for _, st := range m.Streams {
			addIdentifiers(st.Name + " " + st.Template)
		}
	}
	files, err := filepath.Glob("../runtime/*.go")
	if err != nil || len(files) == 0 {
		t.Fatal("no runtime files", err)
	}
	book, err := filepath.Glob("../orderbook/*.go")
	if err != nil || len(book) == 0 {
		t.Fatal("no orderbook files", err)
	}
	for _, f := range book {
		if !strings.HasSuffix(f, "_test.go") {
			files = append(files, f)
		}
	}
	for _, f := range files {
		if filepath.Base(f) == "example_test.go" {
			continue // documentation for users: it shows the runtime with a generated market
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range identifier.FindAllString(string(src), -1) {
			if words[w] || words[strings.ToLower(w)] && strings.ToLower(w) == w {
				t.Errorf("%s names %q from the schema", f, w)
			}
		}
	}
}
