//go:build golden_update

package generated_test

// golden is empty while golden_values_test.go is being rewritten; see
// fixtures_test.go.
var golden = map[string]any{}

var goldenSkipped = map[string][]string{}
