package gen

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/marketwire/marketwire/wire"
)

// scalarTypes are the built-in field types (schema/README.md, "Field types").
var scalarTypes = map[string]bool{
	"string": true, "bool": true, "int": true, "uint": true, "float": true, "decimal": true,
	"time_s": true, "time_ms": true, "time_us": true, "time_ns": true, "raw": true,
}

// Validate checks everything Load cannot: names, references, templates and
// Go-name collisions. It reports every problem, each as file:line: message.
func Validate(s *Schema) error {
	v := &validator{file: s.File}
	v.schema(s)
	if len(v.errs) == 0 {
		return nil
	}
	sort.SliceStable(v.errs, func(i, j int) bool { return v.errs[i].line < v.errs[j].line })
	l := make(ErrorList, len(v.errs))
	for i, e := range v.errs {
		l[i] = fmt.Sprintf("%s:%d: %s", v.file, e.line, e.msg)
	}
	return l
}

type validator struct {
	file     string
	dialects map[string]*Dialect // by venue
	errs     []struct {
		line int
		msg  string
	}
}

func (v *validator) errf(line int, format string, args ...any) {
	v.errs = append(v.errs, struct {
		line int
		msg  string
	}{line, fmt.Sprintf(format, args...)})
}

// unique reports the second and later uses of a name.
type unique struct {
	what  string
	lines map[string]int
}

func (v *validator) unique(u *unique, name string, line int, where string) {
	if u.lines == nil {
		u.lines = map[string]int{}
	}
	if first, ok := u.lines[name]; ok {
		v.errf(line, "%sduplicate %s %q (first defined at line %d)", where, u.what, name, first)
		return
	}
	u.lines[name] = line
}

func (v *validator) schema(s *Schema) {
	if len(s.Markets) == 0 {
		v.errf(1, "the schema defines no markets")
	}
	venues := unique{what: "venue"}
	v.dialects = map[string]*Dialect{}
	for _, ve := range s.Venues {
		v.name(ve.Line, "venue", ve.Name, "")
		v.unique(&venues, ve.Name, ve.Line, "")
		if ve.Dialect == nil {
			v.errf(ve.Line, "venue %q: no dialect", ve.Name)
			continue
		}
		v.dialect(ve.Dialect, fmt.Sprintf("venue %q: dialect: ", ve.Name))
		v.dialects[ve.Name] = ve.Dialect
	}
	markets := unique{what: "market"}
	for _, m := range s.Markets {
		v.unique(&markets, m.Name, m.Line, "")
		if _, ok := venues.lines[m.Venue]; !ok {
			v.errf(m.Line, "market %q: venue %q is not defined", m.Name, m.Venue)
		}
		v.market(m)
	}
}

var schemaName = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

func (v *validator) name(line int, what, name, where string) {
	if !schemaName.MatchString(name) {
		v.errf(line, "%s%s name %q must start with a lower-case letter and hold only letters, digits and _", where, what, name)
	}
}

