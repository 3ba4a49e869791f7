package gen

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/marketwire/marketwire/wire"
)

// The model is the schema resolved for emission: every node carries its final
// Go name, its Go type and its doc lines. Emitters read it and invent nothing.

// Model is a validated schema ready to emit.
type Model struct {
	File    string
	Markets []*MarketModel
}

// MarketModel is one generated package.
type MarketModel struct {
	Name      string // schema name and Go package name
	Venue     string
	Dialect   *Dialect // the venue's, as in the schema
	Doc       string
	EventKey  string
	Endpoints []*Endpoint
	Routes    []string
	Limits    LimitsModel
	Enums     []*EnumModel
	Types     []*TypeModel
	Streams   []*StreamModel
	Arrays    []*TypeModel // payload types some stream delivers as a JSON array
	Dispatch  []*DispatchModel
	User      *UserStream // as in the schema, durations validated
	OrderBook *OrderBookModel
}

// OrderBookModel is a market's order_book block resolved: the diff stream
// (nil when the block has snapshot streams only) and the Go names of its
// parameters and level fields.
type OrderBookModel struct {
	Diff       *StreamModel
	DiffParams []BookParam // values of the diff stream's parameters besides symbol, in parameter order
	Bids, Asks string      // Go names of the payload fields holding the changed levels
	Level      *TypeModel  // the tuple type of one level
	First      string      // orderbook.FirstRule constant name
	Snapshots  []*BookSnapshotModel
	Source     string
	*OrderBook // the rest, as in the schema
}

// BookSnapshotModel is one of an order_book's snapshot streams resolved:
// the stream, its fixed parameters, its levels parameter and values, and
// the Go names of the payload fields it reads.
type BookSnapshotModel struct {
	Stream           *StreamModel
	Params           []BookParam // values of the parameters besides symbol and levels, in parameter order
	Levels           *ParamModel // the parameter choosing the levels per side; nil when Fixed
	LevelValues      []int       // its values and Default, or Fixed, ascending
	Default          int         // levels per side when the optional Levels is left empty; 0: none
	Fixed            int         // levels per side of a stream without a levels parameter; 0: none
	Bids, Asks, UpID string      // Go names of the payload fields holding the levels and the update id
	Level            *TypeModel  // the tuple type of one level
}

// BookParam is a fixed parameter value of the order book's diff stream.
type BookParam struct {
	Param *ParamModel
	Value string
}

// DispatchModel is a group of events chosen by a key in the payload.
type DispatchModel struct {
	Name    string // schema name, e.g. "user"
	GoName  string // e.g. "User": the function is DecodeUser
	Key     string
	Data    string     // key of the payload in the frame; "" when the frame is the payload
	Default *TypeModel // type of frames without Key; nil makes them an error
	Doc     string
	Types   []*TypeModel
}

// LimitsModel holds parsed limits.
type LimitsModel struct {
	StreamsPerConnection     int
	ControlMessagesPerSecond int
	ConnectionLifetime       time.Duration
	PingInterval             time.Duration
	PongDeadline             time.Duration
	ConnectionAttempts       int
	ConnectionWindow         time.Duration
}

// EnumModel is a typed string enum.
type EnumModel struct {
	GoName string
	Doc    string
	Values []EnumValue
	Source string
}

// EnumValue is one constant of an enum.
type EnumValue struct {
	Wire   string
	GoName string
}

// TypeModel is a struct type.
type TypeModel struct {
	GoName     string
	ErrName    string // name used in decode errors: the event value, or the Go name
	Doc        string
	Event      string
	Kinds      []string // the values of the market's event key the decoder accepts (event or events); nil: not checked
	Tuple      bool
	Deprecated string
	Fields     []*FieldModel
	Source     string
	ArrayName  string // Go name of the slice type when delivered as an array
	Either     bool   // the slice type also accepts a single object
}

// FieldModel is one struct field.
type FieldModel struct {
	Key        string // wire key; empty in tuples
	GoName     string
	Doc        string
	Deprecated string
	Type       FieldType
	Pointer    bool // optional or nullable: nil when absent or null
	Optional   bool
	Nullable   bool
}

// FieldType is a resolved field type.
type FieldType struct {
	Slice  bool
	Scalar string     // one of scalarTypes, or "" for enums and structs
	JSON   string     // "string" or "number" where the wire form differs from the default
	Enum   *EnumModel // set for enum fields
	Struct *TypeModel // set for nested objects and tuples
}

// StreamModel is one stream.
type StreamModel struct {
	Name       string // schema name
	GoName     string // base of the generated names: <GoName>Params, Subscribe<GoName>
	Template   *wire.Template
	Params     []*ParamModel
	Payload    *TypeModel
	Array      bool
	Route      string
	Speed      string
	Doc        string
	Deprecated string
	Source     string
	Key        *wire.Template // routing key of its frames; nil when it is the name
	Vars       []VarModel     // message placeholders beyond the parameters, by name
	Auth       bool
	Dispatch   *DispatchModel // decodes its frames whole; nil for the payload decoder
	Sequence   SeqModel
}

