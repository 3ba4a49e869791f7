package synth

import (
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/wire"
)

// candle is the open candle of a kline feed, in prices of the stream's
// symbol.
type candle struct {
	start, end              time.Time
	open, high, low, closep float64
}

// candleState is the candle one event shows.
type candleState struct {
	candle
	closed  bool
	history bool // an earlier candle of a list: its prices stay the template's
	f       *feed
}

// isKline reports whether t is a candle: a struct with an open and a close
// time that is named a kline or says whether it is closed (a ticker's
// rolling window has open and close times too).
func isKline(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	o, ok1 := t.FieldByName("OpenTime")
	c, ok2 := t.FieldByName("CloseTime")
	_, closed := t.FieldByName("IsClosed")
	return ok1 && ok2 && timeUnits[o.Type] != 0 && timeUnits[c.Type] != 0 &&
		(closed || strings.Contains(t.Name(), "Kline"))
}

// klineInterval returns the candle interval of a template that holds
// candles ("" when it holds none), and sets up f's windows: the interval is
// the stream's Interval parameter, else the candle's Interval field, else
// the length of the template's candle.
func (f *feed) klineInterval(v reflect.Value) string {
	var k reflect.Value
	var find func(v reflect.Value)
	find = func(v reflect.Value) {
		switch {
		case k.IsValid():
		case v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface:
			if !v.IsNil() {
				find(v.Elem())
			}
		case v.Kind() == reflect.Struct && isKline(v.Type()):
			k = v
		case v.Kind() == reflect.Struct && v.Type() != decimalType:
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).IsExported() {
					find(v.Field(i))
				}
			}
		case v.Kind() == reflect.Slice:
			if v.Len() > 0 {
				find(v.Index(v.Len() - 1))
			}
		}
	}
	find(v)
	if !k.IsValid() {
		return ""
	}
	f.ref = firstPrice(k)
	if tz := f.params.FieldByName("Timezone"); tz.IsValid() && tz.Kind() == reflect.String {
		f.tz = parseOffset(tz.String())
	}
	for _, iv := range []reflect.Value{f.params.FieldByName("Interval"), k.FieldByName("Interval")} {
		if iv.IsValid() && iv.Kind() == reflect.String {
			if _, _, ok := sim.KlineWindow(iv.String(), time.Time{}); ok {
				return iv.String()
			}
		}
	}
	ot, ct := k.FieldByName("OpenTime"), k.FieldByName("CloseTime")
	d := time.Duration(float64(ct.Int()-ot.Int())/timeUnits[ct.Type()])*time.Millisecond + time.Millisecond
	for _, iv := range []string{"1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w"} {
		if start, end, _ := sim.KlineWindow(iv, time.Unix(0, 0)); end.Sub(start)+time.Millisecond == d {
			return iv
		}
	}
	f.ivDur = max(d, time.Second).Truncate(time.Millisecond)
	return "raw"
}

// parseOffset reads a UTC offset such as +08:00 or -5:30.
func parseOffset(s string) time.Duration {
	sign := time.Duration(1)
	switch {
	case strings.HasPrefix(s, "-"):
		sign, s = -1, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	h, m, _ := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || m != "" && err2 != nil {
		return 0
	}
	return sign * (time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
}

// window returns the open time and the close time (the last millisecond) of
// the candle holding t.
func (f *feed) window(t time.Time) (time.Time, time.Time) {
	if f.interval == "raw" {
		start := t.Truncate(f.ivDur)
		return start, start.Add(f.ivDur - time.Millisecond)
	}
	start, end, _ := sim.KlineWindow(f.interval, t.Add(f.tz))
	return start.Add(-f.tz), end.Add(-f.tz)
}

// candleAt returns the candle the event published at now shows: the open
// candle, updated with the price now, or, once now is past its close time,
// that candle closed, which opens the next window at its close price. A
// feed publishes at every tick, so every candle is closed once, by the
// first event after its close time, and none is skipped (after a pause of
// more than 64 windows, the feed starts again from now).
func (f *feed) candleAt(now time.Time) *candleState {
	x := f.ref * f.walk
	if f.symbol != "" {
		x = f.w.mid(f.symbol, now)
	}
	c := f.candle
	if c == nil {
		start, end := f.window(now)
		c = &candle{start: start, end: end, open: x, high: x, low: x, closep: x}
		f.candle = c
	}
	if now.After(c.end) {
		next := c.end.Add(time.Millisecond)
		if now.Sub(next) > 64*(c.end.Sub(c.start)+time.Millisecond) {
			next = now
		}
		start, end := f.window(next)
		f.candle = &candle{start: start, end: end, open: c.closep, high: c.closep, low: c.closep, closep: c.closep}
		return &candleState{candle: *c, closed: true, f: f}
	}
	c.closep, c.high, c.low = x, max(c.high, x), min(c.low, x)
	return &candleState{candle: *c, f: f}
}

// back returns the closed candle n windows before k, for a list of candles.
func (k *candleState) back(n int) *candleState {
	out := &candleState{candle: k.candle, closed: true, history: true, f: k.f}
	for range n {
		out.start, out.end = k.f.window(out.start.Add(-time.Millisecond))
	}
	return out
}

// candleField sets a field of a candle that the candle's state decides and
// reports whether it did: the open and close times, the closed flag, the
// interval and (except for history) the open, high, low and close prices.
func (m *mover) candleField(v reflect.Value, field string) bool {
	k := m.k
	switch {
	case field == "OpenTime" || field == "CloseTime":
		t := k.start
		if field == "CloseTime" {
			t = k.end
		}
		v.SetInt(int64(float64(t.UnixMilli()) * timeUnits[v.Type()]))
		return true
	case field == "IsClosed" && v.Kind() == reflect.Bool:
		v.SetBool(k.closed)
		return true
	case field == "Interval" && v.Kind() == reflect.String && m.f.interval != "raw":
		v.SetString(m.f.interval)
		return true
	case k.history || v.Type() != decimalType:
		return false
	}
	var x float64
	switch strings.TrimSuffix(field, "Price") {
	case "Open":
		x = k.open
	case "High":
		x = k.high
	case "Low":
		x = k.low
	case "Close":
		x = k.closep
	default:
		return false
	}
	d := v.Interface().(wire.Decimal)
	if !d.IsSet() {
		return true
	}
	v.Set(reflect.ValueOf(format(x, places(d))))
	return true
}
