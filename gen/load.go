package gen

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The types in this file mirror schema/streams.yaml one to one. schema/README.md
// documents every key. Each item remembers the line it was read from so that
// validation errors can point at it.

// Schema is a loaded schema file.
type Schema struct {
	File    string    `yaml:"-"`
	Venues  []*Venue  `yaml:"venues"`
	Markets []*Market `yaml:"markets"`
}

// Venue is an exchange that hosts markets.
type Venue struct {
	Name    string   `yaml:"name"`
	Doc     string   `yaml:"doc"`
	Dialect *Dialect `yaml:"dialect"`
	Line    int      `yaml:"-"`
}

// Dialect is how a venue's stream service is spoken; it becomes
// runtime.Dialect, whose doc comments explain each setting.
type Dialect struct {
	Path        string     `yaml:"path"`
	RawPath     string     `yaml:"raw_path"`
	Subscribe   []string   `yaml:"subscribe"`
	Unsubscribe []string   `yaml:"unsubscribe"`
	Batch       int        `yaml:"batch"`
	Request     string     `yaml:"request"`
	ReplyID     string     `yaml:"reply_id"`
	Result      string     `yaml:"result"`
	Ack         []string   `yaml:"ack"`
	Errors      []string   `yaml:"errors"`
	Key         [][]string `yaml:"key"`
	Data        string     `yaml:"data"`
	Shutdown    []string   `yaml:"shutdown"`
	Ignore      []string   `yaml:"ignore"`
	Unsolicited bool       `yaml:"unsolicited"`
	KeepAlive   *KeepAlive `yaml:"keepalive"`
	ProbePing   bool       `yaml:"probe_ping"` // the server answers client WebSocket ping frames
	Probe       string     `yaml:"probe"`      // a text message the server answers, for venues without ping frames
	Auth        *Auth      `yaml:"auth"`
	Line        int        `yaml:"-"`
}

// KeepAlive is a message the client sends on a timer.
type KeepAlive struct {
	Message string `yaml:"message"`
	Every   string `yaml:"every"`
	Line    int    `yaml:"-"`
}

// Auth is the venue's login message and the frames that confirm it.
type Auth struct {
	Message string   `yaml:"message"`
	OK      []string `yaml:"ok"`
	Line    int      `yaml:"-"`
}

// Market is one market of a venue; it becomes one Go package.
type Market struct {
	Name      string      `yaml:"name"`
	Venue     string      `yaml:"venue"`
	Doc       string      `yaml:"doc"`
	EventKey  string      `yaml:"event_key"`
	Endpoints []*Endpoint `yaml:"endpoints"`
	Routes    []string    `yaml:"routes"`
	Limits    Limits      `yaml:"limits"`
	Enums     []*Enum     `yaml:"enums"`
	Types     []*Type     `yaml:"types"`
	Streams   []*Stream   `yaml:"streams"`
	Dispatch  []*Dispatch `yaml:"dispatch"`
	User      *UserStream `yaml:"user_stream"`
	OrderBook *OrderBook  `yaml:"order_book"`
	Line      int         `yaml:"-"`
}

// OrderBook says how a local order book of the market is kept: the REST
// depth snapshot and the diff stream that follows it. It becomes the
// market package's OrderBook variable (orderbook.Spec).
type OrderBook struct {
	Diff            string            `yaml:"diff"`        // the diff stream's name
	DiffParams      map[string]string `yaml:"diff_params"` // its parameters besides symbol
	Bids            string            `yaml:"bids"`        // wire key of the changed bids in its payload
	Asks            string            `yaml:"asks"`        // wire key of the changed asks
	First           string            `yaml:"first"`       // next or covering (orderbook.FirstRule)
	Path            string            `yaml:"path"`        // REST path of the snapshot
	REST            []*Endpoint       `yaml:"rest"`        // REST hosts, named like endpoints
	UpdateID        string            `yaml:"update_id"`   // member of the snapshot holding its update id
	Limit           *BookLimit        `yaml:"limit"`
	Weights         []*BookWeight     `yaml:"weights"`
	WeightPerMinute int               `yaml:"weight_per_minute"`
	Snapshots       []*BookSnapshot   `yaml:"snapshots"` // streams whose messages are the top of the book whole
	Line            int               `yaml:"-"`
}

