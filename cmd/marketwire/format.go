package main

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/marketwire/marketwire/wire"
)

// The readable line of an event, for any generated type, by reflection:
//
//	12:00:01.234 btcusdt@aggTrade Symbol=BTCUSDT AggTradeID=5 Price=43210.12000000 ...
//
// The time is the event's own (its first top-level timestamp), else the
// receive time, in UTC. Then come the scalar fields in declaration order,
// those of nested objects flattened in place, decimals exactly as sent;
// a list shows its length and its first element (Bids[20]=43210.10/0.500);
// a payload that is a list shows its length and its first element's
// fields. The event-type key and Binance's "ignore" fields are left out.

var (
	decimalType = reflect.TypeFor[wire.Decimal]()
	timeType    = reflect.TypeFor[interface{ Time() time.Time }]()
	stringer    = reflect.TypeFor[fmt.Stringer]()
)

// line builds one line.
type line struct {
	b    []byte
	day  time.Time // the line's date, for other timestamps
	seen map[string]string
}

// appendLine appends the readable line of payload v of stream, received
// at recv, and a newline.
func appendLine(b []byte, recv time.Time, stream string, v any) []byte {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			break
		}
		rv = rv.Elem()
	}
	head := ""
	if rv.Kind() == reflect.Slice {
		head = "[" + strconv.Itoa(rv.Len()) + "]"
		if rv.Len() == 0 {
			rv = reflect.Value{}
		} else {
			rv = rv.Index(0)
		}
	}
	t, skip := eventTime(rv)
	if t.IsZero() {
		t = recv
	}
	t = t.UTC()
	l := line{b: b, day: t, seen: map[string]string{}}
	l.b = t.AppendFormat(l.b, "15:04:05.000")
	l.b = append(l.b, ' ')
	l.b = append(l.b, stream...)
	if head != "" {
		l.b = append(l.b, ' ')
		l.b = append(l.b, head...)
	}
	if rv.IsValid() {
		l.fields(rv, skip, 0)
	}
	return append(l.b, '\n')
}

// eventTime returns the first top-level timestamp of struct v and its
// field index (-1 if none).
func eventTime(v reflect.Value) (time.Time, int) {
	if v.Kind() != reflect.Struct {
		return time.Time{}, -1
	}
	for i := range v.NumField() {
		f := v.Field(i)
		if v.Type().Field(i).IsExported() && f.Type().Implements(timeType) && f.Int() != 0 {
			return f.Interface().(interface{ Time() time.Time }).Time(), i
		}
	}
	return time.Time{}, -1
}

// fields appends the fields of struct v, but field skip.
func (l *line) fields(v reflect.Value, skip, depth int) {
	if v.Kind() != reflect.Struct {
		if s, ok := l.scalar(v); ok {
			l.b = append(l.b, ' ')
			l.b = append(l.b, s...)
		}
		return
	}
	for i := range v.NumField() {
		sf := v.Type().Field(i)
		if i == skip || !sf.IsExported() || sf.Name == "EventType" || sf.Name == "Ignore" {
			continue
		}
		l.field(sf.Name, v.Field(i), depth)
	}
}

// field appends one field.
func (l *line) field(name string, f reflect.Value, depth int) {
	for f.Kind() == reflect.Pointer || f.Kind() == reflect.Interface {
		if f.IsNil() {
			return
		}
		f = f.Elem()
	}
	if s, ok := l.scalar(f); ok {
		if s == "" || l.seen[name] == s {
			return
		}
		l.seen[name] = s
		l.b = append(l.b, ' ')
		l.b = append(l.b, name...)
		l.b = append(l.b, '=')
		l.b = append(l.b, s...)
		return
	}
	switch f.Kind() {
	case reflect.Struct:
		if depth < 2 {
			l.fields(f, -1, depth+1)
		}
	case reflect.Slice, reflect.Array:
		l.b = append(l.b, ' ')
		l.b = append(l.b, name...)
		l.b = append(l.b, '[')
		l.b = strconv.AppendInt(l.b, int64(f.Len()), 10)
		l.b = append(l.b, ']')
		if f.Len() > 0 {
			l.b = append(l.b, '=')
			l.b = append(l.b, l.summary(f.Index(0))...)
		}
	case reflect.Map:
		l.b = append(l.b, ' ')
		l.b = append(l.b, name...)
		l.b = append(l.b, '{')
		l.b = strconv.AppendInt(l.b, int64(f.Len()), 10)
		l.b = append(l.b, '}')
	}
}

// summary returns an element of a list: a scalar, or the scalar fields of
// a struct joined by '/'.
func (l *line) summary(v reflect.Value) string {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return "-"
		}
		v = v.Elem()
	}
	if s, ok := l.scalar(v); ok {
		return s
	}
	if v.Kind() != reflect.Struct {
		return "…"
	}
	out := ""
	for i := range v.NumField() {
		if s, ok := l.scalar(v.Field(i)); ok && v.Type().Field(i).IsExported() && s != "" {
			if out != "" {
				out += "/"
			}
			out += s
		}
	}
	return out
}

// scalar formats a value that is printed as one token.
func (l *line) scalar(v reflect.Value) (string, bool) {
	t := v.Type()
	switch {
	case t == decimalType:
		return v.Interface().(wire.Decimal).String(), true
	case t.Implements(timeType) && v.CanInt():
		if v.Int() == 0 {
			return "", true
		}
		tm := v.Interface().(interface{ Time() time.Time }).Time().UTC()
		if y, m, d := tm.Date(); y == l.day.Year() && m == l.day.Month() && d == l.day.Day() {
			return tm.Format("15:04:05.000"), true
		}
		return tm.Format("2006-01-02T15:04:05.000"), true
	}
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
			s = strconv.Quote(s)
		}
		return s, true
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10), true
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64), true
	}
	if t.Implements(stringer) && v.Kind() != reflect.Struct {
		return v.Interface().(fmt.Stringer).String(), true
	}
	return "", false
}

// appendQuoted appends s as a JSON string.
func appendQuoted(b []byte, s string) []byte { return wire.AppendString(b, s) }
