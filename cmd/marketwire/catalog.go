package main

import (
	"errors"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/marketwire/marketwire/generated"
	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/wire"
)

// The registry (generated/markets) parses and decodes streams but does not
// list them. The catalog finds them from what the registry does offer: the
// stream kinds with fixtures (every stream has some), whose example names
// parse into the stream's parameter type, which is then examined by
// reflection: Validate names each parameter and its allowed values, and
// StreamName, given markers, spells the template.

// catalog holds the streams of one market.
type catalog struct {
	name    string
	m       markets.Market
	streams []*streamDoc // by kind
}

// streamDoc describes one stream.
type streamDoc struct {
	kind     string
	example  string // a wire name, from a fixture
	template string // such as "<symbol>@depth<levels>[@<speed>]"
	route    string
	params   []paramDoc
	typ      reflect.Type   // the parameter type
	tpl      *wire.Template // nil if the template did not parse
}

// paramDoc describes one parameter of a stream.
type paramDoc struct {
	name     string
	field    int      // index in the parameter struct
	allowed  []string // an enum's values
	pattern  string
	optional bool
	def      string // the value an empty one stands for
}

// newCatalog examines the streams of the named market; ok is false for an
// unknown market.
func newCatalog(market string) (*catalog, bool) {
	m, ok := markets.All[market]
	if !ok {
		return nil, false
	}
	c := &catalog{name: market, m: m}
	seen := map[string]bool{}
	for _, kind := range generated.Kinds(market) {
		for _, fx := range generated.Fixtures(market, kind) {
			p, err := m.ParseStream(fx.Stream)
			if err != nil || seen[p.Kind()] {
				continue
			}
			seen[p.Kind()] = true
			c.streams = append(c.streams, describeStream(fx.Stream, p))
			break
		}
	}
	sort.Slice(c.streams, func(i, j int) bool { return c.streams[i].kind < c.streams[j].kind })
	return c, true
}

// describeStream examines the parameter value p, parsed from example.
func describeStream(example string, p markets.Stream) *streamDoc {
	v := reflect.ValueOf(p)
	d := &streamDoc{kind: p.Kind(), example: example, route: p.Route(), typ: v.Type()}
	with := func(set func(reflect.Value)) markets.Stream {
		c := reflect.New(v.Type()).Elem()
		c.Set(v)
		set(c)
		return c.Interface().(markets.Stream)
	}
	if v.Kind() == reflect.Struct {
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Type.Kind() != reflect.String {
				continue
			}
			pd := paramDoc{name: strings.ToLower(f.Name[:1]) + f.Name[1:], field: i}
			err := with(func(c reflect.Value) { c.Field(i).SetString("\x01") }).Validate()
			var pe *wire.ParamError
			var ee *wire.EnumError
			var re *wire.PatternError
			if errors.As(err, &pe) {
				pd.name = pe.Param
			}
			if errors.As(err, &ee) {
				pd.allowed = ee.Allowed
			}
			if errors.As(err, &re) {
				pd.pattern = re.Pattern
			}
			pd.optional = with(func(c reflect.Value) { c.Field(i).SetString("") }).Validate() == nil
			d.params = append(d.params, pd)
		}
	}
	// The template: every parameter set to a marker <i> that case changes
	// keep; each optional one left out in turn shows its optional group.
	marked := func(skip int) string {
		return with(func(c reflect.Value) {
			for j, pd := range d.params {
				if j == skip {
					c.Field(pd.field).SetString("")
				} else {
					c.Field(pd.field).SetString("<" + strconv.Itoa(j) + ">")
				}
			}
		}).StreamName()
	}
	full := marked(-1)
	type group struct{ start, end int }
	var groups []group
	for j, pd := range d.params {
		if !pd.optional {
			continue
		}
		short := marked(j)
		pre := 0
		for pre < min(len(short), len(full)) && short[pre] == full[pre] {
			pre++
		}
		suf := 0
		for suf < min(len(short), len(full))-pre && short[len(short)-1-suf] == full[len(full)-1-suf] {
			suf++
		}
		switch {
		case short == full[:pre]+full[len(full)-suf:]:
			groups = append(groups, group{pre, len(full) - suf})
		case pre < len(short)-suf: // left empty, it takes a default value
			d.params[j].def = short[pre : len(short)-suf]
		}
	}
	sort.Slice(groups, func(a, b int) bool { return groups[a].start > groups[b].start })
	tpl := full
	for _, g := range groups {
		tpl = tpl[:g.start] + "[" + tpl[g.start:g.end] + "]" + tpl[g.end:]
	}
	for j, pd := range d.params {
		tpl = strings.ReplaceAll(tpl, "<"+strconv.Itoa(j)+">", "<"+pd.name+">")
	}
	d.template = tpl
	d.tpl, _ = wire.ParseTemplate(tpl)
	return d
}

// parse parses a wire stream name. A name that fits a stream's template but
// not its parameters fails with the parameter's error (such as kline_7m:
// "parameter interval: "7m" is not a valid Interval (allowed: ...)");
// other names fail as unknown streams.
func (c *catalog) parse(name string) (markets.Stream, error) {
	p, err := c.m.ParseStream(name)
	if err == nil {
		return p, p.Validate()
	}
	for _, d := range c.streams {
		if d.tpl == nil {
			continue
		}
		vals, ok := d.tpl.Match(name, func(_, v string) bool { return !strings.ContainsAny(v, "@/") })
		if !ok {
			continue
		}
		v := reflect.New(d.typ).Elem()
		for i, param := range d.tpl.Params() {
			for _, pd := range d.params {
				if pd.name == param {
					v.Field(pd.field).SetString(vals[i])
				}
			}
		}
		if verr := v.Interface().(markets.Stream).Validate(); verr != nil {
			return nil, verr
		}
	}
	return nil, errors.New(err.Error() + " (marketwire streams " + c.name + " lists them)")
}