// BookSnapshot is a stream whose every message holds the top levels of
// both sides whole (a partial-depth stream): it becomes one of the Spec's
// Snapshots (orderbook.SnapshotSpec), kept by orderbook.OpenSnapshot.
type BookSnapshot struct {
	Stream string            `yaml:"stream"` // the stream's name
	Params map[string]string `yaml:"params"` // its parameters besides symbol and levels
	Levels string            `yaml:"levels"` // the parameter choosing the levels per side (an enum of integers)
	// DefaultLevels is the levels per side the stream sends when its
	// optional levels parameter is left empty (0: the parameter is needed).
	DefaultLevels int `yaml:"default_levels"`
	// FixedLevels is the levels per side of a stream that has no levels
	// parameter (its depth is fixed); give either it or levels.
	FixedLevels int    `yaml:"fixed_levels"`
	Bids        string `yaml:"bids"`      // wire key of the bid levels in its payload
	Asks        string `yaml:"asks"`      // wire key of the ask levels
	UpdateID    string `yaml:"update_id"` // wire key of the message's update id (its sequence's id or last)
	Line        int    `yaml:"-"`
}

// BookLimit is the limit parameter of a depth snapshot: its default and
// either any value up to max or a list of values.
type BookLimit struct {
	Default int   `yaml:"default"`
	Max     int   `yaml:"max"`
	Values  []int `yaml:"values"`
	Line    int   `yaml:"-"`
}

// BookWeight is the request weight of the limits up to UpTo.
type BookWeight struct {
	UpTo   int `yaml:"up_to"`
	Weight int `yaml:"weight"`
	Line   int `yaml:"-"`
}

// UserStream says how a market's user-data stream is opened.
type UserStream struct {
	REST          []*Endpoint `yaml:"rest"`
	ListenKeyPath string      `yaml:"listen_key_path"`
	KeepAlive     string      `yaml:"keepalive"`
	Validity      string      `yaml:"validity"`
	Route         string      `yaml:"route"`
	WSAPI         []*Endpoint `yaml:"ws_api"`
	Line          int         `yaml:"-"`
}

// Dispatch is a group of event types told apart by a key in the payload.
type Dispatch struct {
	Name    string   `yaml:"name"`
	Key     string   `yaml:"key"`
	Data    string   `yaml:"data"`
	Default string   `yaml:"default"`
	Doc     string   `yaml:"doc"`
	Types   []string `yaml:"types"`
	Line    int      `yaml:"-"`
}

// Endpoint is a named base URL.
type Endpoint struct {
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	Line int    `yaml:"-"`
}

// Limits are the exchange's per-connection limits.
type Limits struct {
	StreamsPerConnection     int    `yaml:"streams_per_connection"`
	ControlMessagesPerSecond int    `yaml:"control_messages_per_second"`
	ConnectionLifetime       string `yaml:"connection_lifetime"`
	PingInterval             string `yaml:"ping_interval"`
	PongDeadline             string `yaml:"pong_deadline"`
	// ConnectionAttempts is the most new connections the venue accepts
	// from one client (IP) in a window; nil when it states none.
	ConnectionAttempts *Attempts `yaml:"connection_attempts"`
	Line               int       `yaml:"-"`
}

// Attempts is a count per window, such as {count: 300, per: 5m}.
type Attempts struct {
	Count int    `yaml:"count"`
	Per   string `yaml:"per"`
	Line  int    `yaml:"-"`
}

// Enum is a closed set of string values.
type Enum struct {
	Name   string            `yaml:"name"`
	Doc    string            `yaml:"doc"`
	Values []string          `yaml:"values"`
	Names  map[string]string `yaml:"names"`
	Line   int               `yaml:"-"`
}

// Type is an object (or tuple) carried in payloads.
type Type struct {
	Name       string   `yaml:"name"`
	Doc        string   `yaml:"doc"`
	Event      string   `yaml:"event"`
	Events     []string `yaml:"events"` // instead of event: every value of event_key the type is sent with
	Tuple      bool     `yaml:"tuple"`
	Deprecated string   `yaml:"deprecated"`
	Fields     []*Field `yaml:"fields"`
	Line       int      `yaml:"-"`
}

// Field is one field of a Type.
type Field struct {
	Key        string `yaml:"key"`
	Name       string `yaml:"name"`
	Go         string `yaml:"go"`
	Type       string `yaml:"type"`
	JSON       string `yaml:"json"`
	Optional   bool   `yaml:"optional"`
	Nullable   bool   `yaml:"nullable"`
	Doc        string `yaml:"doc"`
	Deprecated string `yaml:"deprecated"`
	Line       int    `yaml:"-"`
}

