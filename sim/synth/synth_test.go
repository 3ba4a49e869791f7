package synth

import (
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/marketwire/marketwire/generated"
	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/generated/spot"
)

// TestEveryStream opens a feed for every stream that has examples, in every
// market, and checks that its payloads decode, carry the publish time and
// move.
func TestEveryStream(t *testing.T) {
	names := make([]string, 0, len(markets.All))
	for name := range markets.All {
		names = append(names, name)
	}
	sort.Strings(names)
	opened := 0
	for _, market := range names {
		m := markets.All[market]
		src, err := Source(market, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, stream := range exampleStreams(t, market) {
			feed, err := src.Open(stream)
			if err != nil {
				t.Errorf("%s %s: %v", market, stream, err)
				continue
			}
			opened++
			now := time.UnixMilli(1_800_000_000_000)
			var prev []byte
			for i := 0; i < 3; i++ {
				data := feed.Next(now.Add(time.Duration(i) * time.Second))
				if _, err := m.Decode(stream, data); err != nil {
					t.Fatalf("%s %s: payload %d does not decode: %v\n%s", market, stream, i, err, data)
				}
				if i > 0 && string(data) == string(prev) {
					t.Errorf("%s %s: two payloads in a row are the same:\n%s", market, stream, data)
				}
				prev = data
			}
		}
	}
	if opened < 65 {
		t.Errorf("opened %d streams, want every stream with examples (65+)", opened)
	}
}

// exampleStreams returns a wire name of every stream kind with fixtures.
func exampleStreams(t *testing.T, market string) []string {
	var out []string
	for _, kind := range generated.Kinds(market) {
		out = append(out, generated.Fixtures(market, kind)[0].Stream)
	}
	return out
}

func TestMovesValues(t *testing.T) {
	src, _ := Source("spot", 7)
	feed, err := src.Open("ethusdt@aggTrade")
	if err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1_800_000_000_000)
	var last spot.AggTradeEvent
	for i := 0; i < 10; i++ {
		var ev spot.AggTradeEvent
		if err := ev.UnmarshalJSON(feed.Next(now)); err != nil {
			t.Fatal(err)
		}
		if ev.Symbol != "ETHUSDT" {
			t.Errorf("symbol %q, want ETHUSDT", ev.Symbol)
		}
		if !ev.EventTime.Time().Equal(now) {
			t.Errorf("event time %v, want the publish time %v", ev.EventTime.Time(), now)
		}
		if i > 0 && ev.AggTradeID <= last.AggTradeID {
			t.Errorf("aggregate trade id went from %d to %d", last.AggTradeID, ev.AggTradeID)
		}
		last = ev
	}
	if reflect.DeepEqual(last, spot.AggTradeEvent{}) {
		t.Fatal("nothing decoded")
	}
}
