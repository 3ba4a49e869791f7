package bench

import (
	"context"
	stdjson "encoding/json"
	"fmt"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/generated/zdex"
	"github.com/marketwire/marketwire/runtime"
)

// payload is one stream the benchmarks receive: how the feed builds its
// frames, how each receiver subscribes, and which id it sums.
type payload struct {
	name    string
	market  *runtime.Market
	dialect dialect
	// barePath is what the bare readers dial (relative to the feed's URL):
	// Binance names the stream in the URL; ZDEX subscribes with zdexSub.
	barePath string
	zdexSub  string
	// data returns the data member of frame i (from 0) and the id it
	// carries; frame is the whole frame around it.
	data  func(i int) ([]byte, int64)
	frame func(i int, data []byte) []byte
	// plain decodes a frame as a hand-written client does: goccy/go-json
	// into an envelope with a raw data member, then into a plain struct.
	// It returns the payload's id.
	plain func(msg []byte) (int64, error)
	// subscribe subscribes through the generated helper, with opts; the
	// handler passes each event's id to add.
	subscribe func(ctx context.Context, c runtime.Source, add func(int64), opts ...runtime.SubscribeOption) (*runtime.Subscription, error)
}

// frames serializes k frames of p.
func (p *payload) frames(k int) *frames {
	return serialize(k, func(i int) ([]byte, int64) {
		d, id := p.data(i)
		return p.frame(i, d), id
	})
}

// rawFrames serializes k frames of p's bare data member, as Binance sends on
// a raw /ws/<stream> socket.
func (p *payload) rawFrames(k int) *frames {
	return serialize(k, p.data)
}

func combined(stream string) func(int, []byte) []byte {
	return func(_ int, data []byte) []byte {
		return fmt.Appendf(nil, `{"stream":%q,"data":%s}`, stream, data)
	}
}

func zdexFrame(channel, symbol string) func(int, []byte) []byte {
	return func(i int, data []byte) []byte {
		return fmt.Appendf(nil, `{"channel":%q,"symbol":%q,"data":%s,"ts":%d}`, channel, symbol, data, t0+int64(i))
	}
}

// t0 is the time of the feed's first event, in milliseconds.
const t0 = 1672515782136

// binanceEnvelope and zdexEnvelope are the frames as a hand-written client
// declares them.
type binanceEnvelope struct {
	Stream string             `json:"stream"`
	Data   stdjson.RawMessage `json:"data"`
}

type zdexEnvelope struct {
	Channel string             `json:"channel"`
	Symbol  string             `json:"symbol"`
	Data    stdjson.RawMessage `json:"data"`
	TS      int64              `json:"ts"`
}

// plainBinance decodes msg as a combined-stream frame with a T payload and
// returns id(payload).
func plainBinance[T any](id func(*T) int64) func([]byte) (int64, error) {
	return func(msg []byte) (int64, error) {
		var env binanceEnvelope
		if err := json.Unmarshal(msg, &env); err != nil {
			return 0, err
		}
		var v T
		if err := json.Unmarshal(env.Data, &v); err != nil {
			return 0, err
		}
		return id(&v), nil
	}
}

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

type plainZDEXTicker struct {
	Symbol             string `json:"symbol"`
	LastPrice          string `json:"lastPrice"`
	PriceChange        string `json:"priceChange"`
	PriceChangePercent string `json:"priceChangePercent"`
	HighPrice          string `json:"highPrice"`
	LowPrice           string `json:"lowPrice"`
	Volume             string `json:"volume"`
	QuoteVolume        string `json:"quoteVolume"`
}

// levels returns 20 [price, quantity] levels around mid; seed varies the
// quantities from frame to frame.
func levels(mid, step float64, seed int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; i < 20; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `["%.8f","%.8f"]`, mid+float64(i)*step, 0.125+float64((i+seed)%40)*0.5)
	}
	b.WriteByte(']')
	return b.String()
}

