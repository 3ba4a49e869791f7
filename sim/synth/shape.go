package synth

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/wire"
)

// synthBase is the time of a synthesized template; feeds move it to the
// publish time.
var synthBase = time.UnixMilli(1_700_000_000_000)

// synthesize makes a template payload for a stream without examples, from
// its payload type alone: every field, optional ones too, gets a plausible
// value (the symbol of the stream, the stream's own parameter values, the
// first allowed value of an enumeration, a price at the symbol's starting
// price, ids, counts, quantities), lists get three elements, and the event
// kind is the one the decoder asks for. It checks that the result decodes.
func synthesize(m markets.Market, stream string, p markets.Stream, sym string) ([]byte, error) {
	newPayload := reflect.ValueOf(p).MethodByName("NewPayload")
	if !newPayload.IsValid() || newPayload.Type().NumIn() != 0 || newPayload.Type().NumOut() != 1 {
		return nil, fmt.Errorf("synth: stream %q: its parameters have no NewPayload method", stream)
	}
	v, ok := newPayload.Call(nil)[0].Interface().(markets.Payload)
	if !ok {
		return nil, fmt.Errorf("synth: stream %q: NewPayload returned no payload", stream)
	}
	if sym == "" {
		sym = "BTCUSDT"
	}
	s := shaper{params: reflect.ValueOf(p), sym: sym, price: float64(sim.StartMid(sym)) / 100}
	s.fill(reflect.ValueOf(v), "", 0)
	// The decoder names the event kind it wants; fields that hold the
	// placeholder it rejects get that kind.
	var err error
	for range 8 {
		data := v.AppendJSON(nil)
		if _, err = m.Decode(stream, data); err == nil {
			return data, nil
		}
		var kind *wire.EventError
		if !errors.As(err, &kind) || len(kind.Want) == 0 || !s.replace(reflect.ValueOf(v), kind.Got, kind.Want[0]) {
			break
		}
	}
	return nil, fmt.Errorf("synth: stream %q: cannot synthesize a payload its decoder accepts: %w", stream, err)
}

type shaper struct {
	params reflect.Value
	sym    string
	price  float64
}

// fill gives v, a field named field at nesting depth depth, a value.
func (s *shaper) fill(v reflect.Value, field string, depth int) {
	if depth > 8 {
		return
	}
	switch {
	case v.Kind() == reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		s.fill(v.Elem(), field, depth+1)
	case v.Type() == decimalType:
		v.Set(reflect.ValueOf(s.decimal(field)))
	case isTime(v):
		t := synthBase
		if strings.HasPrefix(field, "Next") || strings.Contains(field, "End") || strings.Contains(field, "Delivery") {
			t = t.Add(time.Hour)
		}
		v.SetInt(int64(float64(t.UnixMilli()) * timeUnits[v.Type()]))
	case v.Kind() == reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				s.fill(v.Field(i), v.Type().Field(i).Name, depth+1)
			}
		}
		if isKline(v.Type()) { // a one-minute candle
			ot := v.FieldByName("OpenTime")
			ct := v.FieldByName("CloseTime")
			ct.SetInt(ot.Int() + int64(float64(time.Minute.Milliseconds()-1)*timeUnits[ct.Type()]))
		}
	case v.Kind() == reflect.Slice:
		n := 3
		if depth > 4 {
			n = 1
		}
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			s.fill(v.Index(i), field, depth+1)
		}
	case v.Kind() == reflect.Array:
		for i := 0; i < v.Len(); i++ {
			s.fill(v.Index(i), field, depth+1)
		}
	case v.Kind() == reflect.String:
		v.SetString(s.text(v, field))
	case v.CanInt():
		switch {
		case isID(field):
			v.SetInt(1000)
		case isCount(field):
			v.SetInt(10)
		default:
			v.SetInt(1)
		}
	case v.CanUint():
		v.SetUint(1)
	case v.CanFloat():
		v.SetFloat(1)
	}
}

func (s *shaper) decimal(field string) wire.Decimal {
	switch {
	case isPrice(field):
		return format(s.price, 2)
	case isPriceDiff(field):
		return format(s.price/100, 2)
	case strings.Contains(field, "Rate"):
		return wire.MustDecimal("0.00010000")
	case strings.Contains(field, "Percent"):
		return wire.MustDecimal("1.250")
	}
	return wire.MustDecimal("1.000")
}

// text is the value of a string field: the symbol, the stream's parameter
// of the same name, the first value of an enumeration, else the field's
// name.
func (s *shaper) text(v reflect.Value, field string) string {
	for _, name := range symbolFields {
		if field == name {
			return s.sym
		}
	}
	if pv := s.params.FieldByName(field); pv.IsValid() && pv.Kind() == reflect.String && pv.String() != "" {
		return pv.String()
	}
	if v.Type() == reflect.TypeOf(wire.Raw("")) {
		return "null"
	}
	// A parameter of the same enumeration, such as the interval.
	for i := 0; v.Type().PkgPath() != "" && i < s.params.NumField(); i++ {
		if s.params.Field(i).Type() == v.Type() && s.params.Field(i).String() != "" {
			return s.params.Field(i).String()
		}
	}
	if validate, ok := v.Addr().Interface().(interface{ Validate() error }); ok {
		var enum *wire.EnumError
		if errors.As(validate.Validate(), &enum) && len(enum.Allowed) > 0 {
			return enum.Allowed[0]
		}
	}
	if strings.HasSuffix(field, "Asset") {
		return "USDT"
	}
	return strings.ToLower(field[:1]) + field[1:]
}

// replace sets every string reachable from v that holds old to new, and
// reports whether there was one.
func (s *shaper) replace(v reflect.Value, old, new string) bool {
	found := false
	walk(v, func(v reflect.Value, _ string) {
		if v.Kind() == reflect.String && v.String() == old && v.CanSet() {
			v.SetString(new)
			found = true
		}
	})
	return found
}
