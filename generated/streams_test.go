package generated_test

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/marketwire/marketwire/gen"
	"github.com/marketwire/marketwire/generated/coinm"
	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/generated/options"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/wire"
)

// loadModel returns the model of the schema, loaded once.
func loadModel(t *testing.T) *gen.Model {
	t.Helper()
	model.once.Do(func() {
		s, err := gen.LoadFile("../schema/streams.yaml")
		if err == nil {
			model.m, err = gen.NewModel(s)
		}
		model.err = err
	})
	if model.err != nil {
		t.Fatal(model.err)
	}
	return model.m
}

var model struct {
	once sync.Once
	m    *gen.Model
	err  error
}

// schemaStreams lists "market/stream" for every stream of the markets under test.
func schemaStreams(t *testing.T) []string {
	var out []string
	for _, m := range loadModel(t).Markets {
		for _, s := range m.Streams {
			out = append(out, m.Name+"/"+s.Name)
		}
	}
	return out
}

// TestStreamNameRoundTrip builds, for every stream, parameters with every
// value of every enum parameter (and each optional parameter both set and
// empty), and checks params → name → parse → the same params.
func TestStreamNameRoundTrip(t *testing.T) {
	fixtures := map[string]string{} // market/stream → a wire name from a fixture
	for _, f := range loadFixtures(t) {
		if f.Decoder == "" {
			fixtures[f.market+"/"+f.stream] = f.Stream
		}
	}
	checked := 0
	for _, m := range loadModel(t).Markets {
		mk := markets.All[m.Name]
		for _, s := range m.Streams {
			base, err := mk.ParseStream(fixtures[m.Name+"/"+s.Name])
			if err != nil {
				t.Errorf("%s/%s: %v", m.Name, s.Name, err)
				continue
			}
			for _, p := range s.Params {
				var values []string
				if p.Enum != nil {
					for _, v := range p.Enum.Values {
						values = append(values, v.Wire)
					}
				}
				if p.Optional {
					values = append(values, "")
				}
				for _, val := range values {
					pv := reflect.New(reflect.TypeOf(base)).Elem()
					pv.Set(reflect.ValueOf(base))
					pv.FieldByName(p.GoName).SetString(val)
					want := pv.Interface().(markets.Stream)
					if err := want.Validate(); err != nil {
						t.Errorf("%s/%s %s=%q: %v", m.Name, s.Name, p.Name, val, err)
						continue
					}
					name := want.StreamName()
					got, err := mk.ParseStream(name)
					if err != nil {
						t.Errorf("%s/%s: parse(%q): %v", m.Name, s.Name, name, err)
						continue
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s/%s: %#v → %q → %#v", m.Name, s.Name, want, name, got)
					}
					checked++
				}
			}
		}
	}
	t.Logf("%d parameter combinations round-tripped", checked)
}

func TestStreamNames(t *testing.T) {
	for _, tc := range []struct {
		p    markets.Stream
		want string
	}{
		{spot.AggTradeParams{Symbol: "BTCUSDT"}, "btcusdt@aggTrade"},
		{spot.KlineParams{Symbol: "BTCUSDT", Interval: spot.Interval1s}, "btcusdt@kline_1s"},
		{spot.KlineTimezoneParams{Symbol: "BNBBTC", Interval: spot.Interval1M, Timezone: spot.Timezone0800}, "bnbbtc@kline_1M@+08:00"},
		{spot.PartialDepthParams{Symbol: "ETHUSDT", Levels: spot.DepthLevels20, Speed: spot.DepthSpeed100ms}, "ethusdt@depth20@100ms"},
		{spot.DiffDepthParams{Symbol: "ETHUSDT"}, "ethusdt@depth"},
		{spot.AllWindowTickersParams{Window: spot.WindowSize4h}, "!ticker_4h@arr"},
		{usdm.ContinuousKlineParams{Pair: "BTCUSDT", ContractType: usdm.ContractTypePerpetual, Interval: usdm.ContinuousKlineInterval15m}, "btcusdt_perpetual@continuousKline_15m"},
		{usdm.AllMarkPricesParams{Speed: usdm.MarkPriceSpeed1s}, "!markPrice@arr@1s"},
		{usdm.TradingSessionParams{}, "tradingSession"},
		{coinm.ContinuousKlineParams{Pair: "BTCUSD", ContractType: coinm.ContractTypeNextQuarter, Interval: coinm.Interval1h}, "btcusd_next_quarter@continuousKline_1h"},
		{options.OpenInterestParams{Underlying: "ETHUSDT", ExpirationDate: "251226"}, "ethusdt@openInterest@251226"},
		{options.PartialDepthParams{Symbol: "BTC-251226-110000-C", Levels: options.DepthLevel10, Speed: options.DepthSpeed500ms}, "btc-251226-110000-c@depth10@500ms"},
	} {
		if err := tc.p.Validate(); err != nil {
			t.Errorf("%#v: %v", tc.p, err)
		}
		if got := tc.p.StreamName(); got != tc.want {
			t.Errorf("%#v.StreamName() = %q, want %q", tc.p, got, tc.want)
		}
	}
}

