// Package synth makes payloads for every stream of every generated market,
// so the simulator can serve any stream in the schema.
//
// Each stream's feed starts from a template: the documented example of the
// stream (the first of generated.Fixtures) or, for a stream that has none
// (one just added to the schema), a payload synthesized from the stream's
// payload type, which the source says once through Config.Logf. The feed
// moves the template with time:
//
//   - every timestamp is shifted so that the event time is the publish time
//     (relative offsets such as a funding time stay intact);
//   - prices follow one model per symbol, shared by every stream of the
//     source: the symbol's order-book model (sim.Book) on markets that have
//     one, else a random walk; both start at sim.StartMid(symbol), so every
//     process agrees on a symbol's price. A template's prices are rescaled
//     together (high stays above low), and bid and ask levels are laid out
//     below and above the mid;
//   - every other decimal (quantities, volumes, rates, greeks, percentages)
//     varies around its template value, and counts vary too;
//   - ids, update ids and block heights advance with every event (diff-depth
//     U, u and pu chain), so the runtime sees no false gap;
//   - klines follow their interval: each event is of the candle holding the
//     publish time, and every candle is closed once (x true) by the first
//     event after its close time, none skipped;
//   - the symbol is the subscribed one.
//
// The result always decodes with the market's own decoder, because it is
// produced by the generated encoder and checked when the stream opens.
package synth

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/wire"
)

// Source returns a sim.Source for every stream of the named market. It is
// NewSource with Config{Seed: seed}.
func Source(market string, seed uint64) (sim.Source, error) {
	return NewSource(market, Config{Seed: seed})
}

// NewSource returns a sim.Source for every stream of the named market: it
// opens every stream name the market's ParseStream accepts.
func NewSource(market string, cfg Config) (sim.Source, error) {
	m, ok := markets.All[market]
	if !ok {
		return nil, fmt.Errorf("synth: unknown market %q", market)
	}
	return newWorld(market, m, cfg).source(), nil
}

func (w *world) source() sim.Source {
	return sim.SourceFunc(func(stream string) (sim.Feed, error) {
		f, err := w.open(stream)
		if err != nil {
			var invalid *invalidStreamError
			if !errors.As(err, &invalid) {
				// The server keeps the stream subscribed but silent: say why.
				w.logOnce("fail "+stream, "synth: %s stream %q gets no data: %v", w.name, stream, err)
			}
			return nil, err
		}
		return f, nil
	})
}

type invalidStreamError struct{ err error }

func (e *invalidStreamError) Error() string { return e.err.Error() }
func (e *invalidStreamError) Unwrap() error { return e.err }

func (w *world) open(stream string) (*feed, error) {
	p, err := w.m.ParseStream(stream)
	if err != nil {
		return nil, &invalidStreamError{err}
	}
	f := &feed{w: w, stream: stream, symbol: symbolOf(p), params: reflect.ValueOf(p),
		rng: rand.New(rand.NewPCG(w.cfg.Seed, symbolSeed(stream)))}
	if st, ok := p.(interface{ Stream() runtime.Stream }); ok {
		f.seq = st.Stream().Seq
	}
	if fixtures := w.cfg.fixtures(w.name, p.Kind()); len(fixtures) > 0 {
		f.tmplStream, f.tmplData = fixtures[0].Stream, fixtures[0].Data
		if _, err := w.m.Decode(f.tmplStream, f.tmplData); err != nil {
			return nil, fmt.Errorf("synth: example of %q: %w", stream, err)
		}
	} else {
		data, err := synthesize(w.m, stream, p, f.symbol)
		if err != nil {
			return nil, err
		}
		f.tmplStream, f.tmplData = stream, data
		w.logOnce("synth "+stream, "synth: %s stream %q has no examples (generated/testdata/%s/%s): its values are synthesized from the schema's types",
			w.name, stream, w.name, p.Kind())
	}
	v, _ := w.m.Decode(f.tmplStream, f.tmplData)
	f.counts = map[string]int64{}
	walk(reflect.ValueOf(v), func(v reflect.Value, field string) {
		if isID(field) && isInt(v) {
			f.counts[field]++
		}
	})
	f.interval = f.klineInterval(reflect.ValueOf(v))
	return f, nil
}