// SeqModel is a stream's sequence key: its kind (a runtime.SeqKind name)
// and the key paths of the fields; First and Last are the same for a single
// id, Prev is set for linked keys only.
type SeqModel struct {
	Kind              string
	First, Last, Prev string
}

// VarModel is one message placeholder of a stream.
type VarModel struct {
	Name     string
	Template *wire.Template
}

// ParamModel is one stream parameter.
type ParamModel struct {
	Name     string // as in the template
	GoName   string
	Type     string     // "symbol", "string" or "enum"
	Enum     *EnumModel // for enum parameters
	Pattern  string
	Optional bool
	Default  string
	Doc      string
}

// PayloadGoType is the Go type a stream's handler receives.
func (s *StreamModel) PayloadGoType() string {
	if s.Array {
		return s.Payload.ArrayName
	}
	return s.Payload.GoName
}

// NewModel builds the model of a schema that Validate accepted.
func NewModel(s *Schema) (*Model, error) {
	if err := Validate(s); err != nil {
		return nil, err
	}
	m := &Model{File: repoRelative(s.File)}
	dialect := map[string]*Dialect{}
	for _, v := range s.Venues {
		dialect[v.Name] = v.Dialect
	}
	for _, sm := range s.Markets {
		mm := newMarket(m.File, sm)
		mm.Dialect = dialect[sm.Venue]
		m.Markets = append(m.Markets, mm)
	}
	return m, nil
}

func newMarket(file string, sm *Market) *MarketModel {
	mm := &MarketModel{
		Name: sm.Name, Venue: sm.Venue, Doc: sm.Doc, EventKey: sm.EventKey,
		Endpoints: sm.Endpoints, Routes: sm.Routes, User: sm.User,
		Limits: LimitsModel{
			StreamsPerConnection:     sm.Limits.StreamsPerConnection,
			ControlMessagesPerSecond: sm.Limits.ControlMessagesPerSecond,
			ConnectionLifetime:       duration(sm.Limits.ConnectionLifetime),
			PingInterval:             duration(sm.Limits.PingInterval),
			PongDeadline:             duration(sm.Limits.PongDeadline),
		},
	}
	if a := sm.Limits.ConnectionAttempts; a != nil {
		mm.Limits.ConnectionAttempts, mm.Limits.ConnectionWindow = a.Count, duration(a.Per)
	}
	source := func(kind, name string) string {
		return fmt.Sprintf("%s, market %s, %s %s", file, sm.Name, kind, name)
	}
	enums := map[string]*EnumModel{}
	for _, e := range sm.Enums {
		em := &EnumModel{GoName: e.Name, Doc: e.Doc, Source: source("enum", e.Name)}
		for _, v := range e.Values {
			suffix := constSuffix(v)
			if n, ok := e.Names[v]; ok {
				suffix = n
			}
			em.Values = append(em.Values, EnumValue{Wire: v, GoName: e.Name + suffix})
		}
		enums[e.Name] = em
		mm.Enums = append(mm.Enums, em)
	}
	types := map[string]*TypeModel{}
	for _, t := range sm.Types {
		tm := &TypeModel{GoName: t.Name, ErrName: t.Name, Doc: t.Doc, Event: t.Event, Tuple: t.Tuple,
			Deprecated: t.Deprecated, Source: source("type", t.Name)}
		if t.Event != "" {
			tm.ErrName = t.Event
			tm.Kinds = []string{t.Event}
		} else if len(t.Events) > 0 {
			tm.Kinds = t.Events
		}
		types[t.Name] = tm
		mm.Types = append(mm.Types, tm)
	}
	for i, t := range sm.Types {
		tm := mm.Types[i]
		for _, f := range t.Fields {
			goName := GoName(f.Name)
			if f.Go != "" {
				goName = f.Go
			}
			name, slice := strings.CutPrefix(f.Type, "[]")
			ft := FieldType{Slice: slice, JSON: f.JSON, Enum: enums[name], Struct: types[name]}
			if scalarTypes[name] {
				ft.Scalar = name
			}
			tm.Fields = append(tm.Fields, &FieldModel{
				Key: f.Key, GoName: goName, Doc: f.Doc, Deprecated: f.Deprecated, Type: ft,
				Pointer: (f.Optional || f.Nullable) && !slice, Optional: f.Optional, Nullable: f.Nullable,
			})
		}
	}
	for _, s := range sm.Streams {
		goName := GoName(s.Name)
		if s.Go != "" {
			goName = s.Go
		}
		st := &StreamModel{
			Name: s.Name, GoName: goName, Template: wire.MustTemplate(s.Template),
			Payload: types[s.Payload], Array: s.Array, Route: s.Route, Speed: s.Speed,
			Doc: s.Doc, Deprecated: s.Deprecated, Source: source("stream", s.Name),
		}
		for _, p := range s.Params {
			pm := &ParamModel{Name: p.Name, GoName: GoName(p.Name), Type: p.Type, Pattern: p.Pattern,
				Optional: p.Optional, Default: p.Default, Doc: p.Doc}
			if e := enums[p.Type]; e != nil {
				pm.Type, pm.Enum = "enum", e
			}
			st.Params = append(st.Params, pm)
		}
		if s.Array && st.Payload.ArrayName == "" {
			st.Payload.ArrayName = st.Payload.GoName + "s"
			mm.Arrays = append(mm.Arrays, st.Payload)
		}
		st.Payload.Either = st.Payload.Either || s.Either
		if s.Key != "" && s.Key != s.Template {
			st.Key = wire.MustTemplate(s.Key)
		}
		for _, name := range sortedKeys(s.Vars) {
			st.Vars = append(st.Vars, VarModel{Name: name, Template: wire.MustTemplate(s.Vars[name])})
		}
		st.Auth = s.Auth
		if q := s.Sequence; q != nil {
			st.Sequence = SeqModel{Kind: q.Kind, First: q.First, Last: q.Last, Prev: q.Prev}
			if q.ID != "" {
				st.Sequence.First, st.Sequence.Last = q.ID, q.ID
			}
		}
		mm.Streams = append(mm.Streams, st)
	}
	for _, g := range sm.Dispatch {
		dm := &DispatchModel{Name: g.Name, GoName: GoName(g.Name), Key: g.Key, Data: g.Data, Default: types[g.Default], Doc: g.Doc}
		for _, name := range g.Types {
			dm.Types = append(dm.Types, types[name])
		}
		mm.Dispatch = append(mm.Dispatch, dm)
	}
	if b := sm.OrderBook; b != nil {
		mm.OrderBook = newOrderBook(mm, b, source("order_book", "of "+sm.Name))
	}
	for i, s := range sm.Streams {
		for _, g := range mm.Dispatch {
			if g.Name == s.Dispatch {
				mm.Streams[i].Dispatch = g
			}
		}
	}
	return mm
}