// price returns a price that moves with i, always as wide.
func price(i int) string { return fmt.Sprintf("%.8f", 16800+float64(i%1000)/100) }

// aggTradeData is the payload of aggregate trade id a (1, 2, …) of symbol.
func aggTradeData(symbol string, a int64) []byte {
	return fmt.Appendf(nil, `{"e":"aggTrade","E":%d,"s":%q,"a":%d,"p":%q,"q":"0.01200000","f":%d,"l":%d,"T":%d,"m":true,"M":true}`,
		t0+a, symbol, a, price(int(a)), 3*a, 3*a+2, t0+a)
}

// The ZDEX ticker has no id: the feed carries it as the integer part of the
// volume, which both decoders then parse.
func volumeID(s string) int64 {
	s, _, _ = strings.Cut(s, ".")
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

var payloads = []*payload{
	{
		name:     "aggTrade",
		market:   &spot.Market,
		barePath: "/stream?streams=btcusdt@aggTrade",
		data: func(i int) ([]byte, int64) {
			a := int64(i + 1)
			return aggTradeData("BTCUSDT", a), a
		},
		frame: combined("btcusdt@aggTrade"),
		plain: plainBinance(func(v *plainAggTrade) int64 { return v.AggTradeID }),
		subscribe: func(ctx context.Context, c runtime.Source, add func(int64), opts ...runtime.SubscribeOption) (*runtime.Subscription, error) {
			return spot.SubscribeAggTrade(ctx, c, spot.AggTradeParams{Symbol: "BTCUSDT"}, func(ev *spot.AggTradeEvent) { add(ev.AggTradeID) }, opts...)
		},
	},
	{
		name:     "kline",
		market:   &spot.Market,
		barePath: "/stream?streams=btcusdt@kline_1m",
		data: func(i int) ([]byte, int64) {
			open := int64(1672515780000) + int64(i+1)*60000
			return fmt.Appendf(nil, `{"e":"kline","E":%d,"s":"BTCUSDT","k":{"t":%d,"T":%d,"s":"BTCUSDT","i":"1m","f":%d,"L":%d,"o":%q,"c":%q,"h":"16850.00000000","l":"16790.00000000","v":"1000.12500000","n":100,"x":false,"q":"16800125.00000000","V":"500.00000000","Q":"8400000.00000000","B":"0"}}`,
				open+1000, open, open+59999, 100*i, 100*i+99, price(i), price(i+7)), open
		},
		frame: combined("btcusdt@kline_1m"),
		plain: plainBinance(func(v *plainKline) int64 { return v.Kline.OpenTime }),
		subscribe: func(ctx context.Context, c runtime.Source, add func(int64), opts ...runtime.SubscribeOption) (*runtime.Subscription, error) {
			return spot.SubscribeKline(ctx, c, spot.KlineParams{Symbol: "BTCUSDT", Interval: spot.Interval1m}, func(ev *spot.KlineEvent) { add(int64(ev.Kline.OpenTime)) }, opts...)
		},
	},
	{
		name:     "bookTicker",
		market:   &spot.Market,
		barePath: "/stream?streams=btcusdt@bookTicker",
		data: func(i int) ([]byte, int64) {
			u := int64(400900000 + i + 1)
			return fmt.Appendf(nil, `{"u":%d,"s":"BTCUSDT","b":%q,"B":"31.21000000","a":%q,"A":"40.66000000"}`, u, price(i), price(i+1)), u
		},
		frame: combined("btcusdt@bookTicker"),
		plain: plainBinance(func(v *plainBookTicker) int64 { return v.UpdateID }),
		subscribe: func(ctx context.Context, c runtime.Source, add func(int64), opts ...runtime.SubscribeOption) (*runtime.Subscription, error) {
			return spot.SubscribeBookTicker(ctx, c, spot.BookTickerParams{Symbol: "BTCUSDT"}, func(ev *spot.BookTickerEvent) { add(ev.UpdateID) }, opts...)
		},
	},
	{
		// USD-M diff depth, 20 bid and 20 ask levels, on the /public route.
		name:     "depthUpdate20x20",
		market:   &usdm.Market,
		barePath: "/public/stream?streams=btcusdt@depth@100ms",
		data: func(i int) ([]byte, int64) {
			u := int64(i+1) * 10
			return fmt.Appendf(nil, `{"e":"depthUpdate","E":%d,"T":%d,"s":"BTCUSDT","U":%d,"u":%d,"pu":%d,"b":%s,"a":%s}`,
				t0+int64(i), t0+int64(i)-6, u-9, u, u-10, levels(16800, -0.1, i), levels(16800.1, 0.1, i+3)), u
		},
		frame: combined("btcusdt@depth@100ms"),
		plain: plainBinance(func(v *plainDepthUpdate) int64 { return v.FinalUpdateID }),
		subscribe: func(ctx context.Context, c runtime.Source, add func(int64), opts ...runtime.SubscribeOption) (*runtime.Subscription, error) {
			return usdm.SubscribeDiffDepth(ctx, c, usdm.DiffDepthParams{Symbol: "BTCUSDT", Speed: usdm.DepthSpeed100ms}, func(ev *usdm.DepthUpdateEvent) { add(ev.FinalUpdateID) }, opts...)
		},
	},
	{
		// Spot partial book depth, 20 levels a side.
		name:     "depth20",
		market:   &spot.Market,
		barePath: "/stream?streams=btcusdt@depth20",
		data: func(i int) ([]byte, int64) {
			u := int64(1027024 + i + 1)
			return fmt.Appendf(nil, `{"lastUpdateId":%d,"bids":%s,"asks":%s}`, u, levels(16800, -0.1, i), levels(16800.1, 0.1, i+3)), u
		},
		frame: combined("btcusdt@depth20"),
		plain: plainBinance(func(v *plainPartialDepth) int64 { return v.LastUpdateID }),
		subscribe: func(ctx context.Context, c runtime.Source, add func(int64), opts ...runtime.SubscribeOption) (*runtime.Subscription, error) {
			return spot.SubscribePartialDepth(ctx, c, spot.PartialDepthParams{Symbol: "BTCUSDT", Levels: spot.DepthLevels20}, func(ev *spot.PartialDepthEvent) { add(ev.LastUpdateID) }, opts...)
		},
	},
	{
		name:    "zdexTicker",
		market:  &zdex.Market,
		dialect: zdexDialect,
		zdexSub: `{"action":"subscribe","channel":"ticker","symbol":"BTCUSDT"}`,
		data: func(i int) ([]byte, int64) {
			v := int64(12543 + i + 1)
			return fmt.Appendf(nil, `{"symbol":"BTCUSDT","lastPrice":%q,"priceChange":"1052.3","priceChangePercent":"1.503","highPrice":"71500.0","lowPrice":"69200.0","volume":"%d.231","quoteVolume":"891234567.89"}`,
				fmt.Sprintf("%.1f", 71000+float64(i%1000)/10), v), v
		},
		frame: zdexFrame("ticker", "BTCUSDT"),
		plain: func(msg []byte) (int64, error) {
			var env zdexEnvelope
			if err := json.Unmarshal(msg, &env); err != nil {
				return 0, err
			}
			var v plainZDEXTicker
			if err := json.Unmarshal(env.Data, &v); err != nil {
				return 0, err
			}
			return volumeID(v.Volume), nil
		},
		subscribe: func(ctx context.Context, c runtime.Source, add func(int64), opts ...runtime.SubscribeOption) (*runtime.Subscription, error) {
			return zdex.SubscribeTicker(ctx, c, zdex.TickerParams{Symbol: "BTCUSDT"}, func(ev *zdex.TickerEvent) { add(volumeID(ev.Volume.String())) }, opts...)
		},
	},
}