// TestInvalidParams checks that bad parameters are rejected with an error
// naming the market, stream, parameter and the allowed values.
func TestInvalidParams(t *testing.T) {
	for _, tc := range []struct {
		p    markets.Stream
		want string
	}{
		{spot.AggTradeParams{}, `spot: stream aggTrade: parameter symbol: is required`},
		{spot.AggTradeParams{Symbol: "btc@usdt"}, `spot: stream aggTrade: parameter symbol: "btc@usdt" is not a valid symbol (it contains '@')`},
		{spot.AggTradeParams{Symbol: "BTC USDT"}, `spot: stream aggTrade: parameter symbol: "BTC USDT" is not a valid symbol (it contains ' ')`},
		{spot.KlineParams{Symbol: "BTCUSDT", Interval: "2m"}, `spot: stream kline: parameter interval: "2m" is not a valid Interval (allowed: 1s, 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w, 1M)`},
		{spot.KlineParams{Symbol: "BTCUSDT"}, `spot: stream kline: parameter interval: empty; it must be a Interval (allowed: 1s,`},
		{usdm.KlineParams{Symbol: "BTCUSDT", Interval: "1s"}, `usdm: stream kline: parameter interval: "1s" is not a valid Interval`},
		{spot.PartialDepthParams{Symbol: "BTCUSDT", Levels: "15"}, `spot: stream partialDepth: parameter levels: "15" is not a valid DepthLevels (allowed: 5, 10, 20)`},
		{spot.PartialDepthParams{Symbol: "BTCUSDT", Levels: "5", Speed: "250ms"}, `spot: stream partialDepth: parameter speed: "250ms" is not a valid DepthSpeed (allowed: 100ms)`},
		{usdm.DiffDepthParams{Symbol: "BTCUSDT", Speed: "1s"}, `usdm: stream diffDepth: parameter speed: "1s" is not a valid DepthSpeed (allowed: 500ms, 100ms)`},
		{options.DiffDepthParams{Symbol: "BTC-251226-110000-C"}, `options: stream diffDepth: parameter speed: empty; it must be a DepthSpeed (allowed: 100ms, 500ms)`},
		{options.OpenInterestParams{Underlying: "ETHUSDT", ExpirationDate: "2025-12-26"}, `options: stream openInterest: parameter expirationDate: "2025-12-26" does not match ^[0-9]{6}$`},
		{options.OpenInterestParams{Underlying: "ETHUSDT"}, `options: stream openInterest: parameter expirationDate: is required`},
	} {
		err := tc.p.Validate()
		if err == nil {
			t.Errorf("%#v: Validate() = nil, want %q", tc.p, tc.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%#v: Validate() = %q, want prefix %q", tc.p, err, tc.want)
		}
		var pe *wire.ParamError
		if !errors.As(err, &pe) {
			t.Errorf("%#v: error is %T, want *wire.ParamError", tc.p, err)
		}
	}
}

func TestParseStreamRejects(t *testing.T) {
	for _, name := range []string{
		"", "btcusdt", "btcusdt@kline_2m", "btcusdt@depth7", "btcusdt@depth5@250ms",
		"btcusdt@kline_1m@+09:00", "@aggTrade", "btc/usdt@aggTrade", "!ticker_2h@arr",
	} {
		if p, err := spot.ParseStream(name); err == nil {
			t.Errorf("spot.ParseStream(%q) = %#v, want an error", name, p)
		}
	}
	_, err := spot.ParseStream("btcusdt@nope")
	if err == nil || err.Error() != `spot: unknown stream "btcusdt@nope"` {
		t.Errorf("error = %v", err)
	}
}
