package generated_test

import (
	stdjson "encoding/json"
	"fmt"
	"strings"
	"testing"

	goccy "github.com/goccy/go-json"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
)

// The benchmarks decode the same payloads three ways: the generated decoder
// into the generated types, and goccy/go-json and encoding/json into plain
// structs with the same fields (decimals as strings, as hand-written clients
// do). Each destination is reused across iterations.

const (
	aggTradeJSON   = `{"e":"aggTrade","E":1672515782136,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","f":100,"l":105,"T":1672515782136,"m":true,"M":true}`
	tradeJSON      = `{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true}`
	klineJSON      = `{"e":"kline","E":1672515782136,"s":"BNBBTC","k":{"t":1672515780000,"T":1672515839999,"s":"BNBBTC","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}`
	bookTickerJSON = `{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}`
)

type plainAggTrade struct {
	EventType    string `json:"e"`
	EventTime    int64  `json:"E"`
	Symbol       string `json:"s"`
	AggTradeID   int64  `json:"a"`
	Price        string `json:"p"`
	Quantity     string `json:"q"`
	FirstTradeID int64  `json:"f"`
	LastTradeID  int64  `json:"l"`
	TradeTime    int64  `json:"T"`
	IsBuyerMaker bool   `json:"m"`
	Ignore       bool   `json:"M"`
}

type plainTrade struct {
	EventType    string `json:"e"`
	EventTime    int64  `json:"E"`
	Symbol       string `json:"s"`
	TradeID      int64  `json:"t"`
	Price        string `json:"p"`
	Quantity     string `json:"q"`
	TradeTime    int64  `json:"T"`
	IsBuyerMaker bool   `json:"m"`
	Ignore       bool   `json:"M"`
}

type plainKline struct {
	EventType string `json:"e"`
	EventTime int64  `json:"E"`
	Symbol    string `json:"s"`
	Kline     struct {
		OpenTime            int64  `json:"t"`
		CloseTime           int64  `json:"T"`
		Symbol              string `json:"s"`
		Interval            string `json:"i"`
		FirstTradeID        int64  `json:"f"`
		LastTradeID         int64  `json:"L"`
		OpenPrice           string `json:"o"`
		ClosePrice          string `json:"c"`
		HighPrice           string `json:"h"`
		LowPrice            string `json:"l"`
		Volume              string `json:"v"`
		TradeCount          int64  `json:"n"`
		IsClosed            bool   `json:"x"`
		QuoteVolume         string `json:"q"`
		TakerBuyBaseVolume  string `json:"V"`
		TakerBuyQuoteVolume string `json:"Q"`
		Ignore              string `json:"B"`
	} `json:"k"`
}

type plainBookTicker struct {
	UpdateID        int64  `json:"u"`
	Symbol          string `json:"s"`
	BestBidPrice    string `json:"b"`
	BestBidQuantity string `json:"B"`
	BestAskPrice    string `json:"a"`
	BestAskQuantity string `json:"A"`
}

type plainDepthUpdate struct {
	EventType       string      `json:"e"`
	EventTime       int64       `json:"E"`
	TransactionTime int64       `json:"T"`
	Symbol          string      `json:"s"`
	FirstUpdateID   int64       `json:"U"`
	FinalUpdateID   int64       `json:"u"`
	PrevUpdateID    int64       `json:"pu"`
	Bids            [][2]string `json:"b"`
	Asks            [][2]string `json:"a"`
}

type plainPartialDepth struct {
	LastUpdateID int64       `json:"lastUpdateId"`
	Bids         [][2]string `json:"bids"`
	Asks         [][2]string `json:"asks"`
}

type plainMiniTicker struct {
	EventType   string `json:"e"`
	EventTime   int64  `json:"E"`
	Symbol      string `json:"s"`
	LastPrice   string `json:"c"`
	OpenPrice   string `json:"o"`
	HighPrice   string `json:"h"`
	LowPrice    string `json:"l"`
	Volume      string `json:"v"`
	QuoteVolume string `json:"q"`
}

// levels returns n [price, quantity] levels around mid.
func levels(n int, mid float64, step float64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `["%.8f","%.8f"]`, mid+float64(i)*step, 0.125+float64(i)*0.5)
	}
	b.WriteByte(']')
	return b.String()
}

// depthUpdateJSON is a USD-M diff-depth update with 20 bid and 20 ask levels.
var depthUpdateJSON = `{"e":"depthUpdate","E":1672515782136,"T":1672515782130,"s":"BTCUSDT","U":157,"u":160,"pu":149,"b":` +
	levels(20, 16800, -0.1) + `,"a":` + levels(20, 16800.1, 0.1) + `}`

// depth20JSON is a spot depth20 snapshot.
var depth20JSON = `{"lastUpdateId":160,"bids":` + levels(20, 16800, -0.1) + `,"asks":` + levels(20, 16800.1, 0.1) + `}`

