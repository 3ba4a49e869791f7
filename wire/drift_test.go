package wire

import (
	"strings"
	"sync"
	"testing"
)

func TestKeyPath(t *testing.T) {
	for _, c := range []struct {
		src, at string // at: the text the value at target starts with (its first occurrence after a '|' marker)
		want    string
	}{
		{`{"a":1,"X":|2}`, "2", "X"},
		{`{"k":{"t":1,"X":|"v"}}`, `"v"`, "k.X"},
		{`{"X":{"X":1},"k":{"X":|"v"}}`, `"v"`, "k.X"},
		{`{"B":[{"a":1},{"a":2,"Z":|true}]}`, "true", "B.Z"},
		{`{"b":[["1","2"],["1","2",|"3"]]}`, `"3"`, "b.2"},
		{` { "a" : { "b\"c" : [ 1 , { "d" :|null } ] } } `, "null", `a.b\"c.d`},
		{`[{"a":|1}]`, "1", "a"},
	} {
		i := strings.IndexByte(c.src, '|')
		src := c.src[:i] + c.src[i+1:]
		target := i + strings.Index(src[i:], c.at)
		got, ok := keyPath([]byte("#"), src, target)
		if !ok || string(got) != "#"+c.want {
			t.Errorf("%s: %q, %v; want %q", c.src, got, ok, "#"+c.want)
		}
	}
	// No value starts inside a string or a number.
	if got, ok := keyPath(nil, `{"a":"xyz"}`, 7); ok {
		t.Errorf("found %q inside a string", got)
	}
	// A path deeper than maxSegs ends with "…".
	deep := strings.Repeat(`{"k":`, maxSegs+2) + "1" + strings.Repeat("}", maxSegs+2)
	got, ok := keyPath(nil, deep, strings.IndexByte(deep, '1'))
	if want := strings.Repeat("k.", maxSegs-1) + "k.…"; !ok || string(got) != want {
		t.Errorf("deep: %q, %v; want %q", got, ok, want)
	}
}

func TestClipSample(t *testing.T) {
	for in, want := range map[string]string{
		"42":                          "42",
		"{\n\t\"a\": 1\r\n}":          "{  \"a\": 1  }",
		"\"\x1b[2J\"":                 "\" [2J\"",
		strings.Repeat("x", 64):       strings.Repeat("x", 64),
		strings.Repeat("x", 65):       strings.Repeat("x", 64) + "…",
		strings.Repeat("x", 63) + "é": strings.Repeat("x", 63) + "…", // not cut inside the é
	} {
		if got := clipSample(in); got != want {
			t.Errorf("clipSample(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDriftEntryString(t *testing.T) {
	e := DriftEntry{Market: "spot", Event: "aggTrade", Path: "X", Kind: DriftUnknownKey, Count: 12, Sample: "42"}
	if got, want := e.String(), `spot aggTrade: unknown key "X" (12 times, e.g. 42)`; got != want {
		t.Errorf("%s, want %s", got, want)
	}
	e = DriftEntry{Market: "usdm", Event: "user", Path: "TRADE_LITE", Kind: DriftUnknownEvent, Count: 1}
	if got, want := e.String(), `usdm user: unknown event "TRADE_LITE" (1 time)`; got != want {
		t.Errorf("%s, want %s", got, want)
	}
}

// TestDriftConcurrent counts from many goroutines at once, new entries and
// repeated ones, and checks the totals (run with -race).
func TestDriftConcurrent(t *testing.T) {
	ResetDrift()
	t.Cleanup(ResetDrift)
	scopes := []*DriftScope{{Market: "m", Event: "a"}, {Market: "m", Event: "b"}}
	docs := []string{`{"x":1,"X":2}`, `{"k":{"Y":[1]}}`, `{"Z":"z"}`}
	const goroutines, rounds = 8, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				var d Decoder
				d.ResetString(docs[(g+i)%len(docs)])
				d.Drift = scopes[i%2]
				in := d.Drift // the payload's own decoder: a top-level key
				if g%2 == 0 {
					in = nil // the path found by reading the payload again
				}
				if err := skipAllUnknown(&d, in); err != nil {
					t.Error(err)
					return
				}
				if i%50 == 0 {
					DriftReport()
				}
			}
		}()
	}
	wg.Wait()
	var total uint64
	for _, e := range DriftReport() {
		total += e.Count
	}
	// The first document has two unknown keys, the others one each ("k"
	// is skipped whole).
	var want uint64
	for g := range goroutines {
		for i := range rounds {
			want += map[int]uint64{0: 2, 1: 1, 2: 1}[(g+i)%len(docs)]
		}
	}
	if total != want {
		t.Errorf("counted %d, want %d", total, want)
	}
	// Counted both ways, each key is one entry per scope.
	if got := len(DriftReport()); got != 2*4 {
		t.Errorf("%d entries, want 8: %v", got, DriftReport())
	}
}

// skipAllUnknown reads a top-level object whose every key is unknown,
// skipping them with SkipUnknown(key, in).
func skipAllUnknown(d *Decoder, in *DriftScope) error {
	if err := d.ObjectStart(); err != nil {
		return err
	}
	for {
		key, ok, err := d.NextKey()
		if err != nil || !ok {
			return err
		}
		if err := d.SkipUnknown(key, in); err != nil {
			return err
		}
	}
}

func TestSkipUnknownWithoutScope(t *testing.T) {
	ResetDrift()
	t.Cleanup(ResetDrift)
	var d Decoder
	d.ResetString(`{"X":1}`)
	if err := skipAllUnknown(&d, nil); err != nil {
		t.Fatal(err)
	}
	if r := DriftReport(); len(r) != 0 {
		t.Errorf("counted without a scope: %v", r)
	}
}

func TestDecodeErrorCounts(t *testing.T) {
	ResetDrift()
	t.Cleanup(ResetDrift)
	s := &DriftScope{Market: "m", Event: "ev"}
	if s.DecodeError("", nil, nil) != nil {
		t.Error("DecodeError of nil is not nil")
	}
	err := s.DecodeError("", []byte(`{"a":1}`), NewFieldError("m", "Inner", "k", NewFieldError("m", "Inner", "q", ErrMissing)))
	if got, want := err.Error(), `m: decode ev field "k.q": missing`; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	s.DecodeError("e", nil, NewEventError("trade", []string{"aggTrade"}))
	s.DecodeError("", nil, &SyntaxError{Offset: 1, Msg: "bad"}) // not drift
	want := []string{
		`m ev: wrong event "e" (1 time, e.g. "trade")`,
		`m ev: missing key "k.q" (1 time, e.g. {"a":1})`,
	}
	r := DriftReport()
	if len(r) != len(want) {
		t.Fatalf("report %v, want %v", r, want)
	}
	for i := range want {
		if r[i].String() != want[i] {
			t.Errorf("entry %d: %s, want %s", i, r[i], want[i])
		}
	}
}
