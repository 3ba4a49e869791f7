package bench

import "testing"

// TestFloorHarness runs every receiver of BenchmarkFloor on every payload
// over a few repetitions of a short feed (the last one cut), so that the
// instruments themselves are tested by go test. The run is shorter than a
// default queue, so no receiver may lose anything.
func TestFloorHarness(t *testing.T) {
	const k, n = 100, 2*100 + 37
	for _, p := range payloads {
		fr := p.frames(k)
		for _, r := range receivers {
			t.Run(p.name+"/"+r.name, func(t *testing.T) {
				if err := runOnce(t, p, fr, r, n, nil); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}