func (v *validator) market(m *Market) {
	where := fmt.Sprintf("market %q: ", m.Name)
	v.name(m.Line, "market", m.Name, "")
	if len(m.Endpoints) == 0 {
		v.errf(m.Line, "%sno endpoints", where)
	}
	eps := unique{what: "endpoint"}
	for _, e := range m.Endpoints {
		v.unique(&eps, e.Name, e.Line, where)
		if !strings.HasPrefix(e.URL, "wss://") && !strings.HasPrefix(e.URL, "ws://") {
			v.errf(e.Line, "%sendpoint %q: url %q must start with wss:// or ws://", where, e.Name, e.URL)
		}
	}
	v.limits(&m.Limits, where)

	// Every Go name in the package must be unique: enums, types, their
	// constants and the names derived from streams.
	goNames := unique{what: "Go name"}
	enums := map[string]*Enum{}
	for _, e := range m.Enums {
		v.goName(e.Line, e.Name, where)
		v.unique(&goNames, e.Name, e.Line, where)
		enums[e.Name] = e
		if len(e.Values) == 0 {
			v.errf(e.Line, "%senum %q has no values", where, e.Name)
		}
		vals := unique{what: "value"}
		consts := unique{what: "constant"}
		for _, val := range e.Values {
			v.unique(&vals, val, e.Line, fmt.Sprintf("%senum %q: ", where, e.Name))
			suffix := constSuffix(val)
			if n, ok := e.Names[val]; ok {
				suffix = n
			}
			v.unique(&consts, e.Name+suffix, e.Line, fmt.Sprintf("%senum %q: value %q: ", where, e.Name, val))
			v.unique(&goNames, e.Name+suffix, e.Line, where)
		}
		for val := range e.Names {
			if _, ok := vals.lines[val]; !ok {
				v.errf(e.Line, "%senum %q: names: %q is not one of its values", where, e.Name, val)
			}
		}
	}
	types := map[string]*Type{}
	for _, t := range m.Types {
		v.goName(t.Line, t.Name, where)
		v.unique(&goNames, t.Name, t.Line, where)
		types[t.Name] = t
	}
	for _, t := range m.Types {
		v.typ(t, types, enums, where)
	}

	routes := map[string]bool{}
	for _, r := range m.Routes {
		routes[r] = true
	}
	streams := unique{what: "stream"}
	arrays := map[string]bool{}
	for _, s := range m.Streams {
		v.unique(&streams, s.Name, s.Line, where)
		v.stream(s, types, enums, routes, arrays, &goNames, where)
	}
	if u := m.User; u != nil {
		v.userStream(u, routes, where)
	}
	groups := unique{what: "dispatch group"}
	for _, g := range m.Dispatch {
		v.unique(&groups, g.Name, g.Line, where)
		v.name(g.Line, "dispatch group", g.Name, where)
		v.unique(&goNames, "Decode"+GoName(g.Name), g.Line, where)
		v.dispatch(g, types, where)
	}
	if d := v.dialects[m.Venue]; d != nil {
		for _, s := range m.Streams {
			v.streamDialect(s, d, m.Dispatch, fmt.Sprintf("%sstream %q: ", where, s.Name))
		}
	}
	for _, t := range m.Types {
		v.eventKinds(t, m.EventKey, where)
	}
	for _, s := range m.Streams {
		v.sequence(s, types, m.Dispatch, fmt.Sprintf("%sstream %q: ", where, s.Name))
	}
	if b := m.OrderBook; b != nil {
		v.orderBook(b, m, types, enums, where)
	}
}

func (v *validator) userStream(u *UserStream, routes map[string]bool, where string) {
	where += "user_stream: "
	if len(u.REST) == 0 && len(u.WSAPI) == 0 {
		v.errf(u.Line, "%sneeds rest endpoints (listen keys) or ws_api endpoints", where)
	}
	if len(u.REST) > 0 && u.ListenKeyPath == "" {
		v.errf(u.Line, "%srest endpoints need a listen_key_path", where)
	}
	for _, e := range u.REST {
		if !strings.HasPrefix(e.URL, "https://") && !strings.HasPrefix(e.URL, "http://") {
			v.errf(e.Line, "%srest %q: url %q must start with https:// or http://", where, e.Name, e.URL)
		}
	}
	for _, e := range u.WSAPI {
		if !strings.HasPrefix(e.URL, "wss://") && !strings.HasPrefix(e.URL, "ws://") {
			v.errf(e.Line, "%sws_api %q: url %q must start with wss:// or ws://", where, e.Name, e.URL)
		}
	}
	for key, d := range map[string]string{"keepalive": u.KeepAlive, "validity": u.Validity} {
		if d == "" {
			continue
		}
		if x, err := time.ParseDuration(d); err != nil || x <= 0 {
			v.errf(u.Line, "%s%s %q is not a positive duration", where, key, d)
		}
	}
	if u.Route != "" && !routes[u.Route] {
		v.errf(u.Line, "%sroute %q is not one of the market's routes", where, u.Route)
	}
}

func (v *validator) dispatch(g *Dispatch, types map[string]*Type, where string) {
	where = fmt.Sprintf("%sdispatch %q: ", where, g.Name)
	if g.Key == "" {
		v.errf(g.Line, "%sno key", where)
	}
	if len(g.Types) == 0 {
		v.errf(g.Line, "%sno types", where)
	}
	if g.Default != "" {
		if t := types[g.Default]; t == nil || t.Tuple {
			v.errf(g.Line, "%sdefault %q is not an object type of this market", where, g.Default)
		}
	}
	events := map[string]string{}
	for _, name := range g.Types {
		t := types[name]
		switch {
		case t == nil:
			v.errf(g.Line, "%stype %q is not a type of this market", where, name)
		case t.Event == "" && len(t.Events) > 0:
			v.errf(g.Line, "%stype %q has several event values (events); a dispatch group needs one event per type", where, name)
		case t.Event == "":
			v.errf(g.Line, "%stype %q has no event value", where, name)
		case events[t.Event] != "":
			v.errf(g.Line, "%stypes %q and %q share the event value %q", where, events[t.Event], name, t.Event)
		default:
			events[t.Event] = name
		}
	}
}

