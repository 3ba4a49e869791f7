package simcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/synth"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

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

// start runs the simulator command with args on a free port until the test
// ends, and returns its stream base URL and its admin URL.
func start(t *testing.T, args ...string) (base, admin string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var log syncBuffer
	done := make(chan error, 1)
	go func() { done <- Run(ctx, "mwsim", append([]string{"-addr", "127.0.0.1:0"}, args...), &log) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("mwsim %s: %v", strings.Join(args, " "), err)
		}
	})
	line := regexp.MustCompile(`on (ws://\S+) \(.*admin on (http://\S+/_sim/)\)`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := line.FindStringSubmatch(log.String()); m != nil {
			return m[1], m[2]
		}
		select {
		case err := <-done:
			t.Fatalf("mwsim ended: %v\n%s", err, log.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("mwsim printed no address:\n%s", log.String())
	return "", ""
}

func get(t *testing.T, url string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestAdminIndex checks that /_sim/ lists the admin endpoints, as text and
// as JSON, that every endpoint it lists answers, and that an unknown one
// is not found.
func TestAdminIndex(t *testing.T) {
	for _, tc := range []struct {
		market string
		want   []string
	}{
		{"spot", []string{"/_sim/drop", "/_sim/silence", "/_sim/shutdown", "/_sim/rejectstream", "/_sim/violations"}},
		{"usdm", []string{"/_sim/drop", "/_sim/policyloop"}},
		{"dex", []string{"/_sim/drop", "/_sim/malformed", "/_sim/conns"}},
		{"zdex", []string{"/_sim/drop", "/_sim/malformed", "/_sim/conns"}},
	} {
		t.Run(tc.market, func(t *testing.T) {
			base, admin := start(t, "-market", tc.market)
			code, text := get(t, admin)
			if code != http.StatusOK || !strings.Contains(text, base) {
				t.Fatalf("GET /_sim/: %d\n%s", code, text)
			}
			for _, p := range tc.want {
				if !strings.Contains(text, p) {
					t.Errorf("/_sim/ does not list %s:\n%s", p, text)
				}
			}
			if tc.market == "dex" && strings.Contains(text, "/_sim/silence") {
				t.Errorf("dex lists a Binance-only endpoint:\n%s", text)
			}
			code, body := get(t, admin, "Accept", "application/json")
			var index struct {
				Market    string
				URL       string
				Endpoints []struct{ Path, Doc string }
			}
			if err := json.Unmarshal([]byte(body), &index); code != http.StatusOK || err != nil {
				t.Fatalf("GET /_sim/ as JSON: %d %v\n%s", code, err, body)
			}
			if index.Market != tc.market || index.URL != base || len(index.Endpoints) < len(tc.want) {
				t.Errorf("index %+v", index)
			}
			for _, e := range index.Endpoints {
				path, _, _ := strings.Cut(e.Path, "?")
				if e.Doc == "" || !strings.Contains(text, e.Path) {
					t.Errorf("endpoint %+v: no description, or not in the text list", e)
				}
				if code, body := get(t, strings.TrimSuffix(admin, "/_sim/")+path); code != http.StatusOK {
					t.Errorf("%s: %d %s", path, code, body)
				}
			}
			if code, _ := get(t, admin+"bogus"); code != http.StatusNotFound {
				t.Errorf("/_sim/bogus: %d, want 404", code)
			}
		})
	}
}

// TestSameServesAsInProcess checks that mwsim serves streams outside the
// order-book model (mark price), any symbol by default, and that its
// prices agree with an in-process synth simulator's (the examples' and
// marketwire tail's), whatever the seeds.
func TestSameServesAsInProcess(t *testing.T) {
	base, _ := start(t, "-market", "usdm", "-seed", "7", "-interval", "20ms")
	inproc, err := synth.Server("usdm", 12345, sim.WithPublishInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := inproc.Start(); err != nil {
		t.Fatal(err)
	}
	defer inproc.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	price := func(url, symbol string) (trade, mark float64) {
		c, err := runtime.Dial(ctx, &usdm.Market, runtime.WithURL(url))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		trades := make(chan float64, 1)
		marks := make(chan float64, 1)
		if _, err := usdm.SubscribeAggTrade(ctx, c, usdm.AggTradeParams{Symbol: symbol}, func(ev *usdm.AggTradeEvent) {
			select {
			case trades <- ev.Price.Float64():
			default:
			}
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := usdm.SubscribeMarkPrice(ctx, c, usdm.MarkPriceParams{Symbol: symbol}, func(ev *usdm.MarkPriceEvent) {
			select {
			case marks <- ev.MarkPrice.Float64():
			default:
			}
		}); err != nil {
			t.Fatal(err)
		}
		for trade == 0 || mark == 0 {
			select {
			case trade = <-trades:
			case mark = <-marks:
			case <-ctx.Done():
				t.Fatalf("%s %s: trade %v, mark %v", url, symbol, trade, mark)
			}
		}
		return trade, mark
	}
	for _, sym := range []string{"ETHUSDT", "SOLUSDT"} {
		want := float64(sim.StartMid(sym)) / 100
		t1, m1 := price(base, sym)
		t2, m2 := price(inproc.URL(), sym)
		for _, p := range []float64{t1, m1, t2, m2} {
			if math.Abs(p/want-1) > 0.005 {
				t.Errorf("%s: mwsim trade %.2f mark %.2f, in-process trade %.2f mark %.2f; want all near %.2f", sym, t1, m1, t2, m2, want)
				break
			}
		}
	}
}

// TestSymbolsFlag checks that -symbols, when given, limits the Binance
// simulator to those symbols.
func TestSymbolsFlag(t *testing.T) {
	base, _ := start(t, "-market", "usdm", "-symbols", "btcusdt")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := runtime.Dial(ctx, &usdm.Market, runtime.WithURL(base))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make(chan struct{}, 1)
	if _, err := usdm.SubscribeContinuousKline(ctx, c, usdm.ContinuousKlineParams{Pair: "BTCUSDT", ContractType: usdm.ContractTypePerpetual, Interval: usdm.ContinuousKlineInterval1m},
		func(*usdm.ContinuousKlineEvent) {
			select {
			case got <- struct{}{}:
			default:
			}
		}); err != nil {
		t.Fatal(err)
	}
	sub, err := usdm.SubscribeAggTrade(ctx, c, usdm.AggTradeParams{Symbol: "ETHUSDT"}, func(*usdm.AggTradeEvent) {})
	if err == nil {
		err = sub.Ready(ctx)
	}
	if err == nil {
		t.Error("ETHUSDT subscribed on a simulator of BTCUSDT only")
	}
	select {
	case <-got:
	case <-ctx.Done():
		t.Fatal("no continuous kline of BTCUSDT")
	}
}
