package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketwire/marketwire/generated"
	"github.com/marketwire/marketwire/generated/markets"
)

// syncBuffer is a bytes.Buffer safe for a command writing and a test
// reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// mw runs the command in process and returns its output and exit status.
func mw(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut syncBuffer
	code = run(ctx, args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// background runs the command in process until the test ends, and
// returns the first ws:// URL it prints on stderr.
func background(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var errOut syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, &syncBuffer{}, &errOut) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("marketwire %s: exit status %d, stderr:\n%s", strings.Join(args, " "), code, errOut.String())
		}
	})
	url := regexp.MustCompile(`ws://[^ )]+`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if u := url.FindString(errOut.String()); u != "" {
			return u
		}
		select {
		case code := <-done:
			t.Fatalf("marketwire %s ended with status %d:\n%s", strings.Join(args, " "), code, errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("marketwire %s printed no URL:\n%s", strings.Join(args, " "), errOut.String())
	return ""
}

// lines splits output into lines.
func lines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func TestStreams(t *testing.T) {
	out, errOut, code := mw(t, "streams")
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, errOut)
	}
	for name := range markets.All {
		if !strings.Contains(out, "\n"+name+" (venue ") && !strings.HasPrefix(out, name+" (venue ") {
			t.Errorf("market %s not listed", name)
		}
		// Every stream kind of the market, from its fixtures.
		c, _ := newCatalog(name)
		if len(c.streams) != len(generated.Kinds(name)) && len(c.streams) != len(generated.Kinds(name))-1 { // -1: user fixtures
			t.Errorf("%s: %d streams found, %d fixture kinds", name, len(c.streams), len(generated.Kinds(name)))
		}
		for _, d := range c.streams {
			if !strings.Contains(out, d.template) {
				t.Errorf("%s: stream %s (%s) not listed", name, d.kind, d.template)
			}
			if d.tpl == nil {
				t.Errorf("%s: stream %s: template %q does not parse", name, d.kind, d.template)
			}
		}
	}
	out, _, _ = mw(t, "streams", "usdm")
	for _, want := range []string{
		"  kline ", "<symbol>@kline_<interval>", "interval: 1s 1m 3m", "route market",
		"<symbol>@depth[@<speed>]", "speed: 500ms 100ms (optional)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("streams usdm lacks %q:\n%s", want, out)
		}
	}
}

// tailStreams is a stream of every market.
var tailStreams = map[string]string{
	"spot":    "btcusdt@aggTrade",
	"usdm":    "btcusdt@markPrice@1s",
	"coinm":   "btcusd_perp@aggTrade",
	"options": "btc-251226-110000-c@optionTrade",
	"dex":     "BNB_BTCB-1DE@trades",
	"zdex":    "ticker:BTCUSDT",
}

func TestTailEveryMarket(t *testing.T) {
	for market, stream := range tailStreams {
		t.Run(market, func(t *testing.T) {
			t.Parallel()
			out, errOut, code := mw(t, "tail", "-market", market, "-n", "2", stream)
			if code != 0 {
				t.Fatalf("exit status %d: %s", code, errOut)
			}
			re := regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{3} ` + regexp.QuoteMeta(stream) + `( \[\d+\])?( \w+=\S+)+$`)
			ls := lines(out)
			if len(ls) != 2 {
				t.Fatalf("%d lines, want 2:\n%s", len(ls), out)
			}
			for _, l := range ls {
				if !re.MatchString(l) {
					t.Errorf("line %q is not time, stream, fields", l)
				}
			}
			if !strings.Contains(errOut, "# ") || !strings.Contains(errOut, " connected") {
				t.Errorf("no lifecycle line on stderr: %q", errOut)
			}
		})
	}
}

// TestTailJSON checks that -json lines are the generated encoders' output:
// each decodes and encodes back to itself.
func TestTailJSON(t *testing.T) {
	out, errOut, code := mw(t, "tail", "-market", "usdm", "-json", "-n", "4", "btcusdt@aggTrade", "btcusdt@depth5@100ms")
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, errOut)
	}
	for _, l := range lines(out) {
		var env struct {
			Stream string
			Data   json.RawMessage
		}
		if err := json.Unmarshal([]byte(l), &env); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		p, err := markets.All["usdm"].Decode(env.Stream, env.Data)
		if err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if got := string(appendJSONLine(nil, env.Stream, p)); got != l+"\n" {
			t.Errorf("re-encoded %s, printed %s", got, l)
		}
	}
}

// TestAppendLine checks the readable line of a known event: exact
// decimals, the event time first.
func TestAppendLine(t *testing.T) {
	fx := generated.Fixtures("spot", "aggTrade")[0]
	p, err := markets.All["spot"].Decode(fx.Stream, fx.Data)
	if err != nil {
		t.Fatal(err)
	}
	got := string(appendLine(nil, time.Unix(0, 0), fx.Stream, p))
	var raw map[string]any // JSON keys are case-sensitive here (e, E)
	if err := json.Unmarshal(fx.Data, &raw); err != nil {
		t.Fatal(err)
	}
	wantTime := time.UnixMilli(int64(raw["E"].(float64))).UTC().Format("15:04:05.000")
	price, qty := raw["p"].(string), raw["q"].(string)
	if !strings.HasPrefix(got, wantTime+" "+fx.Stream+" ") || !strings.Contains(got, " Price="+price+" ") ||
		!strings.Contains(got, " Quantity="+qty+" ") || strings.Contains(got, "EventType") {
		t.Errorf("line %q: want time %s, Price=%s, Quantity=%s, no EventType", got, wantTime, price, qty)
	}
}

// checkBad runs each case and wants exit status 2 and one line on
// stderr holding want.
func checkBad(t *testing.T, cases []badCase) {
	t.Helper()
	for _, tc := range cases {
		out, errOut, code := mw(t, tc.args...)
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "goroutine") {
			t.Errorf("marketwire %s: status %d, stdout %q, stderr %q; want status 2 and one line with %q",
				strings.Join(tc.args, " "), code, out, errOut, tc.want)
		}
	}
}

type badCase struct {
	args []string
	want string
}

func TestBadInput(t *testing.T) {
	checkBad(t, []badCase{
		{[]string{"tail", "btcusdt@aggTrades"}, `spot: unknown stream "btcusdt@aggTrades"`},
		{[]string{"tail", "-market", "usdm", "btcusdt@kline_7m"}, `parameter interval: "7m" is not a valid Interval (allowed: 1m, 3m`},
		{[]string{"tail", "-market", "zdex", "ticker:btc"}, `parameter symbol: "btc" does not match`},
		{[]string{"tail", "-market", "nasdaq", "aapl@trade"}, `unknown market "nasdaq"`},
		{[]string{"tail", "-endpoint", "staging", "btcusdt@aggTrade"}, `market spot has no endpoint "staging"`},
		{[]string{"tail", "-frobnicate", "btcusdt@aggTrade"}, "flag provided but not defined"},
		{[]string{"sim", "-market", "nasdaq"}, `unknown market "nasdaq"`},
		{[]string{"streams", "nasdaq"}, `unknown market "nasdaq"`},
		{[]string{"bogus"}, `unknown command "bogus"`},
	})
}

func TestSim(t *testing.T) {
	url := background(t, "sim", "-market", "usdm", "-addr", "127.0.0.1:0")
	out, errOut, code := mw(t, "tail", "-market", "usdm", "-endpoint", url, "-n", "2", "btcusdt@aggTrade")
	if code != 0 || len(lines(out)) != 2 {
		t.Fatalf("status %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