func (v *validator) limits(l *Limits, where string) {
	if l.StreamsPerConnection <= 0 {
		v.errf(l.Line, "%slimits: streams_per_connection must be positive", where)
	}
	if l.ControlMessagesPerSecond <= 0 {
		v.errf(l.Line, "%slimits: control_messages_per_second must be positive", where)
	}
	if a := l.ConnectionAttempts; a != nil {
		if x, err := time.ParseDuration(a.Per); a.Count <= 0 || err != nil || x <= 0 {
			v.errf(a.Line, "%slimits: connection_attempts needs a positive count and a positive duration per, such as {count: 300, per: 5m}", where)
		}
	}
	for _, d := range []struct{ key, val string }{
		{"connection_lifetime", l.ConnectionLifetime},
		{"ping_interval", l.PingInterval},
		{"pong_deadline", l.PongDeadline},
	} {
		if d.val == "" {
			continue // not every venue documents every limit
		}
		if x, err := time.ParseDuration(d.val); err != nil || x <= 0 {
			v.errf(l.Line, "%slimits: %s %q is not a positive duration such as 24h or 20s", where, d.key, d.val)
		}
	}
}

func (v *validator) goName(line int, name, where string) {
	if !isGoIdent(name) {
		v.errf(line, "%s%q is not an exported Go name", where, name)
	}
}

func (v *validator) typ(t *Type, types map[string]*Type, enums map[string]*Enum, where string) {
	where = fmt.Sprintf("%stype %q: ", where, t.Name)
	if len(t.Fields) == 0 {
		v.errf(t.Line, "%shas no fields", where)
	}
	if t.Event != "" && len(t.Events) > 0 {
		v.errf(t.Line, "%shas both event and events; use event for one value, events for several", where)
	}
	kinds := unique{what: "event value"}
	for _, e := range t.Events {
		if e == "" {
			v.errf(t.Line, "%sevents: empty value", where)
		}
		v.unique(&kinds, e, t.Line, where)
	}
	required := 0
	for _, f := range t.Fields {
		if !f.Optional && !t.Tuple {
			required++
		}
	}
	if required > maxRequired {
		v.errf(t.Line, "%shas %d required fields; decoders track at most %d (mark some optional or split the type)", where, required, maxRequired)
	}
	keys := unique{what: "key"}
	names := unique{what: "Go field name"}
	for _, f := range t.Fields {
		fw := fmt.Sprintf("%sfield %q: ", where, f.Name)
		if t.Tuple {
			if f.Key != "" {
				v.errf(f.Line, "%stuple fields have no key", fw)
			}
			if f.Optional {
				v.errf(f.Line, "%stuple fields cannot be optional", fw)
			}
		} else if f.Key == "" {
			v.errf(f.Line, "%sno key", fw)
		} else {
			v.unique(&keys, f.Key, f.Line, where)
		}
		if f.Name == "" {
			v.errf(f.Line, "%sno name", where)
			continue
		}
		v.name(f.Line, "field", f.Name, where)
		goName := GoName(f.Name)
		if f.Go != "" {
			goName = f.Go
			v.goName(f.Line, f.Go, fw)
		}
		v.unique(&names, goName, f.Line, where)
		v.fieldType(f, types, enums, fw)
	}
}

// maxRequired is the most required keys an object type may have: decoders
// note the keys they saw in one uint64.
const maxRequired = 64

// eventKinds checks that a type with event values carries the market's
// event key as a required string, which its decoder compares with them.
func (v *validator) eventKinds(t *Type, eventKey, where string) {
	if eventKey == "" || (t.Event == "" && len(t.Events) == 0) {
		return
	}
	for _, f := range t.Fields {
		if f.Key == eventKey {
			if f.Type != "string" || f.Optional || f.Nullable {
				v.errf(f.Line, "%stype %q: field %q: the event key %q of a type with event values must be a required, non-nullable string", where, t.Name, f.Name, eventKey)
			}
			return
		}
	}
	v.errf(t.Line, "%stype %q has event values but no field with the market's event key %q", where, t.Name, eventKey)
}

func (v *validator) fieldType(f *Field, types map[string]*Type, enums map[string]*Enum, where string) {
	name, slice := strings.CutPrefix(f.Type, "[]")
	base := name
	switch {
	case name == "":
		v.errf(f.Line, "%sno type", where)
		return
	case scalarTypes[name], enums[name] != nil, types[name] != nil:
	default:
		v.errf(f.Line, "%stype %q is not a built-in type, an enum or a type of this market", where, f.Type)
		return
	}
	switch f.JSON {
	case "":
	case "number":
		if slice || (base != "decimal" && base != "int") {
			v.errf(f.Line, "%sjson: number applies to decimal fields only", where)
		}
	case "string":
		if slice || base != "int" {
			v.errf(f.Line, "%sjson: string applies to int fields only", where)
		}
	default:
		v.errf(f.Line, "%sjson must be string or number, not %q", where, f.JSON)
	}
}