// symbolOf returns the upper-case symbol a stream's parameters name, if any.
func symbolOf(p markets.Stream) string {
	v := reflect.ValueOf(p)
	for _, name := range symbolFields {
		if f := v.FieldByName(name); f.IsValid() && f.Kind() == reflect.String && f.String() != "" {
			return strings.ToUpper(f.String())
		}
	}
	return ""
}

// symbolFields are the names of the fields that name an instrument, in
// order of preference.
var symbolFields = []string{"Symbol", "Pair", "Underlying"}

type feed struct {
	w          *world
	stream     string
	tmplStream string // stream name the template decodes with
	tmplData   []byte // the template payload
	symbol     string // upper-case symbol of the stream's parameters, if any
	params     reflect.Value
	seq        func(v any) runtime.Seq
	rng        *rand.Rand
	tick       int64
	walk       float64          // price multiplier of prices with no symbol, a random walk around 1
	counts     map[string]int64 // id field -> occurrences in the template
	lastFinal  int64            // diff depth: the previous event's last update id
	interval   string           // klines: the candle interval ("raw": ivDur; "" for payloads without candles)
	ivDur      time.Duration    // klines: the interval of a "raw" one
	tz         time.Duration    // klines: the UTC offset of the windows
	ref        float64          // klines: the template candle's first price
	candle     *candle          // klines: the open candle
}

