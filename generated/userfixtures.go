package generated

import (
	"encoding/json"
	"path"
	"sort"
	"strings"
)

// UserFixture is one example of an event of a market's dispatch group, such
// as user-data (account) events, from testdata/<market>/<group>/<name>.json.
type UserFixture struct {
	Name string          // file name without .json, e.g. "execution_report"
	Data json.RawMessage // the bare event payload
}

// UserFixtures returns the example user-data events of a market, in
// file-name order, or nil when the market has none. Fixtures of every event
// kind of the schema are included, plus one of a kind the schema does not
// know ("unknown_kind").
func UserFixtures(market string) []UserFixture { return GroupFixtures(market, "user") }

// GroupFixtures returns the example events of a market's dispatch group, as
// its Decode<Group> function takes them, in file-name order.
func GroupFixtures(market, group string) []UserFixture {
	dir := path.Join("testdata", market, group)
	entries, err := testdata.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []UserFixture
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if e.IsDir() || !ok {
			continue
		}
		b, err := testdata.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		var f struct {
			Decoder string          `json:"decoder"`
			Data    json.RawMessage `json:"data"`
		}
		if json.Unmarshal(b, &f) != nil || f.Decoder != group || len(f.Data) == 0 {
			continue
		}
		out = append(out, UserFixture{Name: name, Data: f.Data})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