// Stream is one subscribable stream.
type Stream struct {
	Name       string   `yaml:"name"`
	Go         string   `yaml:"go"`
	Template   string   `yaml:"template"`
	Params     []*Param `yaml:"params"`
	Payload    string   `yaml:"payload"`
	Array      bool     `yaml:"array"`
	Either     bool     `yaml:"either"`
	Route      string   `yaml:"route"`
	Speed      string   `yaml:"speed"`
	Doc        string   `yaml:"doc"`
	Deprecated string   `yaml:"deprecated"`
	// How the runtime addresses the stream (see the venue's dialect).
	Key      string            `yaml:"key"`      // template of its frames' routing key; default the name template
	Vars     map[string]string `yaml:"vars"`     // templates of message placeholders beyond the parameters
	Auth     bool              `yaml:"auth"`     // needs the venue's login
	Dispatch string            `yaml:"dispatch"` // a dispatch group that decodes its frames whole
	Sequence *Sequence         `yaml:"sequence"` // the payload fields that order its events
	Line     int               `yaml:"-"`
}

// Sequence declares which payload fields order and identify a stream's
// events, and what kind of order they give (runtime.SeqKind): kind none,
// consecutive, linked, increasing or time; id for a single key, or first
// and last for a range; prev (linked only) for the last of the previous
// event. Keys are wire keys of the payload type, dotted for nested objects
// ("k.t"), element indexes for tuples ("0").
type Sequence struct {
	Kind  string `yaml:"kind"`
	ID    string `yaml:"id"`
	First string `yaml:"first"`
	Last  string `yaml:"last"`
	Prev  string `yaml:"prev"`
	Line  int    `yaml:"-"`
}

// Param is a placeholder of a stream-name template.
type Param struct {
	Name     string `yaml:"name"`
	Type     string `yaml:"type"`
	Pattern  string `yaml:"pattern"`
	Optional bool   `yaml:"optional"`
	Default  string `yaml:"default"`
	Doc      string `yaml:"doc"`
	Line     int    `yaml:"-"`
}

// Each schema type decodes strictly (unknown keys are errors) and records
// its line. yaml.v3 loses KnownFields inside custom unmarshalers, so the key
// check is done here, from the struct tags.

func (v *Schema) UnmarshalYAML(n *yaml.Node) error {
	type plain Schema
	return strict(n, (*plain)(v), nil, "schema")
}

func (v *Venue) UnmarshalYAML(n *yaml.Node) error {
	type plain Venue
	return strict(n, (*plain)(v), &v.Line, "venue")
}

func (v *Dialect) UnmarshalYAML(n *yaml.Node) error {
	type plain Dialect
	return strict(n, (*plain)(v), &v.Line, "dialect")
}

func (v *KeepAlive) UnmarshalYAML(n *yaml.Node) error {
	type plain KeepAlive
	return strict(n, (*plain)(v), &v.Line, "keepalive")
}

func (v *Auth) UnmarshalYAML(n *yaml.Node) error {
	type plain Auth
	return strict(n, (*plain)(v), &v.Line, "auth")
}

func (v *Market) UnmarshalYAML(n *yaml.Node) error {
	type plain Market
	return strict(n, (*plain)(v), &v.Line, "market")
}

func (v *Endpoint) UnmarshalYAML(n *yaml.Node) error {
	type plain Endpoint
	return strict(n, (*plain)(v), &v.Line, "endpoint")
}

func (v *Limits) UnmarshalYAML(n *yaml.Node) error {
	type plain Limits
	return strict(n, (*plain)(v), &v.Line, "limits")
}

func (v *Attempts) UnmarshalYAML(n *yaml.Node) error {
	type plain Attempts
	return strict(n, (*plain)(v), &v.Line, "connection_attempts")
}

func (v *Sequence) UnmarshalYAML(n *yaml.Node) error {
	type plain Sequence
	return strict(n, (*plain)(v), &v.Line, "sequence")
}

func (v *Enum) UnmarshalYAML(n *yaml.Node) error {
	type plain Enum
	return strict(n, (*plain)(v), &v.Line, "enum")
}

func (v *Type) UnmarshalYAML(n *yaml.Node) error {
	type plain Type
	return strict(n, (*plain)(v), &v.Line, "type")
}

