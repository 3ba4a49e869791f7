package sim_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/marketwire/marketwire/sim"
)

type klinePayload struct {
	E    string `json:"e"`
	Time int64  `json:"E"`
	K    struct {
		Start  int64  `json:"t"`
		End    int64  `json:"T"`
		I      string `json:"i"`
		First  int64  `json:"f"`
		Last   int64  `json:"L"`
		Open   string `json:"o"`
		Close  string `json:"c"`
		High   string `json:"h"`
		Low    string `json:"l"`
		Trades int64  `json:"n"`
		Closed bool   `json:"x"`
	} `json:"k"`
}

// TestBookKlinesCloseOnTheirInterval steps kline feeds at the server's
// 100 ms tick and checks that every window's candle closes exactly once
// (x true), shortly after its close time, in order and without a skipped
// window, and that nothing of a window is published after its close.
func TestBookKlinesCloseOnTheirInterval(t *testing.T) {
	for _, tc := range []struct {
		futures bool
		stream  string
		window  time.Duration
		run     time.Duration
	}{
		{false, "btcusdt@kline_1s", time.Second, 20 * time.Second},
		{false, "ethusdt@kline_1m", time.Minute, 5 * time.Minute},
		{true, "btcusdt@kline_1m", time.Minute, 5 * time.Minute},
	} {
		name := tc.stream
		if tc.futures {
			name = "futures " + name
		}
		t.Run(name, func(t *testing.T) {
			sym := tc.stream[:len(tc.stream)-len("@kline_1s")]
			b := sim.NewBook(sim.BookConfig{Symbol: sym, Futures: tc.futures, Seed: 5})
			f := open(t, b, tc.stream)
			now := time.Unix(1_700_000_000, 350_000_000)
			var closed []klinePayload
			lastClosedEnd := int64(0)
			open := 0
			for end := now.Add(tc.run); now.Before(end); now = now.Add(100 * time.Millisecond) {
				p := f.Next(now)
				if p == nil {
					continue
				}
				ev := decode[klinePayload](t, p)
				k := ev.K
				if k.End-k.Start != tc.window.Milliseconds()-1 || k.Start%tc.window.Milliseconds() != 0 {
					t.Fatalf("window %d..%d is not a %v candle", k.Start, k.End, tc.window)
				}
				if k.Start <= lastClosedEnd {
					t.Fatalf("event of window %d after that window closed", k.Start)
				}
				if hi, lo := num(t, k.High), num(t, k.Low); lo > hi || num(t, k.Open) > hi || num(t, k.Open) < lo || num(t, k.Close) > hi || num(t, k.Close) < lo {
					t.Errorf("candle o=%s h=%s l=%s c=%s", k.Open, k.High, k.Low, k.Close)
				}
				if !k.Closed {
					open++
					if now.UnixMilli() > k.End {
						t.Errorf("open update of %d..%d at %d, after its close", k.Start, k.End, now.UnixMilli())
					}
					continue
				}
				if lag := now.UnixMilli() - k.End; lag <= 0 || lag > 101 {
					t.Errorf("candle %d..%d closed at %d", k.Start, k.End, now.UnixMilli())
				}
				if len(closed) > 0 && k.Start != closed[len(closed)-1].K.End+1 {
					t.Errorf("candle %d closed after %d: a window was skipped", k.Start, closed[len(closed)-1].K.Start)
				}
				if k.Trades == 0 || k.First < 0 || k.Last-k.First+1 != k.Trades {
					t.Errorf("candle %d: %d trades, ids %d..%d", k.Start, k.Trades, k.First, k.Last)
				}
				closed = append(closed, ev)
				lastClosedEnd = k.End
			}
			if want := int(tc.run/tc.window) - 1; len(closed) < want {
				t.Errorf("%d candles closed in %v of %v candles, want %d", len(closed), tc.run, tc.window, want)
			}
			if tc.window > time.Second && open == 0 {
				t.Error("no update of an open candle")
			}
		})
	}
}

// TestKlineCloseWithoutTrades checks that windows without trades close too,
// as empty candles at the previous close.
func TestKlineCloseWithoutTrades(t *testing.T) {
	b := sim.NewBook(sim.BookConfig{Symbol: "btcusdt", Seed: 6})
	f := open(t, b, "btcusdt@kline_1s")
	now := time.Unix(1_700_000_000, 0)
	f.Next(now)
	// The next tick comes 3.5 s later: three windows closed meanwhile, two
	// of them without trades; one closed candle is published per tick.
	var starts []int64
	for i := range 4 {
		ev := decode[klinePayload](t, f.Next(now.Add(3500*time.Millisecond+time.Duration(i)*time.Millisecond)))
		if !ev.K.Closed {
			t.Fatalf("tick %d: open candle %d, want the closed ones first", i, ev.K.Start)
		}
		starts = append(starts, ev.K.Start)
		if ev.K.Start > now.UnixMilli()+1000 && (ev.K.Trades != 0 || ev.K.Open != ev.K.Close) {
			t.Errorf("empty window %d: %+v", ev.K.Start, ev.K)
		}
		if i == 2 {
			break
		}
	}
	if len(starts) != 3 || starts[1] != starts[0]+1000 || starts[2] != starts[1]+1000 {
		t.Errorf("closed windows %v", starts)
	}
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestStartMid checks that a book starts at its symbol's StartMid, the same
// in every process, whatever the seed.
func TestStartMid(t *testing.T) {
	if got := sim.StartMid("BTCUSDT"); got != 3_808_048 || sim.StartMid("btcusdt") != got {
		t.Errorf("StartMid(BTCUSDT) = %d, want 3808048 (38080.48) in either case", got)
	}
	if sim.StartMid("ETHUSDT") == sim.StartMid("BTCUSDT") {
		t.Error("two symbols start at the same price")
	}
	for seed := range uint64(3) {
		b := sim.NewBook(sim.BookConfig{Symbol: "ethusdt", Seed: seed})
		if d := b.Mid(time.Time{}) - sim.StartMid("ethusdt"); d < -2 || d > 2 {
			t.Errorf("seed %d: mid %d, want StartMid ± one step", seed, b.Mid(time.Time{}))
		}
	}
}