// Next returns the next payload: the template, moved to now.
func (f *feed) Next(now time.Time) []byte {
	v, err := f.w.m.Decode(f.tmplStream, f.tmplData)
	if err != nil {
		return nil // cannot happen: the template decoded in open
	}
	f.tick++
	if f.walk == 0 {
		f.walk = 1
	}
	f.walk *= 1 + (f.rng.Float64()-0.5)*0.002
	f.walk += (1 - f.walk) * 0.002
	m := &mover{f: f, now: now, shiftMs: now.UnixMilli() - anchorMillis(reflect.ValueOf(v))}
	if f.interval != "" {
		m.k = f.candleAt(now)
	}
	m.value(reflect.ValueOf(v), "", scope{})
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

func isTime(v reflect.Value) bool { return timeUnits[v.Type()] != 0 }

func isInt(v reflect.Value) bool {
	return v.Kind() == reflect.Int64 && !isTime(v)
}

// anchorMillis returns the time that becomes the publish time, in
// milliseconds: the latest event time in v, else its latest timestamp.
func anchorMillis(v reflect.Value) int64 {
	var event, newest int64
	walk(v, func(v reflect.Value, field string) {
		if per, ok := timeUnits[v.Type()]; ok && v.Int() > 0 {
			ms := int64(float64(v.Int()) / per)
			newest = max(newest, ms)
			if field == "EventTime" {
				event = max(event, ms)
			}
		}
	})
	if event > 0 {
		return event
	}
	return newest
}

// walk calls fn for every non-struct, non-slice value reachable from v, with
// the Go name of the field holding it.
func walk(v reflect.Value, fn func(v reflect.Value, field string)) {
	var rec func(v reflect.Value, field string)
	rec = func(v reflect.Value, field string) {
		switch {
		case v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface:
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
		case v.Kind() == reflect.Slice || v.Kind() == reflect.Array:
			for i := 0; i < v.Len(); i++ {
				rec(v.Index(i), field)
			}
		default:
			fn(v, field)
		}
	}
	rec(v, "")
}

// Field classes, by the Go names the generator gives fields.

// isPrice reports a price: it follows the symbol's price model.
func isPrice(field string) bool {
	if strings.Contains(field, "PriceChange") {
		return false
	}
	if strings.Contains(field, "Price") || strings.HasSuffix(field, "Index") {
		return true
	}
	switch field {
	case "Open", "High", "Low", "Close":
		return true
	}
	return false
}

// isPriceDiff reports a price difference: it scales with the prices.
func isPriceDiff(field string) bool {
	return strings.Contains(field, "PriceChange") && !strings.Contains(field, "Percent")
}

// isID reports an id, an update id or a block height: it advances.
func isID(field string) bool {
	return strings.HasSuffix(field, "ID") || strings.HasSuffix(field, "Id") || strings.HasSuffix(field, "Height")
}

// isCount reports a count: it varies.
func isCount(field string) bool { return strings.Contains(field, "Count") }

// scope is the instrument a part of a payload is about.
type scope struct {
	symbol string  // upper case; "" when none is known
	mid    float64 // the symbol's price now (0 without a symbol)
	start  float64 // the symbol's starting price
	ratio  float64 // mid / the template's reference price (0: use the feed's walk)
}

type mover struct {
	f       *feed
	now     time.Time
	shiftMs int64
	k       *candleState // the candle this event shows, for payloads with klines
}

// value moves v (a field named field, in scope sc) in place.
func (m *mover) value(v reflect.Value, field string, sc scope) {
	switch {
	case v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface:
		if !v.IsNil() {
			m.value(v.Elem(), field, sc)
		}
	case v.Type() == decimalType:
		m.decimal(v, field, sc)
	case v.Kind() == reflect.Struct:
		m.object(v, sc)
	case v.Kind() == reflect.Slice || v.Kind() == reflect.Array:
		m.list(v, field, sc)
	default:
		m.leaf(v, field)
	}
}

// object moves a struct: it opens a new scope when it names a symbol, chains
// update ids and lays out a candle.
func (m *mover) object(v reflect.Value, sc scope) {
	f := m.f
	for _, name := range symbolFields {
		s := v.FieldByName(name)
		if !s.IsValid() || s.Kind() != reflect.String || s.String() == "" {
			continue
		}
		sym := s.String()
		if f.symbol != "" {
			sym = f.symbol
		}
		if strings.ToUpper(sym) != sc.symbol || sc.mid == 0 {
			sc = m.scope(sym, v)
		}
		break
	}
	if sc.symbol == "" && f.symbol != "" {
		sc = m.scope(f.symbol, v)
	}
	defer m.priceChange(v)
	final := v.FieldByName("FinalUpdateID")
	chained := final.IsValid() && isInt(final)
	if chained {
		m.chain(v)
	}
	isCandle := m.k != nil && isKline(v.Type())
	for i := 0; i < v.NumField(); i++ {
		sf := v.Type().Field(i)
		if !sf.IsExported() {
			continue
		}
		fv := v.Field(i)
		if isCandle && m.candleField(fv, sf.Name) {
			continue
		}
		switch sf.Name {
		case "FirstUpdateID", "FinalUpdateID", "PrevFinalUpdateID":
			if chained && isInt(fv) {
				continue
			}
		}
		m.value(fv, sf.Name, sc)
	}
}

// scope returns the scope of symbol sym for the struct v.
func (m *mover) scope(sym string, v reflect.Value) scope {
	sc := scope{symbol: strings.ToUpper(sym), mid: m.f.w.mid(sym, m.now), start: float64(sim.StartMid(sym)) / 100}
	if ref := refPrice(v); ref > 0 {
		sc.ratio = sc.mid / ref
	}
	return sc
}

// priceChange makes a ticker's price change and its percentage those from
// its open price to its last price.
func (m *mover) priceChange(v reflect.Value) {
	get := func(name string) (reflect.Value, float64, bool) {
		f := v.FieldByName(name)
		for f.IsValid() && f.Kind() == reflect.Pointer {
			if f.IsNil() {
				return f, 0, false
			}
			f = f.Elem()
		}
		if !f.IsValid() || f.Type() != decimalType || !f.Interface().(wire.Decimal).IsSet() {
			return f, 0, false
		}
		return f, f.Interface().(wire.Decimal).Float64(), true
	}
	_, last, ok1 := get("LastPrice")
	_, open, ok2 := get("OpenPrice")
	change, _, ok3 := get("PriceChange")
	if !ok1 || !ok2 || !ok3 || open <= 0 {
		return
	}
	change.Set(reflect.ValueOf(format(last-open, max(places(change.Interface().(wire.Decimal)), 2))))
	if pct, _, ok := get("PriceChangePercent"); ok {
		pct.Set(reflect.ValueOf(format((last-open)/open*100, max(places(pct.Interface().(wire.Decimal)), 2))))
	}
}

// chain makes a diff-depth event follow the previous one: U is the previous
// u + 1, pu the previous u, and u - U as in the template.
func (m *mover) chain(v reflect.Value) {
	f := m.f
	first, final, prev := v.FieldByName("FirstUpdateID"), v.FieldByName("FinalUpdateID"), v.FieldByName("PrevFinalUpdateID")
	span := int64(0)
	if first.IsValid() && isInt(first) {
		span = max(final.Int()-first.Int(), 0)
	}
	if f.lastFinal == 0 {
		f.lastFinal = max(final.Int(), 1000)
	}
	if first.IsValid() && isInt(first) {
		first.SetInt(f.lastFinal + 1)
	}
	if prev.IsValid() && isInt(prev) {
		prev.SetInt(f.lastFinal)
	}
	final.SetInt(f.lastFinal + 1 + span)
	f.lastFinal = final.Int()
}

// refPrices are the fields whose template value becomes the symbol's price,
// in order of preference; without any, the first price does.
var refPrices = []string{"LastPrice", "Price", "MarkPrice", "ClosePrice", "Close", "AveragePrice", "IndexPrice"}

// refPrice returns the price of v's template that the symbol's price
// replaces.
func refPrice(v reflect.Value) float64 {
	for _, name := range refPrices {
		f := v.FieldByName(name)
		if f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() {
			f = f.Elem()
		}
		if f.IsValid() && f.Type() == decimalType {
			if d := f.Interface().(wire.Decimal); d.IsSet() && d.Float64() > 0 {
				return d.Float64()
			}
		}
	}
	return firstPrice(v)
}

// firstPrice returns the first non-zero price in v.
func firstPrice(v reflect.Value) float64 {
	ref := 0.0
	walk(v, func(v reflect.Value, field string) {
		if ref == 0 && v.Type() == decimalType && isPrice(field) {
			if d := v.Interface().(wire.Decimal); d.IsSet() && d.Float64() > 0 {
				ref = d.Float64()
			}
		}
	})
	return ref
}

// list moves the elements of a slice: bid and ask levels are laid out from
// the mid, older candles of a list of candles get earlier windows.
func (m *mover) list(v reflect.Value, field string, sc scope) {
	side := 0
	switch {
	case strings.Contains(field, "Bid"):
		side = -1
	case strings.Contains(field, "Ask"):
		side = 1
	}
	et := v.Type().Elem()
	if side != 0 && et.Kind() == reflect.Struct {
		if p, ok := et.FieldByName("Price"); ok && p.Type == decimalType {
			m.levels(v, side, sc)
			return
		}
	}
	if m.k != nil && et.Kind() == reflect.Struct && isKline(et) && v.Len() > 1 {
		// The last candle is the current one; earlier ones are history.
		k := m.k
		for i := 0; i < v.Len(); i++ {
			if i < v.Len()-1 {
				m.k = k.back(v.Len() - 1 - i)
			} else {
				m.k = k
			}
			m.value(v.Index(i), field, sc)
		}
		m.k = k
		return
	}
	for i := 0; i < v.Len(); i++ {
		m.value(v.Index(i), field, sc)
	}
}

// levels lays out price levels: the best 0.01 % from the mid, each next one
// 0.01 % further; quantities vary, and a zero quantity (a removed level of a
// diff) stays zero.
func (m *mover) levels(v reflect.Value, side int, sc scope) {
	for i := 0; i < v.Len(); i++ {
		lv := v.Index(i)
		pv := lv.FieldByName("Price")
		d := pv.Interface().(wire.Decimal)
		if d.IsSet() {
			x := d.Float64() * m.priceFactor(sc)
			if sc.mid > 0 {
				x = sc.mid * (1 + float64(side)*0.0001*float64(i+1))
			}
			pv.Set(reflect.ValueOf(format(x, places(d))))
		}
		for j := 0; j < lv.NumField(); j++ {
			if lv.Type().Field(j).IsExported() && lv.Type().Field(j).Name != "Price" {
				m.value(lv.Field(j), lv.Type().Field(j).Name, sc)
			}
		}
	}
}

// squeeze keeps a price's relative distance from the reference price
// within ±5 %, keeping order (a high stays above a low) and leaving small
// distances (a mark price and its index) nearly as they are: documented
// examples put prices of one symbol as far apart as 0.0010 and 0.0025.
func squeeze(dev float64) float64 { return 0.05 * math.Tanh(dev/0.05) }

// priceFactor is what a price of the template is multiplied by.
func (m *mover) priceFactor(sc scope) float64 {
	if sc.ratio > 0 {
		return sc.ratio
	}
	return m.f.walk
}

func (m *mover) decimal(v reflect.Value, field string, sc scope) {
	d := v.Interface().(wire.Decimal)
	if !d.IsSet() || d.IsZero() {
		return
	}
	x := d.Float64()
	p := places(d)
	switch {
	case isPrice(field):
		if sc.ratio > 0 {
			base := sc.mid
			if field == "OpenPrice" || field == "PrevClosePrice" {
				// A rolling window's open lags: a tenth of the move since
				// the start, so that its change and percentage move too.
				base = sc.start + (sc.mid-sc.start)/10
			}
			x = base * (1 + squeeze(x*sc.ratio/sc.mid-1))
		} else {
			x *= m.f.walk
		}
		p = max(p, 2) // a price of the template in whole units would hardly move
	case isPriceDiff(field):
		x *= m.priceFactor(sc)
		p = max(p, 2)
	case strings.Contains(field, "Quantity") || strings.Contains(field, "Volume"):
		x *= 0.5 + m.f.rng.Float64()
	default: // amounts, rates, greeks, percentages: within 10 % of the template
		x *= 0.9 + 0.2*m.f.rng.Float64()
	}
	v.Set(reflect.ValueOf(format(x, p)))
}

func (m *mover) leaf(v reflect.Value, field string) {
	f := m.f
	switch {
	case isTime(v):
		if v.Int() > 0 {
			v.SetInt(v.Int() + int64(float64(m.shiftMs)*timeUnits[v.Type()]))
		}
	case isInt(v) && isID(field) && v.Int() > 0:
		v.SetInt(v.Int() + f.tick*max(f.counts[field], 1))
	case isInt(v) && isCount(field) && v.Int() > 0:
		v.SetInt(max(1, int64(float64(v.Int())*(0.5+f.rng.Float64()))))
	case v.Kind() == reflect.Bool && field == "IsBuyerMaker":
		v.SetBool(f.rng.IntN(2) == 0)
	case v.Kind() == reflect.String && field == "Symbol" && f.symbol != "" && v.String() != "":
		v.SetString(f.symbol)
	}
}

// places returns the number of decimal places of d.
func places(d wire.Decimal) int {
	s := d.String()
	if i := strings.IndexByte(s, '.'); i >= 0 && !strings.ContainsAny(s, "eE") {
		return len(s) - i - 1
	}
	return 0
}

// format returns x as a decimal with at least places decimal places, more
// for a small x, so that it keeps about six significant digits.
func format(x float64, places int) wire.Decimal {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		x = 0
	}
	if a := math.Abs(x); a > 0 && a < 1000 {
		places = max(places, min(12, int(math.Ceil(-math.Log10(a)))+5))
	}
	out, err := wire.ParseDecimal(strconv.FormatFloat(x, 'f', places, 64))
	if err != nil {
		return wire.MustDecimal("0")
	}
	return out
}