func (v *Field) UnmarshalYAML(n *yaml.Node) error {
	type plain Field
	return strict(n, (*plain)(v), &v.Line, "field")
}

func (v *Stream) UnmarshalYAML(n *yaml.Node) error {
	type plain Stream
	return strict(n, (*plain)(v), &v.Line, "stream")
}

func (v *Dispatch) UnmarshalYAML(n *yaml.Node) error {
	type plain Dispatch
	return strict(n, (*plain)(v), &v.Line, "dispatch")
}

func (v *UserStream) UnmarshalYAML(n *yaml.Node) error {
	type plain UserStream
	return strict(n, (*plain)(v), &v.Line, "user_stream")
}

func (v *OrderBook) UnmarshalYAML(n *yaml.Node) error {
	type plain OrderBook
	return strict(n, (*plain)(v), &v.Line, "order_book")
}

// UnmarshalYAML decodes a BookSnapshot, rejecting unknown keys.
func (v *BookSnapshot) UnmarshalYAML(n *yaml.Node) error {
	type plain BookSnapshot
	return strict(n, (*plain)(v), &v.Line, "order_book snapshot")
}

func (v *BookLimit) UnmarshalYAML(n *yaml.Node) error {
	type plain BookLimit
	return strict(n, (*plain)(v), &v.Line, "limit")
}

func (v *BookWeight) UnmarshalYAML(n *yaml.Node) error {
	type plain BookWeight
	return strict(n, (*plain)(v), &v.Line, "weight")
}

func (v *Param) UnmarshalYAML(n *yaml.Node) error {
	type plain Param
	return strict(n, (*plain)(v), &v.Line, "param")
}

// strict decodes mapping node n into v (a pointer to a struct) after checking
// that every key is one of the struct's yaml tags.
func strict(n *yaml.Node, v any, line *int, kind string) error {
	t := reflect.TypeOf(v).Elem()
	if n.Kind != yaml.MappingNode {
		return &posError{n.Line, fmt.Sprintf("expected a mapping for %s, got %s", kind, nodeKind(n))}
	}
	known := yamlKeys(t)
	for i := 0; i < len(n.Content); i += 2 {
		k := n.Content[i]
		if _, ok := known[k.Value]; !ok {
			names := make([]string, 0, len(known))
			for name := range known {
				names = append(names, name)
			}
			sort.Strings(names)
			return &posError{k.Line, fmt.Sprintf("unknown key %q in %s (known keys: %s)", k.Value, kind, strings.Join(names, ", "))}
		}
	}
	if line != nil {
		*line = n.Line
	}
	return n.Decode(v)
}

func yamlKeys(t reflect.Type) map[string]struct{} {
	keys := map[string]struct{}{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			keys[name] = struct{}{}
		}
	}
	return keys
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// posError is an error at a line of the schema file.
type posError struct {
	Line int
	Msg  string
}

func (e *posError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// ErrorList is every problem found in a schema, each prefixed with file:line.
type ErrorList []string

func (l ErrorList) Error() string { return strings.Join(l, "\n") }

// yamlLine matches the "line N: " prefix yaml.v3 puts on its type errors.
var yamlLine = regexp.MustCompile(`^line (\d+): `)

// LoadFile reads and decodes a schema file strictly. It does not validate
// references between items; Validate does.
func LoadFile(path string) (*Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Load(path, data)
}

// Load decodes schema text; name is used in error messages.
func Load(name string, data []byte) (*Schema, error) {
	var s Schema
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&s); err != nil {
		return nil, loadError(name, err)
	}
	s.File = name
	return &s, nil
}

// loadError turns yaml and strict-decoding errors into file:line messages.
func loadError(name string, err error) error {
	var pe *posError
	if errors.As(err, &pe) {
		return ErrorList{fmt.Sprintf("%s:%d: %s", name, pe.Line, pe.Msg)}
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var l ErrorList
		for _, msg := range te.Errors {
			if m := yamlLine.FindStringSubmatch(msg); m != nil {
				n, _ := strconv.Atoi(m[1])
				msg = fmt.Sprintf("%s:%d: %s", name, n, msg[len(m[0]):])
			} else {
				msg = name + ": " + msg
			}
			l = append(l, msg)
		}
		return l
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return ErrorList{fmt.Sprintf("%s:%s: %s", name, m[1], msg[len(m[0]):])}
	}
	return ErrorList{name + ": " + msg}
}
