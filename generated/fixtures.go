package generated

import (
	"embed"
	"encoding/json"
	"path"
	"sort"
)

//go:embed testdata
var testdata embed.FS

// Kinds returns the stream kinds of a market that have fixtures, sorted.
func Kinds(market string) []string {
	entries, err := testdata.ReadDir(path.Join("testdata", market))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && len(Fixtures(market, e.Name())) > 0 {
			out = append(out, e.Name())
		}
	}
	return out
}

// Fixture is one recorded example of a stream's payload.
type Fixture struct {
	Name   string          `json:"-"` // file name, e.g. "reference.json"
	Stream string          // wire stream name it was received on
	Data   json.RawMessage // the payload
}

// Fixtures returns the example payloads of one stream kind (its schema name,
// such as "aggTrade") of a market: reference.json (the exchange's documented
// example) first, then the others in file-name order. Files named seq1.json,
// seq2.json, ... are consecutive events of one wire stream, in order.
func Fixtures(market, kind string) []Fixture {
	dir := path.Join("testdata", market, kind)
	entries, err := testdata.ReadDir(dir)
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == "reference.json") != (names[j] == "reference.json") {
			return names[i] == "reference.json"
		}
		return names[i] < names[j]
	})
	var out []Fixture
	for _, name := range names {
		data, err := testdata.ReadFile(path.Join(dir, name))
		if err != nil {
			continue
		}
		f := Fixture{Name: name}
		if json.Unmarshal(data, &f) == nil && f.Stream != "" {
			out = append(out, f)
		}
	}
	return out
}
