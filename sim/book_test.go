package sim_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/marketwire/marketwire/sim"
)

type depthEvent struct {
	E            string      `json:"e"`
	Time         int64       `json:"E"`
	FirstID      int64       `json:"U"`
	LastID       int64       `json:"u"`
	PrevID       *int64      `json:"pu"`
	Bids         [][2]string `json:"b"`
	Asks         [][2]string `json:"a"`
	LastUpdateID int64       `json:"lastUpdateId"`
	SnapBids     [][2]string `json:"bids"`
	SnapAsks     [][2]string `json:"asks"`
}

func open(t *testing.T, b *sim.Book, stream string) sim.Feed {
	t.Helper()
	f, err := b.Open(stream)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func decode[T any](t *testing.T, p []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(p, &v); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return v
}

// apply sets levels on a local book (quantity 0 removes).
func apply(book map[string]string, levels [][2]string) {
	for _, l := range levels {
		if l[1] == "0.000" {
			delete(book, l[0])
		} else {
			book[l[0]] = l[1]
		}
	}
}

func TestBookDepthIsConsistent(t *testing.T) {
	for _, futures := range []bool{false, true} {
		t.Run("futures="+strconv.FormatBool(futures), func(t *testing.T) {
			b := sim.NewBook(sim.BookConfig{Symbol: "btcusdt", Futures: futures, Seed: 1, Unpaced: true})
			now := time.Unix(1_700_000_000, 0)
			snapshot := open(t, b, "btcusdt@depth20")
			diff := open(t, b, "btcusdt@depth@100ms")

			// Build the local book from a snapshot, then follow the diffs.
			p := snapshot.Next(now)
			snap := decode[depthEvent](t, p)
			bids, asks := map[string]string{}, map[string]string{}
			var bookID int64
			if futures {
				apply(bids, snap.Bids)
				apply(asks, snap.Asks)
				bookID = snap.LastID
			} else {
				apply(bids, snap.SnapBids)
				apply(asks, snap.SnapAsks)
				bookID = snap.LastUpdateID
			}
			if len(bids) != 20 || len(asks) != 20 {
				t.Fatalf("snapshot has %d bids, %d asks", len(bids), len(asks))
			}
			prevU := int64(-1)
			for i := range 200 {
				now = now.Add(100 * time.Millisecond)
				ev := decode[depthEvent](t, diff.Next(now))
				if ev.E != "depthUpdate" || ev.FirstID > ev.LastID {
					t.Fatalf("event %d: %+v", i, ev)
				}
				if prevU >= 0 && ev.FirstID != prevU+1 {
					t.Fatalf("event %d: U %d after u %d", i, ev.FirstID, prevU)
				}
				if futures != (ev.PrevID != nil) || futures && prevU >= 0 && *ev.PrevID != prevU {
					t.Fatalf("event %d: pu %v after u %d", i, ev.PrevID, prevU)
				}
				prevU = ev.LastID
				if ev.LastID <= bookID {
					continue
				}
				apply(bids, ev.Bids)
				apply(asks, ev.Asks)
				bookID = ev.LastID
			}
			// The followed book equals a fresh snapshot.
			snap = decode[depthEvent](t, snapshot.Next(now))
			levels := snap.SnapBids
			if futures {
				levels = snap.Bids
			}
			for _, l := range levels {
				if bids[l[0]] != l[1] {
					t.Fatalf("bid %s: local %q, snapshot %q", l[0], bids[l[0]], l[1])
				}
			}
			if len(bids) != 20 || len(asks) != 20 {
				t.Fatalf("followed book has %d bids, %d asks", len(bids), len(asks))
			}
		})
	}
}

func TestBookTradesAndTicker(t *testing.T) {
	b := sim.NewBook(sim.BookConfig{Symbol: "btcusdt", Seed: 2, Unpaced: true})
	trades := open(t, b, "btcusdt@trade")
	agg := open(t, b, "btcusdt@aggTrade")
	ticker := open(t, b, "btcusdt@bookTicker")
	depth5 := open(t, b, "btcusdt@depth5")
	now := time.Unix(1_700_000_000, 0)
	var lastID int64
	for range 50 {
		now = now.Add(10 * time.Millisecond)
		tr := decode[struct {
			E  string `json:"e"`
			Ev int64  `json:"E"`
			ID int64  `json:"t"`
			TT int64  `json:"T"`
			P  string `json:"p"`
		}](t, trades.Next(now))
		if tr.E != "trade" || tr.ID <= lastID {
			t.Fatalf("trade %+v after id %d", tr, lastID)
		}
		lastID = tr.ID
		ag := decode[struct {
			E     string `json:"e"`
			Ev    int64  `json:"E"`
			First int64  `json:"f"`
			Last  int64  `json:"l"`
			P     string `json:"p"`
		}](t, agg.Next(now))
		if ag.First != tr.ID || ag.P != tr.P {
			t.Fatalf("aggTrade %+v does not match trade %+v", ag, tr)
		}
		bt := decode[struct {
			U    int64  `json:"u"`
			Bid  string `json:"b"`
			Ask  string `json:"a"`
			Qbid string `json:"B"`
			Qask string `json:"A"`
		}](t, ticker.Next(now))
		d := decode[depthEvent](t, depth5.Next(now))
		if bt.Bid != d.SnapBids[0][0] || bt.Qbid != d.SnapBids[0][1] || bt.Ask != d.SnapAsks[0][0] || bt.U != d.LastUpdateID {
			t.Fatalf("ticker %+v is not the top of %+v", bt, d)
		}
		if len(d.SnapBids) != 5 {
			t.Fatalf("depth5 has %d bids", len(d.SnapBids))
		}
	}
}

func TestBookKline(t *testing.T) {
	b := sim.NewBook(sim.BookConfig{Symbol: "btcusdt", Seed: 3, Unpaced: true})
	k := open(t, b, "btcusdt@kline_1s")
	now := time.Unix(1_700_000_000, 0)
	type kline struct {
		E  string `json:"e"`
		Ev int64  `json:"E"`
		K  struct {
			Start int64  `json:"t"`
			End   int64  `json:"T"`
			I     string `json:"i"`
			N     int64  `json:"n"`
			X     bool   `json:"x"`
			O, H  string
			L     string `json:"l"`
			Last  int64  `json:"L"`
		} `json:"k"`
	}
	finals := 0
	for range 25 {
		now = now.Add(100 * time.Millisecond)
		ev := decode[kline](t, k.Next(now))
		if ev.E != "kline" || ev.K.I != "1s" || ev.K.End-ev.K.Start != 999 {
			t.Fatalf("%+v", ev)
		}
		if ev.K.X {
			finals++
		}
	}
	if finals < 1 {
		t.Fatal("no candle closed in 2.5 s of 1 s candles")
	}
	for _, bad := range []string{"btcusdt@kline_7m", "ethusdt@trade", "btcusdt@depth7", "btcusdt@depth@500ms"} {
		if b.Valid(bad) {
			t.Errorf("%s accepted", bad)
		}
	}
	fut := sim.NewBook(sim.BookConfig{Symbol: "btcusdt", Futures: true})
	if !fut.Valid("btcusdt@depth@500ms") || fut.Valid("btcusdt@trade") || fut.Route("btcusdt@depth5") != "public" || fut.Route("btcusdt@aggTrade") != "market" {
		t.Error("futures streams or routes wrong")
	}
}

// TestAggTradeNQ: USDⓈ-M aggregate trades carry nq, COIN-M's (Pair) and
// spot's do not, as the reference shows them.
func TestAggTradeNQ(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  sim.BookConfig
		want bool
	}{
		{"spot", sim.BookConfig{Symbol: "btcusdt"}, false},
		{"usdm", sim.BookConfig{Symbol: "btcusdt", Futures: true}, true},
		{"coinm", sim.BookConfig{Symbol: "btcusd_perp", Futures: true, Pair: true}, false},
	} {
		tc.cfg.Seed, tc.cfg.Unpaced = 3, true
		f := open(t, sim.NewBook(tc.cfg), tc.cfg.Symbol+"@aggTrade")
		now := time.Unix(1_700_000_000, 0)
		var p []byte
		for i := 0; p == nil && i < 100; i++ {
			now = now.Add(10 * time.Millisecond)
			p = f.Next(now)
		}
		if p == nil {
			t.Fatalf("%s: no aggTrade in 100 ticks", tc.name)
		}
		m := decode[map[string]json.RawMessage](t, p)
		if _, got := m["nq"]; got != tc.want {
			t.Errorf("%s: nq present %v, want %v: %s", tc.name, got, tc.want, p)
		}
	}
}
