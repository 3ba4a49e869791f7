// Package synth makes payloads for every stream of every generated market,
// so the simulator can serve any stream in the schema.
//
// Each stream's feed starts from the documented example of that stream (the
// first of generated.Fixtures) and moves it with time: every timestamp is shifted
// so the newest is the publish time (relative offsets such as a candle's open
// and close stay intact), ids (and block heights) advance on every message, prices follow a
// random walk, quantities vary, and the symbol is the subscribed one. The
// result always decodes with the market's own decoder, because it is
// produced by it.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/marketwire/marketwire/generated"
	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/wire"
)

// Source returns a sim.Source for every stream of the named market.
func Source(market string, seed uint64) (sim.Source, error) {
	m, ok := markets.All[market]
	if !ok {
		return nil, fmt.Errorf("synth: unknown market %q", market)
	}
	return sim.SourceFunc(func(stream string) (sim.Feed, error) {
		p, err := m.ParseStream(stream)
		if err != nil {
			return nil, err
		}
		fixtures := generated.Fixtures(market, p.Kind())
		if len(fixtures) == 0 {
			return nil, fmt.Errorf("synth: no examples of %s stream %q", market, p.Kind())
		}
		if _, err := m.Decode(fixtures[0].Stream, fixtures[0].Data); err != nil {
			return nil, fmt.Errorf("synth: example of %q: %w", stream, err)
		}
		f := &feed{template: fixtures[0], decode: m.Decode, walk: 1, symbol: symbolOf(p),
			rng: rand.New(rand.NewPCG(seed, uint64(len(stream))))}
		return f, nil
	}), nil
}

// symbolOf returns the upper-case symbol a stream's parameters name, if any.
func symbolOf(p markets.Stream) string {
	v := reflect.ValueOf(p)
	for _, name := range []string{"Symbol", "Pair", "Underlying"} {
		if f := v.FieldByName(name); f.IsValid() && f.Kind() == reflect.String && f.String() != "" {
			return strings.ToUpper(f.String())
		}
	}
	return ""
}

type feed struct {
	template generated.Fixture
	decode   func(stream string, data []byte) (markets.Payload, error)
	rng      *rand.Rand
	tick     int64
	walk     float64 // price multiplier, a random walk around 1
	symbol   string
}

// Next returns the next payload: the example, moved to now.
func (f *feed) Next(now time.Time) []byte {
	v, err := f.decode(f.template.Stream, f.template.Data)
	if err != nil {
		return nil // cannot happen: the template decoded in Source
	}
	f.tick++
	f.walk *= 1 + (f.rng.Float64()-0.5)*0.002
	m := mover{f: f, shiftMs: now.UnixMilli() - newestMillis(reflect.ValueOf(v))}
	m.move(reflect.ValueOf(v), "")
	return v.AppendJSON(nil)
}

var (
	decimalType = reflect.TypeOf(wire.Decimal{})
	timeUnits   = map[reflect.Type]float64{ // units per millisecond
		reflect.TypeOf(wire.Seconds(0)): 1e-3,
		reflect.TypeOf(wire.Millis(0)):  1,
		reflect.TypeOf(wire.Micros(0)):  1e3,
		reflect.TypeOf(wire.Nanos(0)):   1e6,
	}
)

// newestMillis returns the latest timestamp in v, in milliseconds.
func newestMillis(v reflect.Value) int64 {
	var newest int64
	walk(v, func(v reflect.Value, _ string) {
		if per, ok := timeUnits[v.Type()]; ok && v.Int() > 0 {
			newest = max(newest, int64(float64(v.Int())/per))
		}
	})
	return newest
}

// walk calls fn for every non-struct, non-slice value reachable from v, with
// the Go name of the field holding it.
func walk(v reflect.Value, fn func(v reflect.Value, field string)) {
	var rec func(v reflect.Value, field string)
	rec = func(v reflect.Value, field string) {
		switch {
		case v.Kind() == reflect.Pointer:
			if !v.IsNil() {
				rec(v.Elem(), field)
			}
		case v.Type() == decimalType:
			fn(v, field)
		case v.Kind() == reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).IsExported() {
					rec(v.Field(i), v.Type().Field(i).Name)
				}
			}
		case v.Kind() == reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				rec(v.Index(i), field)
			}
		default:
			fn(v, field)
		}
	}
	rec(v, "")
}

type mover struct {
	f       *feed
	shiftMs int64
}

func (m mover) move(v reflect.Value, _ string) {
	walk(v, func(v reflect.Value, field string) {
		switch {
		case v.Type() == decimalType:
			d := v.Interface().(wire.Decimal)
			if !d.IsSet() || d.IsZero() {
				return
			}
			switch {
			case isPrice(field):
				v.Set(reflect.ValueOf(scale(d, m.f.walk)))
			case isQuantity(field):
				v.Set(reflect.ValueOf(scale(d, 0.5+m.f.rng.Float64())))
			}
		case timeUnits[v.Type()] != 0:
			if v.Int() > 0 {
				v.SetInt(v.Int() + int64(float64(m.shiftMs)*timeUnits[v.Type()]))
			}
		case v.Kind() == reflect.Int64 && (strings.HasSuffix(field, "ID") || strings.HasSuffix(field, "Height")) && v.Int() > 0:
			v.SetInt(v.Int() + m.f.tick*1000)
		case v.Kind() == reflect.Bool && field == "IsBuyerMaker":
			v.SetBool(m.f.rng.IntN(2) == 0)
		case v.Kind() == reflect.String && field == "Symbol" && m.f.symbol != "" && v.String() != "":
			v.SetString(m.f.symbol)
		}
	})
}

func isPrice(field string) bool {
	return strings.Contains(field, "Price") || strings.HasSuffix(field, "Index")
}

func isQuantity(field string) bool {
	return strings.Contains(field, "Quantity") || strings.Contains(field, "Volume")
}

// scale multiplies d by k, keeping its number of decimal places.
func scale(d wire.Decimal, k float64) wire.Decimal {
	s := d.String()
	places := 0
	if i := strings.IndexByte(s, '.'); i >= 0 && !strings.ContainsAny(s, "eE") {
		places = len(s) - i - 1
	}
	x := d.Float64() * k
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return d
	}
	out, err := wire.ParseDecimal(strconv.FormatFloat(x, 'f', places, 64))
	if err != nil {
		return d
	}
	return out
}
