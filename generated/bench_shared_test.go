package generated_test

import (
	"testing"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/runtime"
)

// sharedCases decode the payloads of benchCases the way the runtime does:
// through the stream's StreamDecoder, strings aliasing the payload (no copy)
// and the event reused, as with runtime.WithBorrow or WithInline.
var sharedCases = []struct {
	name   string
	data   string
	stream runtime.Stream
}{
	{"aggTrade", aggTradeJSON, spot.AggTradeParams{Symbol: "BNBBTC"}.Stream()},
	{"kline", klineJSON, spot.KlineParams{Symbol: "BNBBTC", Interval: "1m"}.Stream()},
	{"bookTicker", bookTickerJSON, spot.BookTickerParams{Symbol: "BNBUSDT"}.Stream()},
	{"depthUpdate20x20", depthUpdateJSON, usdm.DiffDepthParams{Symbol: "BTCUSDT"}.Stream()},
	{"depth20", depth20JSON, spot.PartialDepthParams{Symbol: "BTCUSDT", Levels: "20"}.Stream()},
	{"miniTickerArr100", miniTickersJSON, spot.AllMiniTickersParams{}.Stream()},
}

// BenchmarkDecodeShared decodes each payload into one reused event through
// the stream's StreamDecoder, as the runtime does for a borrowed event:
// no copy of the payload, slices reused.
func BenchmarkDecodeShared(b *testing.B) {
	for _, sc := range sharedCases {
		data := []byte(sc.data)
		b.Run(sc.name, func(b *testing.B) {
			dec := sc.stream.NewDecoder()
			v, err := dec.Decode(data, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if v, err = dec.Decode(data, v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDecodeSharedAllocations holds the runtime's decode of a borrowed event
// to no allocation once the event's slices have grown.
func TestDecodeSharedAllocations(t *testing.T) {
	for _, sc := range sharedCases {
		data := []byte(sc.data)
		dec := sc.stream.NewDecoder()
		v, err := dec.Decode(data, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := testing.AllocsPerRun(100, func() {
			if v, err = dec.Decode(data, v); err != nil {
				t.Fatal(err)
			}
		})
		if got != 0 {
			t.Errorf("%s: %v allocations per decode into a reused event, want 0", sc.name, got)
		}
	}
}

// BenchmarkSeqRaw reads each payload's sequence key as the socket's reader
// does for a Deferred stream (runtime.Stream.SeqRaw), leaving the decode
// (BenchmarkDecodeShared) to the subscription's goroutine. Array payloads
// have none: reading every element's key costs about two thirds of decoding
// the array, so the reader decodes those once instead.
func BenchmarkSeqRaw(b *testing.B) {
	for _, sc := range sharedCases {
		data := []byte(sc.data)
		b.Run(sc.name, func(b *testing.B) {
			if sc.stream.SeqRaw == nil {
				b.Skip("no SeqRaw")
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := sc.stream.SeqRaw(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
