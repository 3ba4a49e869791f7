package wire

import (
	stdjson "encoding/json"
	"testing"

	gojson "github.com/goccy/go-json"
)

func BenchmarkDecoderAggTrade(b *testing.B) {
	data := []byte(aggTradeJSON)
	var e aggTrade
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := e.UnmarshalJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecoderAggTradeNoCopy(b *testing.B) {
	var e aggTrade
	b.SetBytes(int64(len(aggTradeJSON)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var d Decoder
		d.ResetString(aggTradeJSON)
		if err := e.decode(&d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGoJSONAggTrade(b *testing.B) {
	data := []byte(aggTradeJSON)
	var e aggTradePlain
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := gojson.Unmarshal(data, &e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStdlibAggTrade(b *testing.B) {
	data := []byte(aggTradeJSON)
	var e aggTradePlain
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := stdjson.Unmarshal(data, &e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecoderDepth(b *testing.B) {
	data := []byte(depthJSON)
	var e depthUpdate
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := e.UnmarshalJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGoJSONDepth(b *testing.B) {
	data := []byte(depthJSON)
	var e depthPlain
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		e.Bids, e.Asks = e.Bids[:0], e.Asks[:0]
		if err := gojson.Unmarshal(data, &e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSkipDepth(b *testing.B) {
	b.SetBytes(int64(len(depthJSON)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var d Decoder
		d.ResetString(depthJSON)
		if err := d.Skip(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendAggTrade(b *testing.B) {
	var e aggTrade
	if err := e.UnmarshalJSON([]byte(aggTradeJSON)); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = appendAggTrade(buf[:0], &e)
	}
}

func BenchmarkTemplateMatch(b *testing.B) {
	t := MustTemplate("<pair>_<contractType>@continuousKline_<interval>")
	accept := func(param, value string) bool {
		if param == "contractType" {
			return value == "perpetual" || value == "current_quarter" || value == "next_quarter"
		}
		return true
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, ok := t.Match("btcusd_current_quarter@continuousKline_1m", accept); !ok {
			b.Fatal("no match")
		}
	}
}