// miniTickersJSON is a !miniTicker@arr frame with 100 entries.
var miniTickersJSON = func() string {
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; i < 100; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"e":"24hrMiniTicker","E":1672515782136,"s":"SYM%dUSDT","c":"%d.0025","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18"}`, i, i)
	}
	b.WriteByte(']')
	return b.String()
}()

type benchCase struct {
	name       string
	data       string
	marketwire func() interface{ UnmarshalJSON([]byte) error }
	plain      func() any
}

var benchCases = []benchCase{
	{"aggTrade", aggTradeJSON, func() interface{ UnmarshalJSON([]byte) error } { return new(spot.AggTradeEvent) }, func() any { return new(plainAggTrade) }},
	{"trade", tradeJSON, func() interface{ UnmarshalJSON([]byte) error } { return new(spot.TradeEvent) }, func() any { return new(plainTrade) }},
	{"kline", klineJSON, func() interface{ UnmarshalJSON([]byte) error } { return new(spot.KlineEvent) }, func() any { return new(plainKline) }},
	{"bookTicker", bookTickerJSON, func() interface{ UnmarshalJSON([]byte) error } { return new(spot.BookTickerEvent) }, func() any { return new(plainBookTicker) }},
	{"depthUpdate20x20", depthUpdateJSON, func() interface{ UnmarshalJSON([]byte) error } { return new(usdm.DepthUpdateEvent) }, func() any { return new(plainDepthUpdate) }},
	{"depth20", depth20JSON, func() interface{ UnmarshalJSON([]byte) error } { return new(spot.PartialDepthEvent) }, func() any { return new(plainPartialDepth) }},
	{"miniTickerArr100", miniTickersJSON, func() interface{ UnmarshalJSON([]byte) error } { return new(spot.MiniTickerEvents) }, func() any { return new([]plainMiniTicker) }},
}

func BenchmarkDecode(b *testing.B) {
	for _, bc := range benchCases {
		data := []byte(bc.data)
		b.Run(bc.name+"/marketwire", func(b *testing.B) {
			v := bc.marketwire()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := v.UnmarshalJSON(data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/goccy", func(b *testing.B) {
			v := bc.plain()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := goccy.Unmarshal(data, v); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/encoding_json", func(b *testing.B) {
			v := bc.plain()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := stdjson.Unmarshal(data, v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, bc := range benchCases {
		v := bc.marketwire()
		if err := v.UnmarshalJSON([]byte(bc.data)); err != nil {
			b.Fatal(err)
		}
		enc := v.(interface{ AppendJSON([]byte) []byte })
		b.Run(bc.name+"/marketwire", func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				buf = enc.AppendJSON(buf[:0])
			}
		})
	}
}

// TestDecodeAllocations holds the generated decoders to their allocation
// budget: one allocation (the copy of the payload that strings share) per
// fixed-size event, and no more than one per slice for the others once
// their slices have grown.
func TestDecodeAllocations(t *testing.T) {
	budget := map[string]float64{
		"aggTrade": 1, "trade": 1, "kline": 1, "bookTicker": 1,
		"depthUpdate20x20": 1, "depth20": 1, "miniTickerArr100": 1,
	}
	for _, bc := range benchCases {
		v := bc.marketwire()
		data := []byte(bc.data)
		if err := v.UnmarshalJSON(data); err != nil {
			t.Fatal(err)
		}
		got := testing.AllocsPerRun(100, func() {
			if err := v.UnmarshalJSON(data); err != nil {
				t.Fatal(err)
			}
		})
		if got > budget[bc.name] {
			t.Errorf("%s: %v allocations per decode, budget %v", bc.name, got, budget[bc.name])
		}
	}
}

// Payloads with one key the schema does not know: the decoders skip it and
// record it in the drift report (wire.DriftReport).
var (
	aggTradeUnknownJSON = strings.TrimSuffix(aggTradeJSON, "}") + `,"X":42}`
	klineUnknownJSON    = strings.TrimSuffix(klineJSON, "}}") + `,"X":"new"}}`
)

// BenchmarkDecodeUnknownKey decodes payloads with one unknown key, top
// level (aggTrade) and nested (kline's k); BenchmarkDecode has the same
// payloads without it.
func BenchmarkDecodeUnknownKey(b *testing.B) {
	for _, bc := range []struct {
		name string
		data string
		v    interface{ UnmarshalJSON([]byte) error }
	}{
		{"aggTrade", aggTradeUnknownJSON, new(spot.AggTradeEvent)},
		{"kline", klineUnknownJSON, new(spot.KlineEvent)},
	} {
		data := []byte(bc.data)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := bc.v.UnmarshalJSON(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
