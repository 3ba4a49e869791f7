package synth

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketwire/marketwire/generated"
	"github.com/marketwire/marketwire/generated/dex"
	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/generated/zdex"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/wire"
)

// noFixtures makes a source treat every stream as one without examples.
func noFixtures(string, string) []generated.Fixture { return nil }

// logs collects a source's notices.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logs) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if strings.Contains(s, substr) {
			n++
		}
	}
	return n
}

func marketNames() []string {
	names := make([]string, 0, len(markets.All))
	for name := range markets.All {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// streamsOf returns a wire name of every stream kind of a market with
// fixtures that its ParseStream accepts (not the user-data groups).
func streamsOf(market string) []string {
	var out []string
	for _, kind := range generated.Kinds(market) {
		name := generated.Fixtures(market, kind)[0].Stream
		if _, err := markets.All[market].ParseStream(name); err == nil {
			out = append(out, name)
		}
	}
	return out
}

// sources returns the feeds of a market as a server has them: the
// order-book model first where the market has one.
func sources(t *testing.T, market string, cfg Config) (*world, sim.Source) {
	t.Helper()
	w, src, err := newSources(market, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w, src
}

var start = time.UnixMilli(1_800_000_000_000)

// TestSynthesizedEveryStream serves every stream of every market as if it
// had no examples: each payload is synthesized from the stream's type,
// decodes, names the subscribed symbol, and the source says once per
// stream that its values are synthesized.
func TestSynthesizedEveryStream(t *testing.T) {
	opened := 0
	for _, market := range marketNames() {
		var l logs
		src, err := NewSource(market, Config{Seed: 1, Logf: l.logf, fixtures: noFixtures})
		if err != nil {
			t.Fatal(err)
		}
		m := markets.All[market]
		for _, stream := range streamsOf(market) {
			for range 2 { // a second server opening it logs nothing more
				feed, err := src.Open(stream)
				if err != nil {
					t.Errorf("%s %s: %v", market, stream, err)
					continue
				}
				opened++
				for i := range 3 {
					data := feed.Next(start.Add(time.Duration(i) * 100 * time.Millisecond))
					v, err := m.Decode(stream, data)
					if err != nil {
						t.Fatalf("%s %s: synthesized payload does not decode: %v\n%s", market, stream, err, data)
					}
					p, _ := m.ParseStream(stream)
					if sym := symbolOf(p); sym != "" {
						if s := reflect.Indirect(reflect.ValueOf(v)); s.Kind() == reflect.Struct && s.FieldByName("Symbol").IsValid() && s.FieldByName("Symbol").String() != sym {
							t.Errorf("%s %s: symbol %q, want %q", market, stream, s.FieldByName("Symbol").String(), sym)
						}
					}
				}
			}
			if n := l.count(fmt.Sprintf("%q has no examples", stream)); n != 1 {
				t.Errorf("%s %s: logged %d times that it is synthesized, want once: %q", market, stream, n, l.lines)
			}
		}
	}
	if opened < 2*65 {
		t.Errorf("opened %d streams", opened/2)
	}
}

// leaves flattens a payload into path -> value for its numbers, times and
// booleans, and notes which paths are ids or counts.
func leaves(v any) map[string]string {
	out := map[string]string{}
	var rec func(v reflect.Value, path, field string)
	rec = func(v reflect.Value, path, field string) {
		switch {
		case v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface:
			if !v.IsNil() {
				rec(v.Elem(), path, field)
			}
		case v.Type() == decimalType:
			if d := v.Interface().(wire.Decimal); d.IsSet() && !d.IsZero() {
				out[path] = d.String()
			}
		case v.Kind() == reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if f := v.Type().Field(i); f.IsExported() {
					rec(v.Field(i), path+"."+f.Name, f.Name)
				}
			}
		case v.Kind() == reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				rec(v.Index(i), fmt.Sprintf("%s[%d]", path, i), field)
			}
		case isTime(v) && v.Int() > 0,
			isInt(v) && v.Int() > 0 && (isID(field) || isCount(field)):
			out[path] = fmt.Sprint(v.Int())
		}
	}
	rec(reflect.ValueOf(v), "", "")
	return out
}

// TestEveryNumericFieldMoves checks, for every stream, from its examples
// and synthesized, that every non-zero decimal, timestamp, id and count
// changes while the stream runs (across a few one-minute candles, so that
// candle open prices change too).
func TestEveryNumericFieldMoves(t *testing.T) {
	for _, synthesized := range []bool{false, true} {
		for _, market := range marketNames() {
			cfg := Config{Seed: 3, Logf: func(string, ...any) {}}
			if synthesized {
				cfg.fixtures = noFixtures
			}
			m := markets.All[market]
			for _, stream := range streamsOf(market) {
				// A source of its own: the price model steps once per
				// distinct time, and each stream starts the clock again.
				_, src := sources(t, market, cfg)
				feed, err := src.Open(stream)
				if err != nil {
					t.Fatal(err)
				}
				var first map[string]string
				moved := map[string]bool{}
				for i := range 130 {
					data := feed.Next(start.Add(time.Duration(i) * time.Second))
					if data == nil {
						continue
					}
					v, err := m.Decode(stream, data)
					if err != nil {
						t.Fatal(err)
					}
					l := leaves(v)
					if first == nil {
						first = l
						continue
					}
					for path, x := range l {
						if x != first[path] {
							moved[path] = true
						}
					}
				}
				var still []string
				for path := range first {
					if !moved[path] {
						still = append(still, path+"="+first[path])
					}
				}
				sort.Strings(still)
				if len(still) > 0 {
					t.Errorf("%s %s (synthesized %v): never moved: %s", market, stream, synthesized, strings.Join(still, " "))
				}
			}
		}
	}
}

// TestSequences checks that every stream's events follow its sequence key
// as the runtime reads it (Stream().Seq), so that the runtime reports no
// false gap and drops nothing as a repeat: consecutive ids grow by one,
// linked ones name the previous last id, increasing ones increase, times
// never go back (the runtime compares the last key of an event).
func TestSequences(t *testing.T) {
	for _, synthesized := range []bool{false, true} {
		for _, market := range marketNames() {
			cfg := Config{Seed: 4, Logf: func(string, ...any) {}}
			if synthesized {
				cfg.fixtures = noFixtures
			}
			m := markets.All[market]
			for _, stream := range streamsOf(market) {
				p, _ := m.ParseStream(stream)
				seq := p.(interface{ Stream() runtime.Stream }).Stream().Seq
				if seq == nil {
					continue
				}
				_, src := sources(t, market, cfg)
				feed, err := src.Open(stream)
				if err != nil {
					t.Fatal(err)
				}
				var prev runtime.Seq
				n := 0
				for i := range 100 {
					data := feed.Next(start.Add(time.Duration(i) * 100 * time.Millisecond))
					if data == nil {
						continue
					}
					v, err := m.Decode(stream, data)
					if err != nil {
						t.Fatal(err)
					}
					s := seq(v)
					if n > 0 {
						ok := true
						switch s.Kind {
						case runtime.SeqConsecutive:
							ok = s.First == prev.Last+1
						case runtime.SeqLinked:
							ok = s.Prev == prev.Last && s.First > prev.Last
						case runtime.SeqIncreasing:
							ok = s.Last > prev.Last
						case runtime.SeqTime:
							ok = s.Last >= prev.Last
						}
						if !ok {
							t.Errorf("%s %s (synthesized %v): %s sequence %+v after %+v", market, stream, synthesized, s.Kind, s, prev)
							break
						}
					}
					prev = s
					n++
				}
				if n < 2 {
					t.Errorf("%s %s: %d events", market, stream, n)
				}
			}
		}
	}
}

func near(t *testing.T, what string, got wire.Decimal, want, tolerance float64) {
	t.Helper()
	if math.Abs(got.Float64()/want-1) > tolerance {
		t.Errorf("%s = %s, want within %.1f %% of %.2f", what, got, tolerance*100, want)
	}
}

// TestOnePricePerSymbol checks that every stream of a symbol follows the
// same price, the order-book model's on Binance markets, and that it
// starts where sim.StartMid says whatever the seed, so that two processes
// agree.
func TestOnePricePerSymbol(t *testing.T) {
	for _, seed := range []uint64{1, 99} {
		w, src := sources(t, "usdm", Config{Seed: seed})
		open := func(stream string) sim.Feed {
			f, err := src.Open(stream)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		trades, mark, ticker, mini, book := open("ethusdt@aggTrade"), open("ethusdt@markPrice"), open("ethusdt@ticker"), open("ethusdt@miniTicker"), open("ethusdt@bookTicker")
		cont := open("ethusdt_perpetual@continuousKline_1m")
		now := start
		var ev struct {
			trade *usdm.AggTradeEvent
			mark  *usdm.MarkPriceEvent
		}
		for i := range 50 {
			now = start.Add(time.Duration(i) * 100 * time.Millisecond)
			if i == 0 {
				mid := float64(w.books.book("ethusdt").Mid(now)) / 100
				if want := float64(sim.StartMid("ETHUSDT")) / 100; math.Abs(mid-want) > 0.03 {
					t.Errorf("seed %d: ETHUSDT starts at %.2f, want %.2f", seed, mid, want)
				}
			}
			if p := trades.Next(now); p != nil {
				ev.trade = new(usdm.AggTradeEvent)
				if err := ev.trade.UnmarshalJSON(p); err != nil {
					t.Fatal(err)
				}
			}
			ev.mark = new(usdm.MarkPriceEvent)
			if err := ev.mark.UnmarshalJSON(mark.Next(now)); err != nil {
				t.Fatal(err)
			}
		}
		mid := float64(w.books.book("ethusdt").Mid(now)) / 100
		var tk usdm.TickerEvent
		var mt usdm.MiniTickerEvent
		var kl usdm.ContinuousKlineEvent
		var bt usdm.BookTickerEvent
		for _, x := range []struct {
			f sim.Feed
			v interface{ UnmarshalJSON([]byte) error }
		}{{ticker, &tk}, {mini, &mt}, {cont, &kl}, {book, &bt}} {
			p := x.f.Next(now.Add(time.Second))
			if err := x.v.UnmarshalJSON(p); err != nil {
				t.Fatalf("%v: %s", err, p)
			}
		}
		near(t, "aggTrade price", ev.trade.Price, mid, 0.001)
		near(t, "mark price", ev.mark.MarkPrice, mid, 0.01)
		near(t, "index price", ev.mark.IndexPrice, mid, 0.01)
		near(t, "ticker last price", tk.LastPrice, mid, 0.01)
		near(t, "mini ticker last price", mt.LastPrice, mid, 0.01)
		near(t, "continuous kline close", kl.Kline.ClosePrice, mid, 0.01)
		near(t, "best bid", bt.BestBidPrice, mid, 0.001)
		if tk.HighPrice.Float64() < tk.LowPrice.Float64() {
			t.Errorf("ticker high %s below low %s", tk.HighPrice, tk.LowPrice)
		}
	}

	// Venues without an order-book model: a walk from the same start.
	src, _ := NewSource("zdex", Config{Seed: 5})
	f, err := src.Open("ticker:BTCUSDT")
	if err != nil {
		t.Fatal(err)
	}
	var zt zdex.TickerEvent
	if err := zt.UnmarshalJSON(f.Next(start)); err != nil {
		t.Fatal(err)
	}
	near(t, "zdex BTCUSDT last price", zt.LastPrice, float64(sim.StartMid("BTCUSDT"))/100, 0.01)
}

// TestBookSidesAroundTheMid checks that depth snapshots put their bids
// below and their asks above the symbol's price (the DEX example had a bid
// of 3333 against an ask of 66666).
func TestBookSidesAroundTheMid(t *testing.T) {
	dexSrc, _ := NewSource("dex", Config{Seed: 1})
	f, err := dexSrc.Open("BNB_BTCB-1DE@marketDepth")
	if err != nil {
		t.Fatal(err)
	}
	mid := float64(sim.StartMid("BNB_BTCB-1DE")) / 100
	for i := range 5 {
		var d dex.DepthSnapshotEvent
		if err := d.UnmarshalJSON(f.Next(start.Add(time.Duration(i) * time.Second))); err != nil {
			t.Fatal(err)
		}
		bid, ask := d.Bids[0].Price.Float64(), d.Asks[0].Price.Float64()
		if bid >= ask || bid < mid*0.99 || ask > mid*1.01 {
			t.Errorf("dex depth: bid %s ask %s around %.2f", d.Bids[0].Price, d.Asks[0].Price, mid)
		}
		for j := 1; j < len(d.Asks); j++ {
			if d.Asks[j].Price.Float64() <= d.Asks[j-1].Price.Float64() {
				t.Errorf("asks not ascending: %v", d.Asks)
			}
		}
	}
	zSrc, _ := NewSource("zdex", Config{Seed: 1})
	zf, err := zSrc.Open("orderbook:ETHUSDT")
	if err != nil {
		t.Fatal(err)
	}
	var b zdex.OrderBookEvent
	if err := b.UnmarshalJSON(zf.Next(start)); err != nil {
		t.Fatal(err)
	}
	if b.Bids[0].Price.Float64() >= b.Asks[0].Price.Float64() {
		t.Errorf("zdex book: bid %s, ask %s", b.Bids[0].Price, b.Asks[0].Price)
	}
}

// candleOf returns the open time, close time and closed flag (if the candle
// has one) of the last candle in v.
func candleOf(v any) (open, closeT int64, closed, hasClosed, ok bool) {
	var k reflect.Value
	var find func(v reflect.Value)
	find = func(v reflect.Value) {
		switch {
		case v.Kind() == reflect.Pointer:
			if !v.IsNil() {
				find(v.Elem())
			}
		case v.Kind() == reflect.Struct && isKline(v.Type()):
			k = v
		case v.Kind() == reflect.Struct && v.Type() != decimalType:
			for i := 0; i < v.NumField(); i++ {
				find(v.Field(i))
			}
		case v.Kind() == reflect.Slice && v.Len() > 0:
			find(v.Index(v.Len() - 1))
		}
	}
	find(reflect.ValueOf(v))
	if !k.IsValid() {
		return 0, 0, false, false, false
	}
	ms := func(f reflect.Value) int64 { return int64(float64(f.Int()) / timeUnits[f.Type()]) }
	c := k.FieldByName("IsClosed")
	return ms(k.FieldByName("OpenTime")), ms(k.FieldByName("CloseTime")), c.IsValid() && c.Bool(), c.IsValid(), true
}

// TestKlinesFollowTheirInterval checks every stream with candles that does
// not come from the order-book model (sim tests that one): each event shows
// the candle of its interval that holds the publish time, or the previous
// candle closed (x true), which happens exactly once per candle, within one
// tick of its close time, and none is skipped.
func TestKlinesFollowTheirInterval(t *testing.T) {
	extra := map[string][]string{ // other intervals than the examples'
		"spot": {"btcusdt@kline_1s@+08:00", "ethusdt@kline_1m@+05:30"},
		"usdm": {"btcusdt_perpetual@continuousKline_1m", "btcusdt@markPrice_kline_1m"},
		"dex":  {"BNB_BTCB-1DE@kline_1m"},
	}
	checked := 0
	for _, synthesized := range []bool{false, true} {
		for _, market := range marketNames() {
			cfg := Config{Seed: 2, Logf: func(string, ...any) {}}
			if synthesized {
				cfg.fixtures = noFixtures
			}
			src, _ := NewSource(market, cfg)
			m := markets.All[market]
			for _, stream := range append(streamsOf(market), extra[market]...) {
				if _, err := m.ParseStream(stream); err != nil {
					continue
				}
				fd, err := src.Open(stream)
				if err != nil {
					t.Fatal(err)
				}
				if fd.(*feed).interval == "" {
					continue
				}
				checked++
				var lastOpen, lastClosedOpen, width int64 = 0, 0, 0
				closes := 0
				run := 4 * time.Minute
				// 100 ms ticks around the minute, where 1m candles close.
				step := func(now time.Time) time.Duration {
					if ms := now.UnixMilli() % 60_000; width == 1000 || ms >= 58_500 || ms <= 500 {
						return 100 * time.Millisecond
					}
					return time.Second
				}
				if fd.(*feed).interval == "1s" {
					run = 20 * time.Second
				}
				for now := start.Add(170 * time.Millisecond); now.Before(start.Add(run)); now = now.Add(step(now)) {
					v, err := m.Decode(stream, fd.Next(now))
					if err != nil {
						t.Fatal(err)
					}
					o, c, closed, hasClosed, _ := candleOf(v)
					if width == 0 {
						width = c - o + 1
						if width != 1000 && width != 60_000 {
							t.Fatalf("%s %s: a candle of %d ms", market, stream, width)
						}
					}
					if c-o+1 != width || o%1000 != 0 {
						t.Fatalf("%s %s: candle %d..%d", market, stream, o, c)
					}
					ms := now.UnixMilli()
					if !hasClosed && ms > c && ms <= c+100 {
						closed = true // the last event of a candle without a closed flag
					}
					switch {
					case closed:
						if ms <= c || ms > c+100 {
							t.Errorf("%s %s: candle %d..%d closed at %d", market, stream, o, c, ms)
						}
						if lastClosedOpen != 0 && o != lastClosedOpen+width {
							t.Errorf("%s %s: candle %d closed after %d", market, stream, o, lastClosedOpen)
						}
						lastClosedOpen = o
						closes++
					case ms < o || ms > c:
						t.Errorf("%s %s: open candle %d..%d at %d", market, stream, o, c, ms)
					case hasClosed && o != lastOpen && lastOpen != 0 && o != lastClosedOpen+width:
						t.Errorf("%s %s: candle %d opened before %d closed", market, stream, o, o-width)
					}
					if !closed && !hasClosed && lastOpen != 0 && o != lastOpen && o != lastOpen+width {
						t.Errorf("%s %s: candle %d after %d", market, stream, o, lastOpen)
					}
					lastOpen = o
				}
				if want := int(run.Milliseconds()/width) - 1; hasClosedField(m, stream, fd) && closes < want {
					t.Errorf("%s %s (synthesized %v): %d candles closed in %v, want %d", market, stream, synthesized, closes, run, want)
				}
			}
		}
	}
	if checked < 2*12 {
		t.Errorf("checked %d streams with candles", checked)
	}
}

func hasClosedField(m markets.Market, stream string, f sim.Feed) bool {
	v, err := m.Decode(stream, f.(*feed).tmplData)
	if err != nil {
		return false
	}
	_, _, _, has, _ := candleOf(v)
	return has
}

// TestServerSynthesizesStreamsWithoutExamples subscribes through the runtime
// and the generated helpers to streams that have no examples: they deliver
// typed events, and the server's log says once per stream that their values
// are synthesized.
func TestServerSynthesizesStreamsWithoutExamples(t *testing.T) {
	var l logs
	srv, err := NewServer("spot", Config{Seed: 1, Logf: l.logf, fixtures: noFixtures}, sim.WithPublishInterval(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
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
	tickers := make(chan *spot.TickerEvent, 10)
	avg := make(chan *spot.AvgPriceEvent, 10)
	if _, err := spot.SubscribeTicker(ctx, c, spot.TickerParams{Symbol: "SOLUSDT"}, func(ev *spot.TickerEvent) {
		select {
		case tickers <- ev:
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := spot.SubscribeAvgPrice(ctx, c, spot.AvgPriceParams{Symbol: "SOLUSDT"}, func(ev *spot.AvgPriceEvent) {
		select {
		case avg <- ev:
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		select {
		case ev := <-tickers:
			if ev.Symbol != "SOLUSDT" || ev.LastPrice.Float64() <= 0 || ev.EventType != "24hrTicker" {
				t.Errorf("ticker %+v", ev)
			}
		case <-ctx.Done():
			t.Fatal("no ticker")
		}
		select {
		case ev := <-avg:
			near(t, "average price", ev.AveragePrice, float64(sim.StartMid("SOLUSDT"))/100, 0.02)
		case <-ctx.Done():
			t.Fatal("no average price")
		}
	}
	if n := l.count(`"solusdt@ticker" has no examples`); n != 1 {
		t.Errorf("logged %d times, want once: %q", n, l.lines)
	}
}