// repoRelative returns path relative to the enclosing module's root (the
// directory holding go.mod), so generated docs do not depend on where the
// generator was run from.
func repoRelative(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.ToSlash(path)
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, _ := filepath.Rel(dir, abs)
			return filepath.ToSlash(rel)
		}
		if dir == filepath.Dir(dir) {
			return filepath.Base(path)
		}
	}
}

func duration(s string) time.Duration {
	d, _ := time.ParseDuration(s) // validated
	return d
}

// param returns the stream parameter named by a template placeholder.
func (s *StreamModel) param(name string) *ParamModel {
	for _, p := range s.Params {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// newOrderBook resolves a validated order_book block against the market's
// streams and types.
func newOrderBook(mm *MarketModel, b *OrderBook, src string) *OrderBookModel {
	om := &OrderBookModel{First: bookFirst[b.First].constant, Source: src, OrderBook: b}
	for _, sn := range b.Snapshots {
		om.Snapshots = append(om.Snapshots, newBookSnapshot(mm, sn))
	}
	if b.Diff == "" {
		return om // snapshot streams only
	}
	for _, s := range mm.Streams {
		if s.Name == b.Diff {
			om.Diff = s
		}
	}
	for _, p := range om.Diff.Params {
		if v, ok := b.DiffParams[p.Name]; ok {
			om.DiffParams = append(om.DiffParams, BookParam{Param: p, Value: v})
		}
	}
	for _, f := range om.Diff.Payload.Fields {
		switch f.Key {
		case b.Bids:
			om.Bids, om.Level = f.GoName, f.Type.Struct
		case b.Asks:
			om.Asks = f.GoName
		}
	}
	return om
}

// newBookSnapshot resolves a validated snapshot stream of an order_book.
func newBookSnapshot(mm *MarketModel, sn *BookSnapshot) *BookSnapshotModel {
	m := &BookSnapshotModel{Default: sn.DefaultLevels, Fixed: sn.FixedLevels}
	if sn.FixedLevels > 0 {
		m.LevelValues = []int{sn.FixedLevels}
	}
	for _, s := range mm.Streams {
		if s.Name == sn.Stream {
			m.Stream = s
		}
	}
	for _, p := range m.Stream.Params {
		if p.Name == sn.Levels {
			m.Levels = p
			for _, ev := range p.Enum.Values {
				n, _ := strconv.Atoi(ev.Wire)
				m.LevelValues = append(m.LevelValues, n)
			}
			if sn.DefaultLevels > 0 {
				m.LevelValues = append(m.LevelValues, sn.DefaultLevels)
			}
			slices.Sort(m.LevelValues)
		} else if v, ok := sn.Params[p.Name]; ok {
			m.Params = append(m.Params, BookParam{Param: p, Value: v})
		}
	}
	for _, f := range m.Stream.Payload.Fields {
		switch f.Key {
		case sn.Bids:
			m.Bids, m.Level = f.GoName, f.Type.Struct
		case sn.Asks:
			m.Asks = f.GoName
		case sn.UpdateID:
			m.UpID = f.GoName
		}
	}
	return m
}