func (v *validator) stream(s *Stream, types map[string]*Type, enums map[string]*Enum, routes, arrays map[string]bool, goNames *unique, where string) {
	where = fmt.Sprintf("%sstream %q: ", where, s.Name)
	v.name(s.Line, "stream", s.Name, "")
	goName := GoName(s.Name)
	if s.Go != "" {
		goName = s.Go
		v.goName(s.Line, s.Go, where)
	}
	v.unique(goNames, goName+"Params", s.Line, where)
	if name := s.Payload + "s"; s.Array && !arrays[name] { // the slice type of array payloads
		arrays[name] = true
		v.unique(goNames, name, s.Line, where)
	}
	if t := types[s.Payload]; t == nil {
		v.errf(s.Line, "%spayload %q is not a type of this market", where, s.Payload)
	} else if t.Tuple && !s.Array {
		v.errf(s.Line, "%spayload %q is a tuple; a single payload must be an object (an array stream may carry tuples)", where, s.Payload)
	}
	if s.Either && !s.Array {
		v.errf(s.Line, "%seither applies to array streams only", where)
	}
	if s.Route != "" && !routes[s.Route] {
		v.errf(s.Line, "%sroute %q is not one of the market's routes", where, s.Route)
	}
	if s.Route == "" && len(routes) > 0 {
		v.errf(s.Line, "%sno route; the market's streams each need one", where)
	}

	tmpl, err := wire.ParseTemplate(s.Template)
	if err != nil {
		v.errf(s.Line, "%stemplate %q: %v", where, s.Template, err)
		return
	}
	inTemplate := map[string]bool{}
	for _, p := range tmpl.Params() {
		inTemplate[p] = true
	}
	optional := optionalParams(tmpl.Parts, false, map[string]bool{})
	params := unique{what: "parameter"}
	for _, p := range s.Params {
		pw := fmt.Sprintf("%sparameter %q: ", where, p.Name)
		v.unique(&params, p.Name, p.Line, where)
		v.name(p.Line, "parameter", p.Name, where)
		if !inTemplate[p.Name] {
			v.errf(p.Line, "%snot used in template %q", pw, s.Template)
		}
		if p.Optional != optional[p.Name] && inTemplate[p.Name] {
			if p.Optional {
				v.errf(p.Line, "%soptional, but not inside [...] in template %q", pw, s.Template)
			} else {
				v.errf(p.Line, "%sinside [...] in template %q, but not optional", pw, s.Template)
			}
		}
		switch e := enums[p.Type]; {
		case p.Type == "symbol", p.Type == "string":
			if p.Default != "" {
				v.errf(p.Line, "%sdefault applies to enum parameters only", pw)
			}
		case e != nil:
			if p.Default != "" && !contains(e.Values, p.Default) {
				v.errf(p.Line, "%sdefault %q is not a value of enum %s (allowed: %s)", pw, p.Default, e.Name, strings.Join(e.Values, ", "))
			}
		default:
			v.errf(p.Line, "%stype %q is not symbol, string or an enum of this market", pw, p.Type)
		}
		if p.Pattern != "" {
			if _, err := regexp.Compile(p.Pattern); err != nil {
				v.errf(p.Line, "%spattern: %v", pw, err)
			}
		}
	}
	for _, name := range tmpl.Params() {
		if _, ok := params.lines[name]; !ok {
			v.errf(s.Line, "%stemplate parameter <%s> has no definition", where, name)
		}
	}
	for _, part := range tmpl.Parts {
		if part.Optional != nil && !oneParam(part.Optional) {
			v.errf(s.Line, "%stemplate %q: each [...] part must hold exactly one parameter and no nested [...]", where, s.Template)
		}
	}
}

// optionalParams marks the parameters inside optional groups.
func optionalParams(parts []wire.Part, inGroup bool, out map[string]bool) map[string]bool {
	for _, p := range parts {
		if p.Param != "" {
			out[p.Param] = inGroup
		}
		optionalParams(p.Optional, true, out)
	}
	return out
}

// oneParam reports whether an optional group holds exactly one parameter
// and no nested group.
func oneParam(group []wire.Part) bool {
	n := 0
	for _, q := range group {
		if q.Optional != nil {
			return false
		}
		if q.Param != "" {
			n++
		}
	}
	return n == 1
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
